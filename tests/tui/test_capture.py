"""Scanner bursts are captured before any widget: whole, once, in order, whatever has focus.

Bursts are fed the way a real terminal delivers them (``type_like_a_terminal``): characters from
another thread through the terminal parser and the driver's ``process_message``, each key
timestamped in that thread, a millisecond or so apart. Typing is ``pilot.press``, which waits
tens of milliseconds per key: slower than the 30 ms burst gap, like a person.
"""

from __future__ import annotations

import asyncio
import threading
import time

from textual.app import ComposeResult
from textual.widgets import Input

from picker.bench.terminal import type_like_a_terminal
from picker.tui.app import PickerApp
from picker.tui.incoming import IncomingScan
from picker.tui.screens.base import PickerScreen
from picker.tui.widgets.feedback import Feedback

GS = "\x1d"


class CaptureScreen(PickerScreen):
    """A station-like screen: a quantity field with the focus, and a scan field."""

    SCREEN_NAME = "capture-test"

    def __init__(self) -> None:
        super().__init__()
        self.received: list[IncomingScan] = []

    def compose(self) -> ComposeResult:
        yield Input(id="qty", classes="entry")
        yield Input(id="scan", classes="scan")
        yield Feedback(id="feedback")

    def on_mount(self) -> None:
        self.query_one("#qty", Input).focus()

    async def receive(self, incoming: IncomingScan) -> None:
        # Arrival is what is tested here; what a scan means is tested elsewhere.
        self.received.append(incoming)


def feed_like_a_terminal(
    app: PickerApp, text: str, gap_s: tuple[float, float], seed: int = 1
) -> threading.Thread:
    return type_like_a_terminal(app, text, gap_s, seed)[0]


async def wait_for(condition, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.01)


def scan_codes(n: int) -> list[str]:
    kinds = [
        "4006381333931",
        "96385074",
        "A-03-12-2",
        "T-0042",
        "EMP-0007",
        "]C10109501101530003" + "10AB-12" + GS + "21X9",
        "(01)09501101530003(17)270228",
        "CMD-SHORT",
    ]
    return [kinds[i % len(kinds)] + ("" if i % 3 else f"-{i}") for i in range(n)]


async def test_a_thousand_scans_arrive_whole_once_in_order_with_a_quantity_field_in_focus(
    app_factory,
) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = CaptureScreen()
        await app.push_screen(screen)
        await pilot.pause(0.2)  # the app has settled (a scanner is not used during start-up)
        codes = scan_codes(1000)
        stream = "".join(code + "\r" for code in codes)
        thread = feed_like_a_terminal(app, stream, gap_s=(0.0002, 0.0015))
        await wait_for(lambda: len(screen.received) >= len(codes) or not thread.is_alive())
        thread.join()
        await wait_for(lambda: len(screen.received) >= len(codes), timeout=5)
        await app.scans_settled()
        assert [s.raw for s in screen.received] == codes
        assert not any(s.manual for s in screen.received)
        # Nothing leaked into the field that had the focus.
        assert screen.query_one("#qty", Input).value == ""
        assert screen.query_one("#scan", Input).value == ""


async def test_a_person_typing_a_quantity_fills_the_field_and_is_no_scan(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = CaptureScreen()
        await app.push_screen(screen)
        await pilot.pause(0.2)  # the app has settled (a scanner is not used during start-up)
        await pilot.press("1", "2", "backspace", "5")
        await pilot.pause(0.1)
        assert screen.query_one("#qty", Input).value == "15"
        assert screen.received == []


async def test_a_burst_between_typed_keys_is_a_scan_and_the_typing_stays_in_order(
    app_factory,
) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = CaptureScreen()
        await app.push_screen(screen)
        await pilot.pause(0.2)  # the app has settled (a scanner is not used during start-up)
        await pilot.press("3")
        await pilot.pause(0.1)
        await asyncio.to_thread(feed_like_a_terminal(app, "T-0042\r", (0.001, 0.002)).join)
        await wait_for(lambda: len(screen.received) == 1)
        await pilot.press("7")
        await pilot.pause(0.1)
        assert [s.raw for s in screen.received] == ["T-0042"]
        assert screen.query_one("#qty", Input).value == "37"


async def test_slow_typing_in_the_scan_field_and_enter_is_a_manual_scan(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = CaptureScreen()
        await app.push_screen(screen)
        screen.query_one("#scan", Input).focus()
        await pilot.pause()
        await pilot.press("T", "minus", "0", "0", "4", "2", "enter")
        await app.scans_settled()
        await pilot.pause()
        assert [(s.raw, s.manual) for s in screen.received] == [("T-0042", True)]
        assert screen.query_one("#scan", Input).value == ""


async def test_a_burst_slower_than_the_gap_is_typing_not_a_scan(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = CaptureScreen()
        await app.push_screen(screen)
        await pilot.pause(0.2)  # the app has settled (a scanner is not used during start-up)
        await asyncio.to_thread(feed_like_a_terminal(app, "123\r", (0.045, 0.05)).join)
        await pilot.pause(0.1)
        assert screen.received == []
        assert screen.query_one("#qty", Input).value == "123"


def hold_the_gil(seconds: float) -> None:
    """A C call that keeps the GIL (no thread runs, the terminal's input thread included)."""
    n = 200_000
    while True:
        started = time.perf_counter()
        sum(range(n))
        took = time.perf_counter() - started
        if took >= seconds:
            return
        n = int(n * min(10.0, seconds / max(took, 1e-6)) * 1.1)


async def test_scans_survive_event_loop_stalls_in_the_middle_of_bursts(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = CaptureScreen()
        await app.push_screen(screen)
        await pilot.pause(0.2)  # the app has settled (a scanner is not used during start-up)
        codes = scan_codes(40)
        thread = feed_like_a_terminal(app, "".join(c + "\r" for c in codes), (0.001, 0.002))
        stalls = 0
        while thread.is_alive():
            hold_the_gil(0.04)  # the loop and the input thread both stop for 40 ms
            stalls += 1
            await asyncio.sleep(0.06)
        assert stalls >= 5
        await wait_for(lambda: len(screen.received) >= len(codes), timeout=5)
        assert [s.raw for s in screen.received] == codes


# --- the state machine alone, with the key times set by hand ----------------------------------


def _keys(text: str, start: float, gaps_ms: list[float]) -> list:  # type: ignore[type-arg]
    from textual import events

    keys, moment = [], start
    for i, ch in enumerate(text):
        key = events.Key("enter", "\r") if ch == "\r" else events.Key(ch, ch)
        key.time = moment
        keys.append(key)
        moment += (gaps_ms[i] if i < len(gaps_ms) else 2) / 1000
    return keys


def _run(text: str, gaps_ms: list[float]) -> tuple[list[str], str]:
    from picker.tui.capture import BurstCapture

    scans: list[str] = []
    capture = BurstCapture(lambda burst: scans.append(burst.text))
    passed = []
    for key in _keys(text, 100.0, gaps_ms):
        passed += capture.feed(key)
    passed += capture.release()
    return scans, "".join(k.character or "" for k in passed)


def test_a_scanner_burst_late_by_a_busy_machine_after_four_keys_is_still_one_scan() -> None:
    scans, typed = _run("4006381333931\r", [2, 2, 2, 2, 80])
    assert scans == ["4006381333931"] and typed == ""


def test_three_fast_keys_then_a_pause_are_typing() -> None:
    scans, typed = _run("120\r", [10, 10, 80])
    assert scans == [] and typed == "120\r"


def test_a_person_typing_is_never_a_scan() -> None:
    scans, typed = _run("T-0042\r", [90, 120, 70, 150, 100, 110])
    assert scans == [] and typed == "T-0042\r"


def test_a_stretched_gap_has_a_limit() -> None:
    scans, typed = _run("4006381333931\r", [2, 2, 2, 2, 130])
    assert scans == ["81333931"] and typed == "40063"


class SlowScreen(CaptureScreen):
    """Each scan takes a while to apply (as a database write under load might)."""

    def __init__(self) -> None:
        super().__init__()
        self.spans: list[tuple[str, float, float]] = []

    async def receive(self, incoming: IncomingScan) -> None:
        started = time.monotonic()
        await asyncio.to_thread(time.sleep, 0.15 if incoming.raw.endswith("1") else 0.02)
        self.spans.append((incoming.raw, started, time.monotonic()))


async def test_scans_are_applied_one_at_a_time_in_order_and_typing_goes_on_meanwhile(
    app_factory,
) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = SlowScreen()
        await app.push_screen(screen)
        await pilot.pause(0.2)  # the app has settled (a scanner is not used during start-up)
        codes = ["T-0001", "T-0002", "T-0011", "T-0003"]
        thread = feed_like_a_terminal(app, "".join(c + "\r" for c in codes), (0.001, 0.002))
        await asyncio.to_thread(thread.join)
        await pilot.press("4", "2")  # typed while the slow scans are still being applied
        assert screen.query_one("#qty", Input).value == "42"
        assert len(screen.spans) < len(codes)  # the typing did not wait for them
        await app.scans_settled()
        assert [raw for raw, _, _ in screen.spans] == codes
        for (_, _, ended), (_, started, _) in zip(screen.spans, screen.spans[1:], strict=False):
            assert started >= ended  # never two at once
