"""A terminal whose database goes away: the scan is held (said in red: not saved yet), a red line
under the title says the terminal is retrying and how many scans wait, and once the database is
back the held scans are sent by themselves, each applied once. The database sits behind a real
TCP relay that the test stops and starts again, or is a server of the test's own, stopped as in a
crash and started again."""

from __future__ import annotations

import socket
import threading
from contextlib import suppress

from sqlalchemy import text

from picker.bench.terminal import type_scan
from picker.demo.builder import build_demo
from picker.services import auth
from picker.services.actors import Actor
from picker.store.engine import Database
from picker.tui.app import make_app
from tests.conftest import NOW
from tests.printing.test_backends import free_port
from tests.tui.helpers import burst, feedback, scan, settle


class Relay:
    """Forwards TCP connections from a local port to PostgreSQL until stopped (then refuses
    them, and cuts the ones open), and can start again on the same port."""

    def __init__(self, port: int, target: tuple[str, int]) -> None:
        self.port, self.target = port, target
        self.sockets: list[socket.socket] = []
        self.listener: socket.socket | None = None

    def start(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        with suppress(OSError):
            while data := a.recv(65536):
                b.sendall(data)
        with suppress(OSError):
            b.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        if self.listener is not None:
            with suppress(OSError):  # wakes the accepting thread (close alone would not)
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
            self.listener = None
        for s in self.sockets:
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
        self.sockets = []


def floor_with_a_picker(url: str) -> None:
    """A small demo floor, the tests' picker, and one order given to them."""
    from tests.tui.conftest import PICKER
    from tests.tui.test_picking import give_orders

    db = Database(url)
    build_demo(db, orders=12, seed=4, now=NOW)
    auth.add_operator(db, Actor("T00"), PICKER[0], PICKER[1], PICKER[2], PICKER[3])
    db.dispose()
    give_orders(url, 1)


def through_relay(url: str) -> tuple[Relay, str]:
    """A started relay to the server of ``url``, and the URL that goes through it."""
    from sqlalchemy import make_url

    real = make_url(url)
    relay = Relay(free_port(), (real.host or "127.0.0.1", real.port or 5432))
    relay.start()
    return relay, real.set(port=relay.port).render_as_string(hide_password=False)


async def held(pilot) -> None:  # type: ignore[no-untyped-def]
    """Wait (at most 2.5 s) until the scan just made is held for want of the database."""
    for _ in range(50):
        await pilot.pause(0.05)
        if pilot.app.held is not None:
            return


async def item_scan_held(pilot, cut) -> tuple:  # type: ignore[no-untyped-def]
    """From login to the first line's bin on the pick screen, then ``cut()`` the database
    away and scan the item: returns (the line, the item's code) with the scan held."""
    from tests.tui.test_picking import to_queue

    await to_queue(pilot)
    await burst(pilot, "T-0990")
    line = pilot.app.screen.line
    await burst(pilot, line.bin_code)
    cut()
    code = sorted(line.barcodes)[0]
    await type_scan(pilot.app, code)  # no settling: the scan is held
    await held(pilot)
    assert pilot.app.held is not None
    return line, code


def count(url: str, sql: str, **params: object) -> int:
    """One number read straight from the database (the terminal's own way to it may be cut)."""
    db = Database(url)
    try:
        with db.read() as s:
            return int(s.scalar(text(sql), params) or 0)
    finally:
        db.dispose()


PICKS = "SELECT COUNT(*) FROM stock_movements WHERE reason = 'pick' AND pick_task_id = :task"


async def test_a_lost_database_is_said_retried_and_the_held_scan_answered_when_back(
    fresh_postgres_url, settings
) -> None:
    db = Database(fresh_postgres_url)
    build_demo(db, orders=10, seed=2, now=NOW)
    auth.add_operator(db, Actor("T00"), "EMP-0404", "Relay Lead", "lead", "2580")
    db.dispose()
    relay, through = through_relay(fresh_postgres_url)
    app_db = Database(through)
    app = make_app(settings, app_db, clock=lambda: NOW)
    app.bell = lambda: None  # type: ignore[method-assign]
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await scan(pilot, "EMP-0404")
            await scan(pilot, "2580")
            relay.stop()  # the server is gone for this terminal
            await type_scan(app, "A-01-01-1")  # a scan that must be journaled: it cannot be
            await held(pilot)
            kind, message = feedback(pilot)
            assert kind == "error" and "Database unreachable: this scan is held" in message
            line = str(app.screen.query_one("#printer").render())
            assert "database unreachable, retrying… · 1 scan held" in line
            relay.start()
            await settle(pilot)  # it looks every 2 s, then sends the held scan
            assert not app.database_down and app.held is None
            kind, message = feedback(pilot)  # the held scan's own answer, as if never held
            assert kind == "error" and "A-01-01-1: nothing to do with this scan here" in message
            assert str(app.screen.query_one("#printer").render()).strip() == ""
    finally:
        relay.stop()
        app_db.dispose()


async def test_a_scan_held_through_a_server_restart_is_sent_by_itself_once(
    restartable_postgres, app_factory
) -> None:
    """PostgreSQL stops (as in a crash) between the bin and the item: the item scan is held in
    red with the bell, a second scan waits behind it, the title line counts them, and when the
    server is back both are applied in order by themselves: the unit is picked once."""
    server = restartable_postgres
    floor_with_a_picker(server.url)
    app = app_factory(server.url)
    async with app.run_test(size=(80, 24)) as pilot:
        line, code = await item_scan_held(pilot, lambda: server.stop("immediate"))
        kind, message = feedback(pilot)
        assert kind == "error" and "this scan is held, not saved yet" in message
        await type_scan(app, line.bin_code)  # the next scan waits behind it
        await pilot.pause(0.1)
        assert "2 scans wait to be sent" in feedback(pilot)[1]
        title = str(app.screen.query_one("#printer").render())
        assert "database unreachable, retrying… · 2 scans held" in title
        bells = app.bells
        server.start()
        await settle(pilot)  # returns once the database is back and both scans are applied
        assert app.held is None and not app.database_down and app.bells >= bells
        assert str(app.screen.query_one("#printer").render()).strip() == ""
        [now] = [ln for ln in app.screen.lines if ln.task_id == line.task_id]
        assert now.picked == line.picked + 1
    check = Database(server.url)
    try:
        with check.read() as s:
            rows = s.execute(
                text(
                    "SELECT raw, result, scan_key FROM scan_journal WHERE screen = 'pick' "
                    "ORDER BY id"
                )
            ).all()
    finally:
        check.dispose()
    raws = [r.raw for r in rows]
    assert raws.count(code) == 1 and count(server.url, PICKS, task=line.task_id) == 1
    assert raws[-1] == line.bin_code  # the scan that waited came after, as scanned
    assert all(r.scan_key for r in rows) and len({r.scan_key for r in rows}) == len(rows)


async def test_a_held_scan_whose_first_sending_was_saved_is_not_applied_twice(
    fresh_postgres_url, app_factory
) -> None:
    """The connection broke after the pick's commit reached the server, before its answer came
    back (here: the first sending is written straight to the server, under the held scan's key,
    while the terminal's own way to it is cut). Sent again, the scan is found in the journal:
    "already saved", the screen reads the walk again, and the unit counts once."""
    from picker.services import scans
    from picker.services.floor import picking
    from picker.services.scans import ScanOutcome

    floor_with_a_picker(fresh_postgres_url)
    relay, through = through_relay(fresh_postgres_url)
    app = app_factory(through)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            line, code = await item_scan_held(pilot, relay.stop)
            assert app.held is not None
            direct = Database(fresh_postgres_url)  # the first sending, as the server saw it
            try:
                with scans.sending(scans.ScanKey(app.held.key)):
                    first = ScanOutcome(code, "product", "accepted", order_id=line.order_id)
                    picking.pick(direct, app.screen.actor, line.task_id, 1, scans_=[first],
                                 screen="pick", clock=lambda: NOW)  # fmt: skip
            finally:
                direct.dispose()
            relay.start()
            await settle(pilot)
            kind, message = feedback(pilot)
            assert kind == "ok" and "Already saved before the connection dropped" in message, (
                message
            )
            [now] = [ln for ln in app.screen.lines if ln.task_id == line.task_id]
            assert now.picked == line.picked + 1  # read again: the unit the screen never saw
    finally:
        relay.stop()
    assert count(fresh_postgres_url, PICKS, task=line.task_id) == 1
    assert count(fresh_postgres_url, "SELECT COUNT(*) FROM scan_journal WHERE raw = :raw",
                 raw=code) == 1  # fmt: skip


async def test_a_scan_held_on_a_screen_left_meanwhile_is_not_sent(
    fresh_postgres_url, app_factory
) -> None:
    """The picker gives up waiting and leaves the pick screen (Esc) while the server is away:
    when it is back, the held item scan is not applied on the queue screen — it is said, and
    nothing is picked."""
    floor_with_a_picker(fresh_postgres_url)
    relay, through = through_relay(fresh_postgres_url)
    app = app_factory(through)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            line, code = await item_scan_held(pilot, relay.stop)
            await pilot.press("escape")
            await pilot.pause(0.2)
            assert type(app.screen).__name__ == "QueueScreen"
            relay.start()
            await settle(pilot)
            kind, message = feedback(pilot)
            assert kind == "error" and f"Not sent: '{code}'" in message, message
    finally:
        relay.stop()
    assert count(fresh_postgres_url, PICKS, task=line.task_id) == 0
