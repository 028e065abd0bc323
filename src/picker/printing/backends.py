"""Printer back-ends: where a rendered document goes — a spool folder, CUPS (`lp`), raw TCP.

A back-end only sends; it knows nothing of the print queue. Anything that keeps a document from
reaching the printer is a :class:`PrinterDown` whose message is one line a person can act on
("printer T01 at 10.0.0.5:9100 is not answering (connection refused)"); the queue keeps the job
and tries again later.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Protocol

from picker.config import PrinterSettings


class PrinterDown(Exception):
    """The document did not reach the printer; the message names the printer and the cause."""

    def __init__(self, printer: str, message: str) -> None:
        super().__init__(" ".join(message.split()))
        self.printer = printer


class Backend(Protocol):
    """One printer as a terminal reaches it."""

    #: What the user calls this printer, shown in messages.
    name: str

    def send(self, data: bytes, *, content_type: str, title: str) -> str:
        """Hand ``data`` to the printer; return where it went (a file, a request id,
        host:port). Raises :class:`PrinterDown`."""
        ...


def extension_for(content_type: str) -> str:
    """``pdf``, ``zpl`` or ``bin``: the file extension of a document of ``content_type``."""
    kind = content_type.lower()
    if "pdf" in kind:
        return "pdf"
    if "zpl" in kind:
        return "zpl"
    return "bin"


def safe_title(title: str) -> str:
    """``title`` fit for a file name and a CUPS job title: letters, digits, '.', '-', '_'."""
    # A run of punctuation holding anything else (a slash, a space) becomes one '_'.
    text = re.sub(r"[^A-Za-z0-9]*[^A-Za-z0-9._-][^A-Za-z0-9]*", "_", title).strip("._-")[:100]
    return text or "document"


def _reason(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, socket.gaierror):
        return "host name not found"
    return (exc.strerror or str(exc) or type(exc).__name__).lower()


class SpoolBackend:
    """Writes each document as a file ``<dir>/<title>.<pdf|zpl|bin>``.

    The file appears whole or not at all: it is written under a hidden temporary name in the same
    folder, flushed to disk, then renamed. A second document of the same title replaces the first
    (the same document sent again).
    """

    def __init__(self, name: str, directory: Path) -> None:
        self.name = name
        self.directory = Path(directory)

    def send(self, data: bytes, *, content_type: str, title: str) -> str:
        target = self.directory / f"{safe_title(title)}.{extension_for(content_type)}"
        temp: str | None = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, target)
            temp = None
        except OSError as exc:
            raise PrinterDown(
                self.name,
                f"printer {self.name} (spool folder {self.directory}) cannot be written: "
                f"{_reason(exc)}",
            ) from exc
        finally:
            if temp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
        return str(target)


class LpBackend:
    """Hands each document to CUPS: ``lp -d QUEUE -t TITLE`` with the document on stdin.

    ZPL goes with ``-o raw`` so CUPS passes it to the thermal printer untouched. ``command`` is
    the ``lp`` executable (looked up on PATH when it is a bare name).
    """

    def __init__(self, name: str, queue: str, *, timeout_s: float = 10.0, command: str = "lp"):
        self.name = name
        self.queue = queue
        self.timeout_s = timeout_s
        self.command = command

    def send(self, data: bytes, *, content_type: str, title: str) -> str:
        argv = [self.command, "-d", self.queue, "-t", safe_title(title)]
        if extension_for(content_type) == "zpl":
            argv += ["-o", "raw"]
        where = f"printer {self.name} (CUPS queue {self.queue})"
        try:
            done = subprocess.run(
                argv, input=data, capture_output=True, timeout=self.timeout_s, check=False
            )
        except FileNotFoundError as exc:
            raise PrinterDown(
                self.name, f"{where} cannot be reached: {self.command} is not installed"
            ) from exc
        except subprocess.TimeoutExpired as exc:
            raise PrinterDown(
                self.name, f"{where} did not take the job within {self.timeout_s:g} s"
            ) from exc
        except OSError as exc:
            raise PrinterDown(
                self.name, f"{where} cannot be reached: {self.command}: {_reason(exc)}"
            ) from exc
        if done.returncode != 0:
            said = _first_lines(done.stderr) or _first_lines(done.stdout)
            raise PrinterDown(
                self.name,
                f"{where} refused the job: {said or f'lp ended with status {done.returncode}'}",
            )
        out = done.stdout.decode("utf-8", "replace").strip()
        found = re.search(r"request id is (\S+)", out)
        return found.group(1) if found else (out or f"lp -d {self.queue}")


def _first_lines(raw: bytes, limit: int = 300) -> str:
    text = " ".join(raw.decode("utf-8", "replace").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class TcpBackend:
    """Sends each document raw to ``host:port`` (a network printer's port 9100, PDF or ZPL)."""

    def __init__(self, name: str, host: str, port: int = 9100, *, timeout_s: float = 10.0):
        self.name = name
        self.host = host
        self.port = port
        self.timeout_s = timeout_s

    def send(self, data: bytes, *, content_type: str, title: str) -> str:
        address = f"{self.host}:{self.port}"
        try:
            with socket.create_connection((self.host, self.port), timeout=self.timeout_s) as sock:
                sock.sendall(data)
                # The end of the document: the printer sees EOF and prints what it has.
                sock.shutdown(socket.SHUT_WR)
        except OSError as exc:
            raise PrinterDown(
                self.name, f"printer {self.name} at {address} is not answering ({_reason(exc)})"
            ) from exc
        return address


def backend_for(settings: PrinterSettings, name: str) -> Backend:
    """The back-end ``settings`` choose, for the printer called ``name``."""
    if settings.backend == "spool":
        return SpoolBackend(name, settings.spool_dir)
    if settings.backend == "lp":
        return LpBackend(name, settings.queue, timeout_s=settings.timeout_s)
    if settings.backend == "tcp":
        return TcpBackend(name, settings.host, settings.port, timeout_s=settings.timeout_s)
    raise ValueError(f"unknown printer back-end {settings.backend!r}")
