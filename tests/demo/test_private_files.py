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


def test_a_link_left_in_its_place_is_replaced_never_written_through(tmp_path) -> None:
    victim = tmp_path / "someone-elses.txt"
    victim.write_text("theirs")
    victim.chmod(0o644)
    link = tmp_path / "demo-badges.txt"
    link.symlink_to(victim)
    write_private(link, b"EMP-0001 1234\n")
    assert victim.read_text() == "theirs" and victim.stat().st_mode & 0o777 == 0o644
    assert not link.is_symlink() and link.read_bytes() == b"EMP-0001 1234\n"
    assert link.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
