"""The shared scan path on the real app: feedback, command barcodes, journal, scanner test."""

from __future__ import annotations

from picker.services import scans
from picker.store.engine import Database
from picker.tui.screens.home import HomeScreen
from picker.tui.screens.login import LoginScreen
from picker.tui.screens.scanner_test import ScannerTestScreen
from tests.tui.conftest import LEAD, PICKER
from tests.tui.helpers import burst, feedback, feedback_text, scan, settle, text_of


async def login(pilot, who=PICKER) -> None:  # type: ignore[no-untyped-def]
    await scan(pilot, who[0])
    await scan(pilot, who[3])


def journal(app) -> list[scans.JournalEntry]:  # type: ignore[no-untyped-def]
    db: Database = app.db
    return scans.recent(db, last=100)


async def test_a_refused_scan_is_red_rings_the_bell_names_it_and_is_journaled(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        bells = app.bells
        await burst(pilot, "A-03-12-2")
        kind, shown = feedback(pilot)
        assert kind == "error" and "A-03-12-2" in shown and "nothing to do" in shown
        everything = feedback_text(pilot)
        assert "Scan: A-03-12-2" in everything
        assert "Enter: Picker queue" in everything  # the next step stays in sight
        assert app.bells == bells + 1
        last = journal(app)[-1]
        assert (last.raw, last.kind, last.result, last.screen) == (
            "A-03-12-2",
            "bin",
            "refused",
            "home",
        )
        assert last.operator == PICKER[0] and last.terminal_id == "T07"


async def test_a_misread_says_scan_again_and_is_journaled_as_a_misread(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        await burst(pilot, "4006381333932")
        kind, shown = feedback(pilot)
        assert kind == "error" and "scan again" in shown.lower()
        assert journal(app)[-1].result == "misread"


async def test_the_cmd_logout_barcode_logs_out_and_is_journaled(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        await burst(pilot, "CMD-LOGOUT")
        assert isinstance(app.screen, LoginScreen) and app.operator is None
        last = journal(app)[-1]
        assert (last.raw, last.kind, last.result) == ("CMD-LOGOUT", "command", "accepted")


async def test_a_command_a_screen_does_not_know_is_refused_by_name(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        await burst(pilot, "CMD-SHORT")
        kind, shown = feedback(pilot)
        assert (
            kind == "error" and "CMD-SHORT (Report shortage) does nothing on this screen" in shown
        )
        assert isinstance(app.screen, HomeScreen)


async def test_a_badge_scanned_while_the_pin_is_asked_for_starts_over_with_that_badge(
    app_factory,
) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, PICKER[0])
        assert app.focused.id == "pin"
        await burst(pilot, LEAD[0])
        assert "Hello Łucja [b]Kowalska[/b]" in text_of(pilot, "#prompt")
        await scan(pilot, LEAD[3])
        assert app.operator is not None and app.operator.badge == LEAD[0]


async def test_a_pin_typed_at_scanner_speed_is_a_pin_and_never_reaches_the_journal(
    app_factory,
) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, PICKER[0])
        await burst(pilot, PICKER[3])  # four digits and Enter, a few ms apart
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert all(PICKER[3] not in e.raw for e in journal(app))


async def test_the_scanner_test_explains_a_gs1_code_and_cmd_cancel_goes_back(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot, LEAD)
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, ScannerTestScreen)
        await burst(pilot, "]C10109501101530003" + "17270200" + "10AB-12\x1d21X9")
        explained = text_of(pilot, "#explained")
        assert "<GS>" in explained and "Kind: product" in explained
        assert "09501101530003" in explained and "2027-02-28" in explained
        assert "AB-12" in explained and "X9" in explained
        assert feedback(pilot)[0] == "ok"
        last = journal(app)[-1]
        assert (last.screen, last.kind, last.result) == ("scanner-test", "product", "accepted")
        await burst(pilot, "EMP)0101")
        assert "AZERTY" in text_of(pilot, "#explained")
        await burst(pilot, "CMD-CANCEL")
        assert isinstance(app.screen, HomeScreen)


async def test_markup_in_a_scan_is_shown_literally(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        await burst(pilot, "[red]X[/red]")
        assert "[red]X[/red]" in feedback(pilot)[1]


async def test_a_pin_typed_into_the_badge_field_is_neither_journaled_nor_shown(
    app_factory,
) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, PICKER[3])  # the PIN, typed before the badge was scanned
        assert feedback(pilot)[0] == "error" and PICKER[3] not in feedback_text(pilot)
        assert all(PICKER[3] not in e.raw for e in journal(app))
        assert journal(app)[-1].raw == "(not a badge: not recorded)"
