"""Failed mail or shop messages are a red line under every screen's title, like a printer that
is down; a terminal with ``[notify] dispatch_in_terminal`` sends the outbox in the background."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select, update
from textual.widgets import Static

from picker.config import load_settings
from picker.services.actors import Actor
from picker.services.notify import outbox
from picker.store.engine import Database
from picker.store.models import Order, OutboxMessage
from picker.tui.app import PickerApp, make_app
from tests.conftest import NOW
from tests.tui.conftest import PICKER
from tests.tui.helpers import scan, settle

SIZES = [(80, 24), (40, 16)]


@pytest.fixture
def settings(tmp_path, floor_url):  # type: ignore[no-untyped-def]
    """Mail into a folder; the outbox looked at every 0.2 s; this terminal sends or not as the
    test's ``dispatch`` marker says (default: it only watches)."""
    labels = Path(__file__).resolve().parents[2] / "labels"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[terminal]\nid = "T07"\nstation = "picking"\n[labels]\ndir = "{labels}"\n'
        f'[notify]\nsmtp_url = "file://{tmp_path / "mail"}"\npoll_s = 0.2\n'
        "dispatch_in_terminal = false\n",
        encoding="utf-8",
    )
    return load_settings(config, environ={"PICKER_DATABASE_URL": floor_url})


def queue_mails(url: str, n: int, *, failed: int = 0) -> list[int]:
    """``n`` shipped orders of the demo floor told again: their mails queued (the first
    ``failed`` of them failed, as a server refusing them leaves them)."""
    db = Database(url)
    try:
        with db.transaction() as s:
            ids = list(s.scalars(select(Order.id).where(Order.status == "executed")
                                 .order_by(Order.id).limit(n)))  # fmt: skip
            s.execute(update(Order).where(Order.id.in_(ids))
                      .values(customer_email="someone@example.com"))  # fmt: skip
            outbox.enqueue(s, ids, "shipped", at=NOW)
            mails = list(s.scalars(select(OutboxMessage.id).where(OutboxMessage.kind == "email")
                                   .order_by(OutboxMessage.id)))  # fmt: skip
            s.execute(update(OutboxMessage).where(OutboxMessage.kind == "shop")
                      .values(status="skipped", error="no fulfilment_url"))  # fmt: skip
            s.execute(update(OutboxMessage).where(OutboxMessage.id.in_(mails[:failed]))
                      .values(status="failed", error="550 no such user"))  # fmt: skip
        return mails
    finally:
        db.dispose()


@pytest.fixture
def unconfigured_app(settings) -> Iterator[Callable[[], PickerApp]]:  # type: ignore[no-untyped-def]
    """Apps of a terminal whose config sets no ``[notify] smtp_url``: mail is not configured."""
    made: list[Database] = []

    def make() -> PickerApp:
        db = Database(settings.database.url)
        made.append(db)
        no_mail = replace(settings, notify=replace(settings.notify, smtp_url=""))
        return make_app(no_mail, db, clock=lambda: NOW)

    yield make
    for db in made:
        db.dispose()


def alert_line(app) -> Static:  # type: ignore[no-untyped-def]
    return app.screen.query_one("#printer", Static)


async def until(pilot, check, seconds: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
        await pilot.pause()
    raise AssertionError("the screen did not change in time")


async def test_failed_mail_is_a_red_line_on_every_screen_until_it_is_dealt_with(
    app_factory, floor_url
) -> None:
    mails = queue_mails(floor_url, 5, failed=2)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: alert_line(app).has_class("shown"))
        assert str(alert_line(app).render()) == "✉ mail: 2 failed, 3 waiting"
        await scan(pilot, PICKER[0])  # the floor works on under it, and it follows
        await scan(pilot, PICKER[3])
        await settle(pilot)
        assert type(app.screen).__name__ == "HomeScreen"
        assert "mail: 2 failed" in str(alert_line(app).render())
        db = Database(floor_url)
        try:
            outbox.cancel(db, Actor("T01"), mails[0], "told by phone", clock=lambda: NOW)
            await until(pilot, lambda: "mail: 1 failed" in str(alert_line(app).render()))
            outbox.cancel(db, Actor("T01"), mails[1], "told by phone", clock=lambda: NOW)
        finally:
            db.dispose()
        await until(pilot, lambda: not alert_line(app).has_class("shown"))


async def test_mail_with_nowhere_to_go_is_a_line_under_every_title(
    unconfigured_app, floor_url
) -> None:
    queue_mails(floor_url, 4)  # waiting, none failed: a configured terminal says nothing
    app = unconfigured_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: alert_line(app).has_class("shown"))
        assert str(alert_line(app).render()) == "✉ mail: not configured, 4 waiting"
        await scan(pilot, PICKER[0])
        await scan(pilot, PICKER[3])
        await settle(pilot)
        assert type(app.screen).__name__ == "HomeScreen"
        assert str(alert_line(app).render()) == "✉ mail: not configured, 4 waiting"


async def test_a_terminal_that_dispatches_writes_the_mails_into_its_folder(
    app_factory, floor_url, settings, tmp_path
) -> None:
    queue_mails(floor_url, 3)
    sending = replace(settings, notify=replace(settings.notify, dispatch_in_terminal=True))
    db = Database(floor_url)
    app = make_app(sending, db, clock=lambda: NOW)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: len(list((tmp_path / "mail").glob("*.eml"))) == 3)
        with db.read() as s:
            assert set(s.scalars(select(OutboxMessage.status).where(
                OutboxMessage.kind == "email"))) == {"sent"}  # fmt: skip
    finally:
        db.dispose()


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_snapshot_failed_mail(snap_compare, app_factory, floor_url, size) -> None:
    queue_mails(floor_url, 15, failed=3)

    async def failed(pilot) -> None:  # type: ignore[no-untyped-def]
        await until(pilot, lambda: alert_line(pilot.app).has_class("shown"))
        for widget in pilot.app.screen.query("Input"):
            widget.cursor_blink = False
        await pilot.pause()

    assert snap_compare(app_factory(), terminal_size=size, run_before=failed)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_snapshot_mail_not_configured(snap_compare, unconfigured_app, floor_url, size) -> None:
    queue_mails(floor_url, 8)

    async def waiting(pilot) -> None:  # type: ignore[no-untyped-def]
        await until(pilot, lambda: alert_line(pilot.app).has_class("shown"))
        for widget in pilot.app.screen.query("Input"):
            widget.cursor_blink = False
        await pilot.pause()

    assert snap_compare(unconfigured_app(), terminal_size=size, run_before=waiting)
