"""A real SMTP server for the tests: aiosmtpd on a local port, keeping what it receives.

It can refuse a recipient for good (550), greylist one (451 the first time), or take its time
over each message (``delay``, after the message is kept: a client killed then has delivered it
without knowing).
"""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=policy.default)  # type: ignore[return-value]

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


@dataclass
class Sink:
    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    greylist: set[str] = field(default_factory=set)
    delay: float = 0.0
    greylisted: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 <" + address + ">: no such mailbox here"
        if address in self.greylist and address not in self.greylisted:
            self.greylisted.add(address)
            return "451 4.7.1 Greylisted, please try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.received.append(
                Received(list(envelope.rcpt_tos), bytes(envelope.original_content))
            )
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 2.0.0 Message accepted for delivery"

    def count(self) -> int:
        with self.lock:
            return len(self.received)


@contextmanager
def smtp_server(
    port: int | None = None, sink: Sink | None = None, **options: Any
) -> Iterator[tuple[int, Sink]]:
    """An SMTP server on 127.0.0.1 (a free port unless named): (port, its sink). ``options``
    go to aiosmtpd's Controller and SMTP (``ssl_context`` for TLS from the start,
    ``tls_context`` for STARTTLS, ``authenticator`` for a login…)."""
    port = port or free_port()
    sink = sink or Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port, ready_timeout=10, **options)
    controller.start()
    try:
        yield port, sink
    finally:
        controller.stop()
