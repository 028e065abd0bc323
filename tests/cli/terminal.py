"""A command run on a pseudo-terminal, as a person starts it: the terminal app, ``make run``."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def on_a_terminal(
    command: list[str], env: dict[str, str], shown: str, cwd: Path | None = None
) -> tuple[int, str, str]:
    """Run ``command`` (the real ``picker``, or ``make run``) on a pseudo-terminal (80x24) as a
    person starts it, with this checkout's Picker first on the path; wait until ``shown`` is on
    the screen, press Ctrl+Q, and return the exit status, everything the terminal showed, and
    what it showed after Ctrl+Q."""
    main_fd, secondary = pty.openpty()
    env = {**os.environ, **env, "PYTHONPATH": str(SRC), "TERM": "xterm-256color"}
    env.update(COLUMNS="80", LINES="24")
    proc = subprocess.Popen(
        command, stdin=secondary, stdout=secondary, stderr=secondary, env=env, cwd=cwd,
        start_new_session=True,
    )  # fmt: skip
    os.close(secondary)
    seen = bytearray()
    try:
        deadline = time.monotonic() + 60
        while shown.encode() not in seen and time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            readable, _, _ = select.select([main_fd], [], [], 0.5)
            if readable:
                try:
                    seen.extend(os.read(main_fd, 65536))
                except OSError:
                    break
        quit_at = len(seen)
        if shown.encode() in seen:
            os.write(main_fd, b"\x11")  # Ctrl+Q
        code = proc.wait(timeout=60)
        while True:  # what is left to read, so a failure shows it
            readable, _, _ = select.select([main_fd], [], [], 0.1)
            if not readable:
                break
            try:
                chunk = os.read(main_fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen.extend(chunk)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(main_fd)
    return code, seen.decode("utf-8", "replace"), seen[quit_at:].decode("utf-8", "replace")
