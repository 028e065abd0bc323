"""Scan-to-feedback latency, measured through the real app running headless.

Scans are typed as a scanner types them: a character every millisecond or two, then Enter,
delivered through the terminal parser and the driver from a thread, as a real terminal does. The
time is taken from the Enter key to the moment the scan's feedback is on the screen (its journal
row committed first).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from textual import events
from textual._xterm_parser import XTermParser
from textual.pilot import Pilot

from picker.tui.app import PickerApp
from picker.tui.incoming import IncomingScan
from picker.tui.screens.home import HomeScreen
from picker.tui.screens.scanner_test import ScannerTestScreen


def type_like_a_terminal(
    app: PickerApp, text: str, gap_s: tuple[float, float] = (0.001, 0.003), seed: int = 1
) -> tuple[threading.Thread, list[float]]:
    """Deliver ``text`` to the app the way a terminal does, from a thread: through the terminal
    parser and the driver's ``process_message``, each key timestamped in that thread.

    Characters become readable at scheduled moments ``gap_s`` apart (min, max), like a scanner
    filling the terminal's input buffer; a reader that falls behind reads what piled up at once.
    Returns the thread and, filled as it runs, the times the Enter keys were delivered.
    """
    driver = app._driver
    if driver is None:
        raise RuntimeError("the app is not running")
    rng = random.Random(seed)
    schedule = []
    moment = 0.0
    for ch in text:
        schedule.append((moment, ch))
        moment += rng.uniform(*gap_s)
    enters: list[float] = []

    def run() -> None:
        parser = XTermParser()
        start = time.monotonic()
        for due, ch in schedule:
            wait = start + due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            for event in parser.feed(ch):
                driver.process_message(event)
                if isinstance(event, events.Key) and event.key == "enter":
                    enters.append(event.time)
        for event in parser.feed(""):
            driver.process_message(event)

    thread = threading.Thread(target=run, name="terminal-input", daemon=True)
    thread.start()
    return thread, enters


async def type_scan(app: PickerApp, text: str) -> float:
    """Scan ``text`` (then Enter) at scanner speed; returns the moment the Enter arrived."""
    thread, enters = type_like_a_terminal(app, text + "\r")
    await asyncio.to_thread(thread.join)
    return enters[-1]


@dataclass(frozen=True)
class ScanLatency:
    scans: int
    p50_ms: float
    p99_ms: float
    max_ms: float

    @classmethod
    def of(cls, ms: Sequence[float]) -> ScanLatency:
        return cls(
            len(ms),
            round(statistics.median(ms), 2) if ms else 0.0,
            round(percentile(ms, 0.99), 2),
            round(max(ms, default=0.0), 2),
        )


class TimedScans:
    """Scans typed into the app one at a time, each timed from its Enter to its feedback."""

    def __init__(self, app: PickerApp) -> None:
        self.app = app
        self.ms: list[float] = []
        self._applied: asyncio.Queue[tuple[IncomingScan, float]] = asyncio.Queue()
        app.scan_applied = lambda incoming: self._applied.put_nowait((incoming, time.monotonic()))

    async def scan(self, code: str) -> IncomingScan:
        entered = await type_scan(self.app, code)
        incoming, shown = await self._applied.get()
        self.ms.append((shown - entered) * 1000)
        return incoming


async def log_in(app: PickerApp, pilot: Pilot[None], badge: str, pin: str) -> None:
    """Scan the badge, type the PIN, and end on the home screen (leaving a resumed pick)."""
    await type_scan(app, badge)
    await app.scans_settled()
    await pilot.pause()
    for ch in pin:
        await pilot.press(ch)
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    await settle_on(pilot, lambda: app.operator is not None)
    await pilot.pause(0.3)
    if app.operator is None:
        raise RuntimeError("login failed")
    while not isinstance(app.screen, HomeScreen):  # resumed a pick of an earlier run
        await pilot.press("escape")
        await pilot.pause()


_S = TypeVar("_S")


async def settle_on(pilot: Pilot[None], ready: Callable[[], bool], seconds: float = 10.0) -> bool:
    """Pause until ``ready()`` (a screen pushed, a worker done) or ``seconds`` pass: a loaded
    machine may take more than one pause to draw the next screen."""
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > deadline:
            return False
        await pilot.pause(0.02)
    return True


async def open_station(
    app: PickerApp, pilot: Pilot[None], badge: str, pin: str, station: type[_S]
) -> _S:
    """Log in and press Enter on home: the terminal's station, which must be ``station``."""
    await log_in(app, pilot, badge, pin)
    await pilot.press("enter")
    await settle_on(pilot, lambda: isinstance(app.screen, station))
    screen = app.screen
    if not isinstance(screen, station):
        raise RuntimeError(f"expected the {station.__name__}, found {screen!r}")
    return screen


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
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(app, pilot, badge, pin)
        await pilot.press("f2")
        if not await settle_on(pilot, lambda: isinstance(app.screen, ScannerTestScreen)):
            raise RuntimeError(f"F2 opened {app.screen!r}, not the scanner test")
        timed = TimedScans(app)
        for i, code in enumerate(codes):
            incoming = await timed.scan(code)
            if incoming.raw != code:
                raise RuntimeError(f"scan {i} arrived as {incoming.raw!r}, not {code!r}")
            progress(i + 1, len(codes))
            await asyncio.sleep(0.005)
    return ScanLatency.of(timed.ms)


@dataclass(frozen=True)
class PickBench:
    scans: ScanLatency
    picks: int
    queue_p50_ms: float
    queue_p99_ms: float


async def measure_picking(
    app: PickerApp,
    *,
    badge: str,
    pin: str,
    picks: int,
    queue_opens: int = 20,
    refill: Callable[[], int] = lambda: 0,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> PickBench:
    """Log in as a picker, open the queue ``queue_opens`` times (Enter on home → list shown),
    then pick by scans — totes, bins, items, put-to-tote — until ``picks`` units are picked."""
    from picker.tui.screens.pick import PickScreen
    from picker.tui.screens.queue import QueueScreen

    opens: list[float] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(app, pilot, badge, pin)
        await asyncio.to_thread(refill)
        for _ in range(queue_opens):
            loads = app._queue.loads if app._queue is not None else 0
            # Enter as the terminal delivers it (pilot.press would add its own waits).
            thread, enters = type_like_a_terminal(app, "\r")
            await asyncio.to_thread(thread.join)
            started = enters[0]
            while not (isinstance(app.screen, QueueScreen) and app.screen.loads > loads):
                await asyncio.sleep(0.001)
            opens.append((time.monotonic() - started) * 1000)
            await pilot.press("escape")
            await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        app_scans = TimedScans(app)
        scan = app_scans.scan
        done = 0
        tote = 8000
        while done < picks:
            queue = app.screen
            assert isinstance(queue, QueueScreen)
            if not any(not e.started for e in queue.entries):
                # A lead gives the picker more (as on the floor: a picker holds at most so many).
                await asyncio.to_thread(refill)
                await queue.reload()
            if not queue.entries:
                break  # the floor has no more live orders: the picks row shows how many
            while isinstance(app.screen, QueueScreen) and any(not e.started for e in queue.entries):
                tote += 1
                await scan(f"T-{tote:04d}")
                await pilot.pause()
            if isinstance(app.screen, QueueScreen):
                await pilot.press("enter")
                await pilot.pause()
            screen = app.screen
            if not isinstance(screen, PickScreen):
                raise RuntimeError(
                    f"expected the pick screen, found {screen!r} (focus {app.focused!r}, "
                    f"feedback {getattr(queue, 'feedback', None) and queue.feedback.message!r})"
                )
            while done < picks and (line := screen.line) is not None:
                if screen.step.value == "bin":
                    await scan(line.bin_code)
                    continue
                await scan(sorted(line.barcodes)[0] if line.barcodes else line.sku)
                if screen.is_batch:
                    await scan(line.tote)
                done += 1
                progress(done, picks)
            await pilot.press("escape")
            await pilot.pause()
            await queue.reload()
    return PickBench(
        ScanLatency.of(app_scans.ms),
        done,
        round(statistics.median(opens), 2) if opens else 0.0,
        round(percentile(opens, 0.99), 2),
    )


@dataclass(frozen=True)
class PackBench:
    verify: ScanLatency
    """Item scans: each verifies one unit (committed, checklist shown)."""
    close: ScanLatency
    """CMD-CLOSE: tracking number, label rendered and queued, order packed, lane shown."""
    other: ScanLatency
    """Opening by tote, the box, the address."""
    orders: int


async def measure_packing(
    app: PickerApp,
    *,
    badge: str,
    pin: str,
    totes: Sequence[str],
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> PackBench:
    """Log in as a packer, open the packing table, and pack the order in each tote by scans:
    the tote, every unit, the box, the weight (keyed at a person's pace), CMD-OK, CMD-CLOSE."""
    from picker.tui.screens.pack import PackScreen

    verify: list[float] = []
    close: list[float] = []
    other: list[float] = []
    packed = 0
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_station(app, pilot, badge, pin, PackScreen)
        timed = TimedScans(app)

        async def scan(code: str, into: list[float]) -> None:
            await timed.scan(code)
            into.append(timed.ms[-1])
            if screen.feedback.kind == "error":
                raise RuntimeError(f"{code}: {screen.feedback.message}")

        for tote in totes:
            await scan(tote, other)
            view = screen.view
            if view is None:
                raise RuntimeError(f"{tote} did not open an order")
            for line in view.lines:
                for _ in range(line.left):
                    await scan(sorted(line.barcodes)[0] if line.barcodes else line.sku, verify)
            await scan("BOX-M", other)
            await _key_weight(app, screen)
            await scan("CMD-OK", other)
            await scan("CMD-CLOSE", close)
            packed += 1
            progress(packed, len(totes))
            await asyncio.sleep(0.005)
    return PackBench(ScanLatency.of(verify), ScanLatency.of(close), ScanLatency.of(other), packed)


async def _key_weight(app: PickerApp, screen: Any) -> None:
    """Key the open parcel's weight (its units and box) as a person does, and wait for it."""
    view = screen.view
    parcel = view.open_parcel
    grams = sum(ln.weight_g * ln.in_open for ln in view.lines) + parcel.tare_g
    thread, _ = type_like_a_terminal(app, f"{grams}\r", gap_s=(0.05, 0.06))
    await asyncio.to_thread(thread.join)
    deadline = time.monotonic() + 10
    while (
        screen.view is None
        or screen.view.open_parcel is None
        or screen.view.open_parcel.weight_g is None
    ):
        if screen.feedback.kind == "error" or time.monotonic() > deadline:
            raise RuntimeError(f"the weight {grams} g was not taken: {screen.feedback.message}")
        await asyncio.sleep(0.005)


@dataclass(frozen=True)
class HandoffBench:
    scans: ScanLatency
    """Parcel scans into the pickup (committed, count shown)."""
    close_ms: float
    """CMD-CLOSE to its feedback: orders executed, manifest rendered and queued."""
    parcels: int


async def measure_handoff(
    app: PickerApp,
    *,
    badge: str,
    pin: str,
    lane: str,
    parcels: Sequence[str],
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> HandoffBench:
    """Log in as a lead at the handoff zone, open the pickup of ``lane`` by its code, scan every
    parcel of ``parcels`` into it, then close it with CMD-CLOSE (twice when parcels stay in the
    lane: the first lists them)."""
    from picker.tui.screens.handoff import HandoffScreen

    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_station(app, pilot, badge, pin, HandoffScreen)
        timed = TimedScans(app)
        await timed.scan(lane)
        if screen.pickup is None:
            raise RuntimeError(f"{lane}: {screen.feedback.message}")
        timed.ms.clear()
        for i, tracking in enumerate(parcels):
            await timed.scan(tracking)
            if screen.feedback.kind == "error":
                raise RuntimeError(f"{tracking}: {screen.feedback.message}")
            progress(i + 1, len(parcels))
            await asyncio.sleep(0.002)
        scanned = ScanLatency.of(timed.ms)
        if screen.pickup.waiting:  # a count
            await timed.scan("CMD-CLOSE")  # lists what stays in the lane
        await timed.scan("CMD-CLOSE")
        if screen.pickup is not None or screen.feedback.kind == "error":
            raise RuntimeError(f"the pickup did not close: {screen.feedback.message}")
        close_ms = timed.ms[-1]
    return HandoffBench(scanned, round(close_ms, 1), len(parcels))


@dataclass(frozen=True)
class TerminalRun:
    startup_ms: float
    """From the command to the login screen on the terminal."""
    peak_rss_mib: float
    """The terminal process's peak resident memory, after a login and its station opened."""


def measure_terminal(
    command: Sequence[str], env: dict[str, str], *, badge: str, pin: str, ready: str, after: str
) -> TerminalRun:
    """Run the real ``picker run`` ``command`` on a pseudo-terminal, as a person starts it:
    time it until ``ready`` (the login prompt) is on the screen, log in with ``badge`` and
    ``pin``, press Enter (the station opens) and wait for ``after`` on the screen, quit, and
    take the process's peak memory from the kernel."""
    import os
    import pty
    import select
    import subprocess

    main, secondary = pty.openpty()
    started = time.monotonic()
    proc = subprocess.Popen(
        command, stdin=secondary, stdout=secondary, stderr=secondary, env=env,
        start_new_session=True,
    )  # fmt: skip
    os.close(secondary)
    seen = bytearray()

    def wait_for(text: str, limit_s: float = 120.0) -> None:
        deadline = time.monotonic() + limit_s
        while text.encode() not in seen:
            left = deadline - time.monotonic()
            if left <= 0 or proc.poll() is not None:
                raise RuntimeError(f"{text!r} never appeared on the terminal")
            readable, _, _ = select.select([main], [], [], min(left, 0.5))
            if readable:
                try:
                    seen.extend(os.read(main, 65536))
                except OSError:  # the terminal closed
                    raise RuntimeError(f"{text!r} never appeared on the terminal") from None

    def send(keys: str) -> None:
        for ch in keys:
            os.write(main, ch.encode())
            time.sleep(0.002)

    try:
        wait_for(ready)
        startup_ms = (time.monotonic() - started) * 1000
        for keys, shown in (
            (badge + "\r", "your PIN"),  # the PIN is asked for
            (pin + "\r", "Stations"),  # home
            ("\r", after),  # home: Enter opens the station
        ):
            seen.clear()
            send(keys)
            wait_for(shown)
        send("\x11")  # ctrl+q
        deadline = time.monotonic() + 15
        while True:  # its end, and what it used, from the kernel
            pid, _, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()  # it would not quit: measured all the same
                _, _, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(main)
    return TerminalRun(round(startup_ms, 1), round(usage.ru_maxrss / 1024, 1))
