"""``make run``: the demo's badges and PINs are where a person finds them after the terminal's
screen covered them, and Ctrl+Q is named."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tests.cli.terminal import on_a_terminal

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_says_where_the_badges_are_after_the_terminal_quits(tmp_path) -> None:
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    venv = tmp_path / ".venv"
    venv.mkdir()
    (venv / ".installed").touch()  # installed already: this interpreter's Picker is used
    bin_dir = Path(sys.executable).parent
    code, screen, after = on_a_terminal(
        ["make", "run", f"BIN={bin_dir}"], {}, "T01 · picking", cwd=tmp_path
    )
    assert code == 0, screen[-3000:]
    assert (tmp_path / "var" / "picker.db").is_file()  # the demo floor, built on first run
    assert "Ctrl+Q quits it" in screen
    hint = "Demo badges and PINs: var/demo-badges.txt (also on the floor sheet var/floor-sheet.pdf)"
    assert hint in after and "EMP-0001" in after, after[-2000:]
    # After the terminal's own last words (it leaves its screen), not only before it.
    assert after.rindex(hint) > after.rfind("\x1b[?1049l")
