"""A printer that is down never blocks the floor: the station says so under its title, the
labels wait in the queue, and print once the printer answers."""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import Static

from picker.config import load_settings
from picker.services.actors import Actor
from picker.services.printjobs import print_queue
from picker.store.engine import Database
from tests.conftest import NOW
from tests.printing.test_backends import Listener, free_port
from tests.tui.conftest import PICKER
from tests.tui.helpers import scan, settle

SIZES = [(80, 24), (40, 16)]
PORT = free_port()


@pytest.fixture
def settings(tmp_path, floor_url):  # type: ignore[no-untyped-def]
    """This terminal prints on a network printer at PORT, looked at every 0.2 s."""
    config = tmp_path / "config.toml"
    config.write_text(
        '[terminal]\nid = "T07"\nstation = "picking"\n'
        f'[printer]\nbackend = "tcp"\nhost = "127.0.0.1"\nport = {PORT}\ntimeout_s = 1\n'
        "poll_s = 0.2\n",
        encoding="utf-8",
    )
    return load_settings(config, environ={"PICKER_DATABASE_URL": floor_url})


def queue_label(url: str, content: bytes = b"^XA^FDlabel^FS^XZ") -> int:
    db = Database(url)
    try:
        with db.transaction() as s:
            return print_queue.enqueue(
                s, kind="label", printer="T07", content=content, content_type="application/zpl",
                terminal_id="T07", title="EE123456785PL", at=NOW,
            )  # fmt: skip
    finally:
        db.dispose()


def printer_line(app) -> Static:  # type: ignore[no-untyped-def]
    return app.screen.query_one("#printer", Static)


async def until(pilot, check, seconds: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
        await pilot.pause()
    raise AssertionError("the screen did not change in time")


async def test_a_printer_down_is_a_red_line_the_floor_works_on_and_the_label_prints_later(
    app_factory, floor_url
) -> None:
    job = queue_label(floor_url)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: printer_line(app).has_class("shown"))
        assert "printer T07 down, 1 label queued" in str(printer_line(app).render())
        # The floor goes on: a login works under the warning, which follows to the next screen.
        await scan(pilot, PICKER[0])
        await scan(pilot, PICKER[3])
        await settle(pilot)
        assert type(app.screen).__name__ == "HomeScreen"
        assert printer_line(app).has_class("shown")
        printer = Listener(PORT)
        try:
            db = Database(floor_url)
            print_queue.retry(db, Actor("T07"), job, clock=lambda: NOW)
            db.dispose()
            app.print_worker.wake()
            await until(pilot, lambda: not printer_line(app).has_class("shown"))
            assert printer.received == [b"^XA^FDlabel^FS^XZ"]  # printed, once
        finally:
            printer.close()


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_snapshot_printer_down(snap_compare, app_factory, floor_url, size) -> None:
    queue_label(floor_url)
    queue_label(floor_url)

    async def down(pilot) -> None:  # type: ignore[no-untyped-def]
        await until(pilot, lambda: printer_line(pilot.app).has_class("shown"))
        for widget in pilot.app.screen.query("Input"):
            widget.cursor_blink = False
        await pilot.pause()

    assert snap_compare(app_factory(), terminal_size=size, run_before=down)
