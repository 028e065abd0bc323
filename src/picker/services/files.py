"""Files Picker writes whole (label sheets, set-up exports, the demo's badge list): never half."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

#: The process's umask, read once: setting it to read it is not thread-safe.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def write_whole(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write ``data`` to ``path`` in one step: into a new file of our own beside it (never
    through a link someone left there), synced, then moved over ``path``; a failure leaves what
    was there. ``private`` files (PINs) are readable by their owner only (0600); others get the
    mode any new file gets (0666 less the umask)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if not private:
            os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
