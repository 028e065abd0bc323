"""Printer back-ends on real parts: a spool folder, a stand-in `lp` on PATH, a TCP listener."""

from __future__ import annotations

import os
import socket
import stat
import threading
import time
from pathlib import Path

import pytest

from picker.config import PrinterSettings, load_settings
from picker.printing.backends import (
    LpBackend,
    PrinterDown,
    SpoolBackend,
    TcpBackend,
    backend_for,
)

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
ZPL = b"^XA^FO50,50^BCN,100,Y,N,N^FDEE123456785PL^FS^XZ"


class Listener:
    """A stand-in network printer: accepts connections on 127.0.0.1 and keeps, per connection,
    every byte it was sent until the sender closed its side."""

    def __init__(self, port: int = 0) -> None:
        self.sock = socket.create_server(("127.0.0.1", port))
        self.sock.settimeout(0.05)
        self.port: int = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                chunks = []
                while data := conn.recv(65536):
                    chunks.append(data)
            with self._lock:
                self.received.append(b"".join(chunks))

    def wait_for(self, count: int, timeout: float = 5.0) -> list[bytes]:
        """What ``count`` connections sent (the sender may return before we have read it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.01)
        with self._lock:
            return list(self.received)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


def free_port() -> int:
    """A port nothing listens on (a printer that is switched off)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def listener():  # type: ignore[no-untyped-def]
    printer = Listener()
    yield printer
    printer.close()


def fake_lp(tmp_path: Path, *, fail: str | None = None) -> Path:
    """An `lp` stand-in (CUPS is not installed here) that records its arguments and stdin."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    record = tmp_path / "lp-record"
    body = f"echo '{fail}' >&2\nexit 1\n" if fail else "echo 'request id is Zebra-42 (1 file(s))'\n"
    script = bin_dir / "lp"
    script.write_text(
        f"#!/bin/sh\nprintf '%s\\n' \"$@\" > '{record}.argv'\ncat > '{record}.stdin'\n" + body,
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return record


# --- spool -----------------------------------------------------------------------------------


def test_spool_writes_exactly_the_documents_bytes_under_a_readable_name(tmp_path) -> None:
    spool = SpoolBackend("T01", tmp_path / "var" / "spool")  # created on first use
    where = spool.send(PDF, content_type="application/pdf", title="label-EE123456785PL-7")
    assert where == str(tmp_path / "var" / "spool" / "label-EE123456785PL-7.pdf")
    assert Path(where).read_bytes() == PDF
    zpl = spool.send(ZPL, content_type="application/zpl", title="label / ../../etc 8")
    assert Path(zpl).parent == tmp_path / "var" / "spool"  # no way out of the folder
    assert Path(zpl).name == "label_etc_8.zpl" and Path(zpl).read_bytes() == ZPL
    assert sorted(os.listdir(tmp_path / "var" / "spool")) == [
        "label-EE123456785PL-7.pdf",
        "label_etc_8.zpl",
    ]  # no temporary files left behind


def test_a_spooled_file_is_never_seen_half_written(tmp_path) -> None:
    spool = SpoolBackend("T01", tmp_path)
    versions = [b"A" * 3_000_000, b"B" * 4_000_000]
    target = tmp_path / "big.pdf"
    reads: list[bytes] = []
    stop = threading.Event()

    def reader() -> None:  # a spool consumer looking at the folder while documents arrive
        while not stop.is_set():
            try:
                data = target.read_bytes()
            except FileNotFoundError:
                continue
            if data not in versions:
                reads.append(data[:20])
            reads.append(data[:1])

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for _ in range(3):
            for data in versions:
                spool.send(data, content_type="application/pdf", title="big")
    finally:
        stop.set()
        thread.join()
    assert reads and set(reads) <= {b"A", b"B"}  # only whole documents were ever seen
    assert target.read_bytes() == versions[1]


def test_a_spool_folder_that_cannot_be_written_is_a_printer_down_in_words(tmp_path) -> None:
    blocker = tmp_path / "spool"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    with pytest.raises(PrinterDown) as down:
        SpoolBackend("PACK-1", blocker).send(PDF, content_type="application/pdf", title="x")
    assert str(down.value).startswith(f"printer PACK-1 (spool folder {blocker}) cannot be written")
    assert down.value.printer == "PACK-1"


# --- TCP -------------------------------------------------------------------------------------


def test_tcp_sends_exactly_the_documents_bytes_to_the_printer(listener) -> None:
    printer = TcpBackend("T01", "127.0.0.1", listener.port, timeout_s=2)
    assert printer.send(PDF, content_type="application/pdf", title="x") == (
        f"127.0.0.1:{listener.port}"
    )
    printer.send(ZPL, content_type="application/zpl", title="y")
    assert listener.wait_for(2) == [PDF, ZPL]


def test_a_tcp_printer_not_listening_is_a_printer_down_naming_it() -> None:
    port = free_port()
    with pytest.raises(PrinterDown) as down:
        TcpBackend("T01", "127.0.0.1", port, timeout_s=2).send(
            ZPL, content_type="application/zpl", title="x"
        )
    assert str(down.value) == (
        f"printer T01 at 127.0.0.1:{port} is not answering (connection refused)"
    )


def test_a_tcp_printer_whose_name_is_unknown_is_a_printer_down() -> None:
    with pytest.raises(PrinterDown, match=r"at no-such-printer\.invalid:9100 is not answering"):
        TcpBackend("T01", "no-such-printer.invalid", 9100, timeout_s=2).send(
            ZPL, content_type="application/zpl", title="x"
        )


# --- CUPS lp ---------------------------------------------------------------------------------


def test_lp_gets_the_queue_the_title_and_the_document_on_stdin(tmp_path, monkeypatch) -> None:
    record = fake_lp(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    lp = LpBackend("T01", "Zebra_ZD421", timeout_s=5)
    assert lp.send(PDF, content_type="application/pdf", title="label-EE1-3") == "Zebra-42"
    assert record.with_suffix(".argv").read_text().split("\n")[:-1] == [
        "-d", "Zebra_ZD421", "-t", "label-EE1-3",
    ]  # fmt: skip
    assert record.with_suffix(".stdin").read_bytes() == PDF
    lp.send(ZPL, content_type="application/zpl", title="label-EE1-4")
    assert record.with_suffix(".argv").read_text().split("\n")[:-1] == [
        "-d",
        "Zebra_ZD421",
        "-t",
        "label-EE1-4",
        "-o",
        "raw",
    ]  # fmt: skip  (ZPL must reach the thermal printer unfiltered)
    assert record.with_suffix(".stdin").read_bytes() == ZPL


def test_a_failing_lp_is_a_printer_down_with_what_lp_said(tmp_path, monkeypatch) -> None:
    fake_lp(tmp_path, fail="lp: The printer or class does not exist.")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(PrinterDown) as down:
        LpBackend("T01", "Zebra", timeout_s=5).send(PDF, content_type="application/pdf", title="x")
    assert str(down.value) == (
        "printer T01 (CUPS queue Zebra) refused the job: lp: The printer or class does not exist."
    )


def test_a_missing_lp_is_a_printer_down_not_a_crash(tmp_path, monkeypatch) -> None:
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(PrinterDown, match=r"CUPS queue Zebra\) cannot be reached: lp is not"):
        LpBackend("T01", "Zebra").send(PDF, content_type="application/pdf", title="x")


# --- choosing --------------------------------------------------------------------------------


def test_the_config_chooses_the_back_end(tmp_path) -> None:
    spool = backend_for(PrinterSettings(spool_dir=tmp_path), "T01")
    assert isinstance(spool, SpoolBackend) and spool.directory == tmp_path
    lp = backend_for(PrinterSettings(backend="lp", queue="Zebra", timeout_s=3), "PACK-1")
    assert isinstance(lp, LpBackend) and (lp.name, lp.queue, lp.timeout_s) == ("PACK-1", "Zebra", 3)
    config = tmp_path / "config.toml"
    config.write_text(
        '[terminal]\nid = "PACK-2"\n[printer]\nbackend = "tcp"\nhost = "10.0.0.5"\n',
        encoding="utf-8",
    )
    settings = load_settings(config, {}).printer
    tcp = backend_for(settings, settings.name)
    assert isinstance(tcp, TcpBackend)
    assert (tcp.name, tcp.host, tcp.port, tcp.timeout_s) == ("PACK-2", "10.0.0.5", 9100, 10.0)
