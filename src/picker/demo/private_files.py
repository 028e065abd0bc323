"""Files that hold PINs (the demo's badge list and floor sheet): readable by their owner only."""

from __future__ import annotations

from pathlib import Path

from picker.services.files import write_whole


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` with mode 0600, whole (see
    :func:`~picker.services.files.write_whole`): what was at ``path`` (a readable file, a
    symlink) is replaced, never written through."""
    write_whole(path, data, private=True)
