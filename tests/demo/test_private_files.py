"""Files that hold PINs are written readable by their owner only, also over an older file."""

from __future__ import annotations

from picker.demo.private_files import write_private


def test_a_secret_is_written_0600_even_over_a_world_readable_file(tmp_path) -> None:
    path = tmp_path / "demo-badges.txt"
    path.write_text("old, readable by anyone\n")
    path.chmod(0o644)
    write_private(path, b"EMP-0001 1234\n")
    assert path.read_bytes() == b"EMP-0001 1234\n"
    assert path.stat().st_mode & 0o777 == 0o600
    fresh = tmp_path / "floor-sheet.pdf"
    write_private(fresh, b"%PDF")
    assert fresh.stat().st_mode & 0o777 == 0o600
