"""Scan-to-feedback latency, measured through the real app running headless.

Scans are typed as a scanner types them: one key event per character, a few milliseconds apart,
then Enter, posted to the app the way the terminal driver posts them. The time is taken from the
Enter key to the moment the scan's feedback is on the screen (its journal row committed first).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from textual import events
from textual.keys import _character_to_key

from picker.tui.app import IncomingScan, PickerApp
from picker.tui.capture import GS
from picker.tui.screens.home import HomeScreen
from picker.tui.screens.scanner_test import ScannerTestScreen


def key_event(ch: str) -> events.Key:
    """The key event a keyboard-wedge scanner produces for ``ch``, timestamped now."""
    if ch == GS:
        return events.Key("ctrl+right_square_bracket", None)
    return events.Key(_character_to_key(ch), ch)


async def type_scan(app: PickerApp, text: str, gap_s: float = 0.002) -> float:
    """Type ``text`` + Enter into the app at scanner speed; returns when Enter was posted."""
    for ch in text:
        app.post_message(key_event(ch))
        await asyncio.sleep(gap_s)
    enter = events.Key("enter", "\r")
    app.post_message(enter)
    return enter.time


@dataclass(frozen=True)
class ScanLatency:
    scans: int
    p50_ms: float
    p99_ms: float
    max_ms: float


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure_scan_latency(
    app: PickerApp,
    codes: Sequence[str],
    *,
    badge: str,
    pin: str,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> ScanLatency:
    """Log in, open the scanner test (router + journal + feedback: the path every station shares)
    and scan each code once, one after the other as an operator would."""
    latencies: list[float] = []
    applied: asyncio.Queue[tuple[IncomingScan, float]] = asyncio.Queue()
    async with app.run_test(size=(80, 24)) as pilot:
        await type_scan(app, badge)
        await app.scans_settled()
        await pilot.pause()
        pin_field = app.focused
        for ch in pin:
            await pilot.press(ch)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not isinstance(app.screen, HomeScreen):
            raise RuntimeError(f"login failed (focus was on {pin_field!r})")
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, ScannerTestScreen)
        app.scan_applied = lambda incoming: applied.put_nowait((incoming, time.monotonic()))
        for i, code in enumerate(codes):
            entered = await type_scan(app, code)
            incoming, shown = await applied.get()
            if incoming.raw != code:
                raise RuntimeError(f"scan {i} arrived as {incoming.raw!r}, not {code!r}")
            latencies.append((shown - entered) * 1000)
            progress(i + 1, len(codes))
            await asyncio.sleep(0.005)
    return ScanLatency(
        len(latencies),
        round(statistics.median(latencies), 2) if latencies else 0.0,
        round(percentile(latencies, 0.99), 2),
        round(max(latencies, default=0.0), 2),
    )
