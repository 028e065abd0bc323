"""Sending mail: over SMTP (stdlib ``smtplib``), or into a folder of ``.eml`` files.

``[notify] smtp_url`` names the way: ``smtp://host:port`` (plain, port 25 by default),
``smtp+starttls://host:port`` (STARTTLS, 587), ``smtps://host:port`` (TLS from the start, 465),
or ``file://FOLDER`` (one ``.eml`` file per message, written whole; for a demo floor or a
newcomer without a server). ``[notify] user`` logs in with the password in
``$PICKER_SMTP_PASSWORD`` (never in a file). The server's certificate is checked against the
system's CAs, or those of ``[notify] smtp_cafile``.

A failure is :class:`Temporary` (retried with back-off: the server is down or slow, a 4xx
reply such as greylisting) or :class:`Permanent` (a 5xx reply about this message: failed at
once, with the server's words). ``broken_connection`` on a temporary failure says that the
server itself could not be used, so the rest of a batch would fail the same way.
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Protocol

from picker.config import NotifySettings

PASSWORD_ENV = "PICKER_SMTP_PASSWORD"


class SendFailed(Exception):
    """A message could not be sent; the message says why, in the server's words if any."""

    def __init__(self, words: str, *, broken_connection: bool = False) -> None:
        super().__init__(words)
        self.words = words
        self.broken_connection = broken_connection


class Temporary(SendFailed):
    """Try again later (with back-off)."""


class Permanent(SendFailed):
    """Sending it again will not help: the message fails at once."""


class MailTransport(Protocol):
    def send(self, message: bytes, recipient: str, name: str) -> None:
        """Send ``message`` (the whole MIME message, CRLF line ends) to ``recipient``; ``name``
        is a file-safe name for it. Raises :class:`Temporary` or :class:`Permanent`."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class SmtpAddress:
    scheme: str
    host: str
    port: int


DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


def parse_smtp_url(url: str) -> SmtpAddress:
    scheme, _, rest = url.partition("://")
    rest = rest.rstrip("/")
    host, sep, port = rest.rpartition(":")
    if not sep or not port.isdigit():
        host, port = rest, ""
    host = host.strip("[]")
    return SmtpAddress(scheme, host, int(port) if port else DEFAULT_PORTS.get(scheme, 25))


def _reply(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(words.split())}".strip()


def classify(exc: BaseException) -> SendFailed:
    """An smtplib or socket error as a :class:`Temporary` or :class:`Permanent` failure."""
    if isinstance(exc, SendFailed):  # already judged (a server set up otherwise than we are)
        return exc
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        (code, text) = next(iter(exc.recipients.values()), (450, b"recipient refused"))
        words = f"the server refused the recipient: {_reply(code, text)}"
        return Permanent(words) if code >= 500 else Temporary(words)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        # The login, not this message: every message would fail until it is put right.
        return Temporary(f"the server refused the login: {_reply(exc.smtp_code, exc.smtp_error)}",
                         broken_connection=True)  # fmt: skip
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return Permanent(f"the server cannot take this message: {exc}")
    if isinstance(exc, smtplib.SMTPSenderRefused):
        words = f"the server refused the sender: {_reply(exc.smtp_code, exc.smtp_error)}"
        return Permanent(words) if exc.smtp_code >= 500 else Temporary(words)
    if isinstance(exc, smtplib.SMTPConnectError):
        return Temporary(f"the mail server would not talk: {_reply(exc.smtp_code, exc.smtp_error)}",
                         broken_connection=True)  # fmt: skip
    if isinstance(exc, smtplib.SMTPResponseException):
        words = f"the server said {_reply(exc.smtp_code, exc.smtp_error)}"
        if exc.smtp_code >= 500:
            return Permanent(words)
        return Temporary(words, broken_connection=exc.smtp_code in (421,))
    if isinstance(exc, smtplib.SMTPServerDisconnected) and not isinstance(
        exc.__context__, TimeoutError
    ):
        return Temporary(f"the mail server hung up ({exc})", broken_connection=True)
    if isinstance(exc, TimeoutError | smtplib.SMTPServerDisconnected):
        # smtplib words a reply that never came as a hang-up "…: timed out": it is not one
        return Temporary("the mail server did not answer in time", broken_connection=True)
    if isinstance(exc, ssl.SSLError):
        return Temporary(f"TLS with the mail server failed ({exc.reason or exc})",
                         broken_connection=True)  # fmt: skip
    if isinstance(exc, OSError):
        return Temporary(f"the mail server cannot be reached ({exc.strerror or exc})",
                         broken_connection=True)  # fmt: skip
    return Temporary(f"{type(exc).__name__}: {exc}", broken_connection=True)


class SmtpTransport:
    """One SMTP connection, opened at the first message and kept for the batch."""

    def __init__(self, settings: NotifySettings, *, password: str | None = None) -> None:
        self.address = parse_smtp_url(settings.smtp_url)
        self.user = settings.user
        self.password = password if password is not None else os.environ.get(PASSWORD_ENV, "")
        self.timeout = settings.timeout_s
        self.sender = parseaddr(settings.sender)[1]
        self.cafile = settings.smtp_cafile
        self._smtp: smtplib.SMTP | None = None

    def _tls(self) -> ssl.SSLContext:
        """Certificates checked, host name too: against ``[notify] smtp_cafile`` when set (a
        private CA, a self-signed server), else the system's CAs."""
        return ssl.create_default_context(cafile=str(self.cafile) if self.cafile else None)

    def _connect(self) -> smtplib.SMTP:
        a = self.address
        smtp: smtplib.SMTP
        if a.scheme == "smtps":
            smtp = smtplib.SMTP_SSL(a.host, a.port, timeout=self.timeout, context=self._tls())
        else:
            smtp = smtplib.SMTP(a.host, a.port, timeout=self.timeout)
        try:
            if smtp.sock is not None:  # commands are small and each waits for its reply
                smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            smtp.ehlo_or_helo_if_needed()
            if a.scheme == "smtp+starttls":
                if not smtp.has_extn("starttls"):
                    raise Temporary(
                        f"the mail server {a.host}:{a.port} does not offer STARTTLS, which "
                        "[notify] smtp_url (smtp+starttls://) asks for: use smtps:// or "
                        "smtp:// as that server wants, or another server",
                        broken_connection=True,
                    )
                smtp.starttls(context=self._tls())
                smtp.ehlo()
            if self.user:
                if not smtp.has_extn("auth"):
                    raise Temporary(
                        f"the mail server {a.host}:{a.port} offers no login (SMTP AUTH), yet "
                        f"[notify] user is set ({self.user})",
                        broken_connection=True,
                    )
                smtp.login(self.user, self.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: bytes, recipient: str, name: str) -> None:
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            self._smtp.sendmail(self.sender, [recipient], message)
        except smtplib.SMTPRecipientsRefused as exc:
            self._reset()
            raise classify(exc) from None
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            self._reset()
            raise classify(exc) from None
        except Exception as exc:
            self.close()
            raise classify(exc) from None

    def _reset(self) -> None:
        """After a refusal the connection goes on: RSET, or a fresh one next time."""
        if self._smtp is None:
            return
        try:
            self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.close()

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


class FolderTransport:
    """Mail written into a folder, one ``.eml`` per message (``file://`` smtp_url). The same
    message written again (a resend after a crash) replaces its own file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: bytes, recipient: str, name: str) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f"{name}.eml"
            part = path.with_suffix(".eml.part")
            part.write_bytes(message)
            os.replace(part, path)
        except OSError as exc:
            raise Temporary(
                f"the mail folder {self.folder} cannot be written ({exc.strerror or exc})",
                broken_connection=True,
            ) from None

    def close(self) -> None:
        pass


def transport_for(settings: NotifySettings) -> MailTransport:
    folder = settings.folder
    if folder is not None:
        return FolderTransport(folder)
    return SmtpTransport(settings)
