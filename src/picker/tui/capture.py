"""Scanner bursts told apart from typing, before any widget sees a key.

A keyboard-wedge scanner types a whole code in a few milliseconds and ends it with Enter. The app
hands every key to :class:`BurstCapture` first (``PickerApp.on_event``, the one place that sees all
keys in order). Printable keys are held with their timestamps; if Enter follows and every gap was
under the threshold, the held keys are one scan and no widget ever sees them. Otherwise (a person
typing, a key with no character, the gap timer running out) the held keys are released, in order,
to wherever they would have gone. So a scan reaches the screen whatever has focus, and a quantity
or PIN typed by hand still reaches its field.

Key timestamps are made in the driver's input thread. When the event loop stalls (a long C call, a
garbage collection), that thread may stall too and keys read afterwards look slow; the periods the
threads could not run are measured by :class:`StallMonitor` and taken off every gap.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from textual import events

#: How the terminal reports the GS separator (FNC1 of GS1 codes): a key with no character.
GS_KEYS = frozenset({"ctrl+right_square_bracket", "ctrl+]"})
GS = "\x1d"
#: Keys that end a scan; Tab too when the scanner's configured suffix is a tab.
ENTER_KEYS = frozenset({"enter", "ctrl+m"})
TAB_KEYS = frozenset({"tab", "ctrl+i"})


def key_text(key: events.Key) -> str | None:
    """The character a key contributes to a scan, None when it is not part of one."""
    if key.key in GS_KEYS:
        return GS
    if key.is_printable and key.character is not None:
        return key.character
    return None


class StallMonitor:
    """Records the periods in which Python threads could not run (a heartbeat that woke late).

    The heartbeat is a thread, like the terminal's input thread: when something holds the GIL
    (a long C call, a large garbage collection) both stop, and the keys read afterwards carry late
    timestamps. A loop merely busy in a call that lets the GIL go (sleep, I/O) stops neither, so
    those periods are rightly not taken off any gap.
    """

    def __init__(self, period_s: float = 0.005, slack_s: float = 0.010, keep_s: float = 5.0):
        self.period_s = period_s
        self.slack_s = slack_s
        self.keep_s = keep_s
        self.stalls: deque[tuple[float, float]] = deque()
        self.last_beat = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="stall-monitor", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        self.last_beat = time.monotonic()
        while not self._stop.wait(self.period_s):
            now = time.monotonic()
            last = self.last_beat
            if now - last > self.period_s + self.slack_s:
                self.stalls.append((last + self.period_s, now))
                while self.stalls and self.stalls[0][1] < now - self.keep_s:
                    self.stalls.popleft()
            self.last_beat = now

    def stalled_between(self, start: float, end: float) -> float:
        """Seconds of [start, end] during which threads were stalled.

        A stall the heartbeat has not woken up from yet counts too: right after a long GIL hold
        the input thread may run (and its keys be judged) before the heartbeat records it.
        """
        periods = list(self.stalls)  # a copy taken at once: the heartbeat thread appends
        last = self.last_beat
        if end - last > self.period_s + self.slack_s:
            periods.append((last + self.period_s, end))
        return sum(max(0.0, min(end, b) - max(start, a)) for a, b in periods)


@dataclass(frozen=True)
class Burst:
    """A scan as it arrived: the characters without the end key, and when the first key came."""

    text: str
    started: float
    ended: float


class BurstCapture:
    """The state machine: feed it every key; it says which keys go on and when a scan is complete.

    ``feed`` and ``expire`` return the keys to pass on, in order (possibly none). A completed
    scan is handed to ``on_scan``. ``accepts`` lets the current screen turn a burst back into
    typing (a PIN typed very fast is not a scan).

    Once :data:`ESTABLISHED` keys have come in under the gap — no person types that fast, it is a
    scanner — a later gap of up to :data:`STRETCH` times the threshold does not break the burst:
    a busy machine that reads the rest of a scan late must not split it in two.
    """

    ESTABLISHED: ClassVar[int] = 4
    STRETCH: ClassVar[float] = 4.0

    def __init__(
        self,
        on_scan: Callable[[Burst], None],
        *,
        gap_s: float = 0.030,
        min_length: int = 3,
        end_keys: frozenset[str] = ENTER_KEYS,
        stalls: StallMonitor | None = None,
        accepts: Callable[[str], bool] = lambda text: True,
    ) -> None:
        self.on_scan = on_scan
        self.gap_s = gap_s
        self.min_length = min_length
        self.end_keys = end_keys
        self.stalls = stalls
        self.accepts = accepts
        self.held: list[tuple[events.Key, str]] = []

    @property
    def allowed_gap(self) -> float:
        """The gap that ends what is held: wider once it is surely a scanner."""
        return self.gap_s * (self.STRETCH if len(self.held) >= self.ESTABLISHED else 1.0)

    def _gap(self, earlier: float, later: float) -> float:
        gap = later - earlier
        if self.stalls is not None and gap > self.gap_s:
            gap -= self.stalls.stalled_between(earlier, later)
        return gap

    def feed(self, key: events.Key) -> list[events.Key]:
        """Take one key; return the keys to hand on now."""
        char = key_text(key)
        if char is not None and key.key not in self.end_keys:
            if self.held and self._gap(self.held[-1][0].time, key.time) >= self.allowed_gap:
                # A slow key: what was held was typing, and so is this one (unless a fast
                # burst starts here: keep holding it, the held ones go on).
                released = self.release()
                self.held.append((key, char))
                return released
            self.held.append((key, char))
            return []
        if key.key in self.end_keys and self.held:
            text = "".join(c for _, c in self.held)
            fast = self._gap(self.held[-1][0].time, key.time) < self.allowed_gap
            if fast and len(text) >= self.min_length and self.accepts(text):
                burst = Burst(text, self.held[0][0].time, key.time)
                self.held.clear()
                self.on_scan(burst)
                return []
        return [*self.release(), key]

    def expire(self, now: float) -> list[events.Key]:
        """The gap timer ran out: release held keys if the last one is really that old."""
        if self.held and self._gap(self.held[-1][0].time, now) >= self.allowed_gap:
            return self.release()
        return []

    def release(self) -> list[events.Key]:
        keys = [k for k, _ in self.held]
        self.held.clear()
        return keys

    @property
    def waiting(self) -> bool:
        """Keys are held: the app must call ``expire`` after ``gap_s``."""
        return bool(self.held)
