"""``picker bench notify``: shipped events queued in the outbox and mailed to a local SMTP sink.

The demo floor's shipped (executed and delivered) orders are told again, as if each had just
left: N ``shipped`` events are enqueued through the real ``enqueue`` (in transactions of 100
orders, as a pickup's close would), then the real dispatcher sends the mails over real SMTP to
an aiosmtpd server running in a process of its own (so it does not share this process's GIL).
Measured: mails per second sent (claim, read, render, build, SMTP, settle), and shipped events
per second enqueued.
"""

from __future__ import annotations

import multiprocessing
import time
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import String, cast, delete, literal, select, update

from picker.config import Settings
from picker.services.actors import system_clock
from picker.services.notify import outbox
from picker.services.notify.dispatcher import dispatch_due
from picker.store.engine import Database
from picker.store.models import Order, OutboxMessage

#: Orders enqueued per transaction (a busy pickup's close).
CHUNK = 100


@dataclass(frozen=True)
class NotifyRun:
    messages: int
    sent: int
    received: int
    send_seconds: float
    enqueue_seconds: float

    @property
    def mails_per_s(self) -> float:
        return self.sent / self.send_seconds if self.send_seconds else 0.0

    @property
    def enqueued_per_s(self) -> float:
        return self.messages / self.enqueue_seconds if self.enqueue_seconds else 0.0


def _sink_main(port: int, received: Any, ready: Any, stop: Any) -> None:
    """An SMTP server that counts what it receives (a process of its own)."""
    from aiosmtpd.controller import Controller

    class Count:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with received.get_lock():
                received.value += 1
            return "250 OK"

    controller = Controller(Count(), hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def shipped_orders(db: Database, n: int) -> list[int]:
    """Up to ``n`` ids of the floor's shipped orders, each given an e-mail address."""
    with db.read() as s:
        ids = list(
            s.scalars(
                select(Order.id)
                .where(Order.status.in_(("executed", "delivered")))
                .order_by(Order.id)
                .limit(n)
            )
        )
    with db.transaction() as s:
        s.execute(
            update(Order)
            .where(Order.id.in_(ids))
            .values(
                customer_email=literal("customer")
                + cast(Order.id, String)
                + literal("@example.com")
            )
            .execution_options(synchronize_session=False)
        )
    return ids


def bench_notify(db: Database, settings: Settings, n: int, progress: Any) -> NotifyRun:
    try:
        import aiosmtpd  # noqa: F401
    except ImportError:
        raise RuntimeError("it needs aiosmtpd (pip install -e '.[dev]')") from None
    ids = shipped_orders(db, n)
    if len(ids) < n:
        raise RuntimeError(f"the demo floor has {len(ids)} shipped orders, not {n}: more --orders")
    with db.transaction() as s:
        s.execute(delete(OutboxMessage))
    port = _free_port()
    notify = replace(settings.notify, smtp_url=f"smtp://127.0.0.1:{port}", batch=100,
                     events={**settings.notify.events, "shipped": True})  # fmt: skip
    mail = replace(settings, notify=notify, channels={})  # shop messages: skipped at once
    started = time.perf_counter()
    for i in range(0, n, CHUNK):
        with db.transaction() as s:
            outbox.enqueue(s, ids[i : i + CHUNK], "shipped", settings=mail, at=system_clock())
        progress("enqueue", min(i + CHUNK, n), n)
    enqueue_seconds = time.perf_counter() - started
    context = multiprocessing.get_context("spawn")
    received = context.Value("i", 0)
    ready, stop = context.Event(), context.Event()
    sink = context.Process(target=_sink_main, args=(port, received, ready, stop), daemon=True)
    sink.start()
    try:
        if not ready.wait(30):
            raise RuntimeError("the SMTP sink did not start")
        sent = 0
        started = time.perf_counter()
        while True:
            done = dispatch_due(db, mail, claimed_by="bench")
            if done.failed or done.retrying:
                reason = (done.failed or done.retrying)[0][1]
                raise RuntimeError(f"a mail was not sent: {reason}")
            if not done.handled:
                break
            sent += len(done.sent)
            progress("send", sent, n)
        send_seconds = time.perf_counter() - started
    finally:
        stop.set()
        sink.join(10)
    return NotifyRun(n, sent, int(received.value), send_seconds, enqueue_seconds)


def notify_metrics(args: Any, settings: Settings, db: Database, progress: Any) -> tuple[int, dict]:
    """``picker bench notify``'s table: its demo floor, then :func:`bench_notify`."""
    from picker.bench.runs import _demo_floor, metric

    orders = _demo_floor(args, db, progress)
    run = bench_notify(db, settings, args.messages, progress)
    return orders, {
        "mails_per_s": metric(round(run.mails_per_s), "per_s", 200.0, higher=True),
        "enqueued_per_s": metric(round(run.enqueued_per_s), "per_s"),
        "mails_sent": metric(run.sent, "mails", args.messages, higher=True),
        "mails_received": metric(run.received, "mails", args.messages, higher=True),
        "send_time": metric(round(run.send_seconds, 2), "s"),
    }
