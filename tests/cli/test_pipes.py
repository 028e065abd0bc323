"""Output into a pipe whose reader went away (``picker order list | head -1``) ends quietly, as
Unix tools do: exit status 141 (or 0), no "Broken pipe" message."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture
def env(tmp_path, sqlite_template) -> dict[str, str]:  # type: ignore[no-untyped-def]
    database = tmp_path / "picker.db"
    shutil.copyfile(sqlite_template, database)
    return {
        **os.environ, "PYTHONPATH": str(SRC), "PICKER_DATABASE_URL": f"sqlite:///{database}"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("args", "status"),
    [(["order", "list"], {141}), (["db", "current"], {141}), (["--help"], {0, 141})],
)  # argparse's help swallows the error itself: it ends with 0
def test_output_into_a_closed_pipe_ends_quietly(env, config, args, status) -> None:
    reader, writer = os.pipe()
    os.close(reader)  # the reader is gone before picker writes a byte
    try:
        done = subprocess.run(
            [sys.executable, "-m", "picker", "--config", str(config), *args],
            stdout=writer, stderr=subprocess.PIPE, env=env, timeout=60,
        )  # fmt: skip
    finally:
        os.close(writer)
    assert done.returncode in status
    assert done.stderr == b""  # no "Broken pipe", no "Exception ignored"


def test_picker_into_head_shows_the_first_line_and_no_error(env, config) -> None:
    done = subprocess.run(
        ["bash", "-c", f'"{sys.executable}" -m picker --config "{config}" order list | head -1; '
         'echo "status ${PIPESTATUS[0]}" >&2'],
        capture_output=True, env=env, timeout=60,
    )  # fmt: skip
    assert done.stdout.decode().startswith("number ") and done.stdout.count(b"\n") == 1
    status = done.stderr.decode().strip()
    assert status in ("status 0", "status 141"), done.stderr  # no message before it


def test_other_errors_still_speak(env, config) -> None:
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "picker", "--config", str(config), "order", "show", "PO-9"],
            stdout=writer, stderr=subprocess.PIPE, env=env, timeout=60,
        )  # fmt: skip
    finally:
        os.close(writer)
    assert done.returncode == 1 and done.stderr.decode().startswith("picker: ")
