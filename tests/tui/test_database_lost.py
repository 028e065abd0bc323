"""A terminal whose database goes away: the scan is answered in words (nothing saved), a red
line says the terminal is retrying, and it says when the database is back. The database sits
behind a real TCP relay that the test stops and starts again."""

from __future__ import annotations

import socket
import threading
from contextlib import suppress

from picker.services import auth
from picker.services.common import Actor
from picker.services.demo import build_demo
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


async def test_a_lost_database_is_said_retried_and_its_return_announced(
    fresh_postgres_url, settings
) -> None:
    from sqlalchemy import make_url

    db = Database(fresh_postgres_url)
    build_demo(db, orders=10, seed=2, now=NOW)
    auth.add_operator(db, Actor("T00"), "EMP-0404", "Relay Lead", "lead", "2580")
    db.dispose()
    real = make_url(fresh_postgres_url)
    relay = Relay(free_port(), (real.host or "127.0.0.1", real.port or 5432))
    relay.start()
    through = real.set(port=relay.port).render_as_string(hide_password=False)
    app_db = Database(through)
    app = make_app(settings, app_db, clock=lambda: NOW)
    app.bell = lambda: None  # type: ignore[method-assign]
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await scan(pilot, "EMP-0404")
            await scan(pilot, "2580")
            relay.stop()  # the server is gone for this terminal
            await burst(pilot, "A-01-01-1")  # a scan that must be journaled: it cannot be
            kind, message = feedback(pilot)
            assert kind == "error" and "Database unreachable: nothing was saved" in message
            line = str(app.screen.query_one("#printer").render())
            assert "database unreachable, retrying" in line
            relay.start()
            for _ in range(60):  # it looks every 2 s
                await pilot.pause(0.1)
                if not app.database_down:
                    break
            assert not app.database_down
            assert "Database back" in feedback(pilot)[1]
            assert str(app.screen.query_one("#printer").render()).strip() == ""
            await settle(pilot)
    finally:
        relay.stop()
        app_db.dispose()
