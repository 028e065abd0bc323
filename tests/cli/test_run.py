"""``picker run``: one config, any terminal — the station, id and printer chosen at start."""

from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

from picker.cli import main

SRC = Path(__file__).resolve().parents[2] / "src"


def start_on_a_terminal(args: list[str], env: dict[str, str], shown: str) -> tuple[int, str]:
    """Run the real ``picker`` on a pseudo-terminal (80x24) as a person starts it; wait until
    ``shown`` is on the screen, press Ctrl+Q, and return the exit status and what was shown."""
    main_fd, secondary = pty.openpty()
    env = {**os.environ, **env, "PYTHONPATH": str(SRC), "TERM": "xterm-256color"}
    env.update(COLUMNS="80", LINES="24")
    proc = subprocess.Popen(
        [sys.executable, "-m", "picker", *args], stdin=secondary, stdout=secondary,
        stderr=secondary, env=env, start_new_session=True,
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
        if shown.encode() in seen:
            os.write(main_fd, b"\x11")  # Ctrl+Q
        code = proc.wait(timeout=20)
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
    return code, seen.decode("utf-8", "replace")


def test_picker_run_starts_the_station_and_terminal_it_is_given(
    tmp_path, config, sqlite_template
) -> None:
    database = tmp_path / "picker.db"
    shutil.copyfile(sqlite_template, database)
    env = {"PICKER_DATABASE_URL": f"sqlite:///{database}"}
    args = ["--config", str(config), "run", "--station", "packing", "--terminal", "PACK-1"]
    code, screen = start_on_a_terminal(args, env, "PACK-1 · packing")
    assert "PACK-1 · packing" in screen and code == 0, screen[-2000:]
    # Without a command it is the terminal too, and the environment chooses the station.
    code, screen = start_on_a_terminal(
        ["--config", str(config)], {**env, "PICKER_STATION": "handoff"}, "T05 · handoff"
    )
    assert "T05 · handoff" in screen and code == 0, screen[-2000:]


def test_an_unknown_station_is_refused_listing_the_stations(capsys, config, tmp_path) -> None:
    code = main(["--config", str(config), "run", "--station", "kitchen", "--terminal", "K-1"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err == (
        "picker: configuration: --station: 'kitchen' is not a station; the stations are "
        "picking, packing, handoff\n"
    )
    assert not (tmp_path / "var").exists()  # the config's database: nothing made
