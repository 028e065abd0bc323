"""The progress bar long commands draw on stderr."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """A one-line progress bar on stderr (plain lines when stderr is not a terminal)."""

    def __init__(self, stream: TextIO | None = None, width: int = 30) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self.started = time.perf_counter()
        self.tty = self.stream.isatty()
        self._last_line = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        elapsed = time.perf_counter() - self.started
        share = done / total if total else 1.0
        filled = int(self.width * share)
        bar = "#" * filled + "." * (self.width - filled)
        text = f"{stage:<10} [{bar}] {done:>10,}/{total:,} {elapsed:6.1f}s"
        if self.tty:
            self.stream.write("\r" + text + ("\n" if done >= total else ""))
            self.stream.flush()
        elif done >= total or elapsed - self._last_line >= 5:
            self._last_line = elapsed
            self.stream.write(text + "\n")
            self.stream.flush()
