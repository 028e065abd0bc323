"""How mail reaches a real server (aiosmtpd on a local port), on both databases: STARTTLS and
TLS from the start, each with a login whose password comes from $PICKER_SMTP_PASSWORD and a
certificate trusted through ``[notify] smtp_cafile``; a server that takes the connection and
never answers is a passing failure once ``[notify] timeout_s`` ran out."""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from picker.config import Settings
from picker.services.notify.dispatcher import dispatch_due
from picker.services.notify.mail import PASSWORD_ENV
from tests.services.floor.test_picking import clock
from tests.services.notify.smtp_sink import free_port, smtp_server
from tests.services.notify.test_dispatch import accepted_orders, mailing, statuses

USER, PASSWORD = "orders", "s3cret pass"


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1 (made by openssl, as an admin would)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "server.pem", folder / "server.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    return Certificate(cert, key)


@dataclass
class Logins:
    """The server's side of the login: who tried, with what, over TLS or not."""

    tried: list[tuple[str, str, bool]] = field(default_factory=list)

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = data.login.decode(), data.password.decode()
        tls = server.transport.get_extra_info("ssl_object") is not None
        self.tried.append((user, password, tls))
        ok = (user, password) == (USER, PASSWORD)
        return AuthResult(success=ok, handled=False, auth_data=data)  # refused: 535


def over(settings: Settings, url: str, **notify: object) -> Settings:
    return replace(settings, notify=replace(settings.notify, smtp_url=url, user=USER, **notify))  # type: ignore[arg-type]


def test_starttls_with_a_login_sends_over_tls_and_a_wrong_password_waits(
    floor, settings, certificate, monkeypatch
) -> None:
    logins = Logins()
    with smtp_server(tls_context=certificate.server_context(), require_starttls=True,
                     authenticator=logins, auth_require_tls=True) as (port, sink):  # fmt: skip
        url = f"smtp+starttls://127.0.0.1:{port}"
        mail = over(mailing(settings, port), url, smtp_cafile=certificate.cert)
        accepted_orders(floor, mail, 2)
        monkeypatch.setenv(PASSWORD_ENV, "wrong")
        refused = dispatch_due(floor, mail, clock=clock)
        assert not refused.sent and not refused.failed and len(refused.released) == 1
        assert refused.retrying[0][1].startswith("the server refused the login: 535")
        monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
        done = dispatch_due(floor, mail, clock=lambda: clock().replace(hour=23))
        assert len(done.sent) == 2 and sink.count() == 2
        # smtplib tries each way of logging in the server offers: all inside TLS, the
        # password from the environment each time
        assert logins.tried[-1] == (USER, PASSWORD, True)
        assert {p for _, p, _ in logins.tried} == {"wrong", PASSWORD}
        assert all(tls for _, _, tls in logins.tried)
    assert statuses(floor) == {"sent": 2}


def test_smtps_with_a_login_sends_and_an_untrusted_certificate_waits(
    floor, settings, certificate, monkeypatch
) -> None:
    logins = Logins()
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    with smtp_server(ssl_context=certificate.server_context(), authenticator=logins,
                     auth_require_tls=False) as (port, sink):  # fmt: skip
        url = f"smtps://127.0.0.1:{port}"
        untrusted = over(mailing(settings, port), url)  # the system's CAs: not this one
        accepted_orders(floor, untrusted, 2)
        waits = dispatch_due(floor, untrusted, clock=clock)
        assert not waits.sent and not waits.failed and len(waits.retrying) == 1
        assert waits.retrying[0][1].startswith("TLS with the mail server failed")
        assert "CERTIFICATE_VERIFY_FAILED" in waits.retrying[0][1] and not logins.tried
        trusted = over(mailing(settings, port), url, smtp_cafile=certificate.cert)
        done = dispatch_due(floor, trusted, clock=lambda: clock().replace(hour=23))
        assert len(done.sent) == 2 and sink.count() == 2
        assert logins.tried == [(USER, PASSWORD, True)]  # one login, one connection
    assert statuses(floor) == {"sent": 2}


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A server that takes TCP connections and never says a word: its port."""
    listener = socket.create_server(("127.0.0.1", free_port()))
    taken: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                taken.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in taken:
        conn.close()
    listener.close()


def test_a_server_that_never_answers_is_a_passing_failure_after_the_timeout(
    floor, settings, silent_server
) -> None:
    mail = mailing(settings, silent_server, timeout_s=0.5)
    accepted_orders(floor, mail, 2)
    started = time.monotonic()
    done = dispatch_due(floor, mail, clock=clock)
    took = time.monotonic() - started
    assert done.retrying and done.retrying[0][1] == "the mail server did not answer in time"
    assert not done.sent and not done.failed and len(done.released) == 1  # the rest wait
    assert 0.5 <= took < 5  # the configured timeout, not smtplib's or the OS's
    assert statuses(floor) == {"queued": 2}
