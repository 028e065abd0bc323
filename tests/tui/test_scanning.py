"""The shared scan path on the real app: feedback, command barcodes, journal, scanner test."""

from __future__ import annotations

from textual.widgets import Input

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


async def test_an_accepted_result_fades_to_the_next_step_and_a_refusal_later(
    app_factory, monkeypatch
) -> None:
    """Old news never passes for the answer to the scan just made: seconds stand for the 8 s
    and 30 s of the floor, timed by the app's own timers."""
    from picker.tui.widgets.feedback import Feedback
    from tests.tui.test_picking import give_orders

    monkeypatch.setattr(Feedback, "FADE_S", {"ok": 0.3, "error": 0.9, "info": None})
    app = app_factory()
    give_orders(app.settings.database.url, 1)
    async with app.run_test(size=(40, 16)) as pilot:
        await login(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await burst(pilot, "T-0990")
        line = app.screen.line
        await burst(pilot, line.bin_code)
        assert feedback(pilot) == ("ok", f"Bin {line.bin_code}")
        await pilot.pause(0.5)
        assert feedback(pilot) == ("info", "")
        assert feedback_text(pilot) == f"▶ Scan {line.sku}"  # the next step alone
        await burst(pilot, "Z-99-99-9")  # not the item: refused
        assert feedback(pilot)[0] == "error"
        await pilot.pause(0.5)
        assert feedback(pilot)[0] == "error"  # a refusal stays longer
        await pilot.pause(0.6)
        assert feedback(pilot) == ("info", "") and feedback_text(pilot) == f"▶ Scan {line.sku}"


async def test_a_refusal_gives_way_to_the_next_step_at_the_next_key(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        await burst(pilot, "A-03-12-2")
        assert feedback(pilot)[0] == "error"
        await pilot.press("x")  # a person starts typing into the scan field
        field = app.screen.query_one("#scan", Input)
        for _ in range(50):  # a typed key is held a moment (is it a scanner's burst?)
            if field.value:
                break
            await pilot.pause(0.02)
        assert field.value == "x"
        assert feedback(pilot) == ("info", "")
        assert feedback_text(pilot).startswith("▶ Enter: Picker queue")
        await burst(pilot, "A-03-12-2")  # a new refusal shows whole again, with the bell
        assert feedback(pilot)[0] == "error" and "Scan: A-03-12-2" in feedback_text(pilot)


async def test_a_refusal_with_no_next_step_stays(app_factory, monkeypatch) -> None:
    from picker.tui.widgets.feedback import Feedback

    monkeypatch.setattr(Feedback, "FADE_S", {"ok": 0.1, "error": 0.1, "info": None})
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await burst(pilot, "A-03-12-2")  # at the badge step: not a badge
        assert feedback(pilot) == ("error", "That was not a badge. Scan your badge.")
        await pilot.pause(0.3)
        assert feedback(pilot) == ("error", "That was not a badge. Scan your badge.")
