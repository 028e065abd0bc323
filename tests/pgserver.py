"""A PostgreSQL server of a test's own, which the test may stop and start again: a real server
restart (the shared server on 5432 serves every other test and is never touched).

Made with the machine's own ``initdb`` and ``pg_ctl`` in a temporary folder, on a free port,
trust authentication. Run as root (CI here), the server runs as the ``postgres`` user, as a
server must.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bindir() -> Path:
    found = shutil.which("pg_ctl")
    if found is None:
        for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True):
            found = str(candidate)
            break
    if found is None:
        raise RuntimeError("pg_ctl is not installed: a server of the test's own cannot be made")
    return Path(found).resolve().parent


class PrivateServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.port = _free_port()
        self.bin = _bindir()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/picker"
        self.running = False

    def _run(self, *argv: str) -> None:
        command = [str(self.bin / argv[0]), *argv[1:]]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:2])} failed: {done.stderr.strip()}")

    def create(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--no-sync", "--no-instructions")  # fmt: skip
        self.start()
        admin = create_engine(
            self.url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE picker"))
        admin.dispose()

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w",
                  "-o", options, "start")  # fmt: skip
        self.running = True

    def stop(self, mode: str = "immediate") -> None:
        """``immediate``: as a crash or a power cut (recovery from the WAL at the next start);
        ``fast``: a clean shutdown."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
        self.running = False

    def destroy(self) -> None:
        if self.running:
            self.stop("fast")
        shutil.rmtree(self.root, ignore_errors=True)
