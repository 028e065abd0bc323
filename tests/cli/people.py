"""Who a command-line test acts as: the demo floor's operators, named with ``--as``."""

from pathlib import Path

import pytest


def demo_pins(var: Path) -> dict[str, str]:
    """Badge → PIN of the demo floor built in ``var`` (from its var/demo-badges.txt)."""
    lines = (var / "demo-badges.txt").read_text(encoding="utf-8").splitlines()[1:]
    return dict(line.split()[:2] for line in lines)


def as_demo(monkeypatch: pytest.MonkeyPatch, var: Path, badge: str = "EMP-0001") -> list[str]:
    """``["--as", badge]`` for a command, the badge's demo PIN in PICKER_PIN (EMP-0001 is the
    demo floor's lead; EMP-0002 and 3 are pickers, EMP-0004 and 5 packers)."""
    monkeypatch.setenv("PICKER_PIN", demo_pins(var)[badge])
    return ["--as", badge]
