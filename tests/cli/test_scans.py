"""`picker scan explain`, `picker scans` and `picker bench scan`, run as a user would."""

from __future__ import annotations

import io
import json

from picker.services import scans
from picker.services.actors import Actor
from picker.services.scans import ScanOutcome
from picker.store.engine import Database
from tests.cli.test_main import run


def test_explain_shows_every_field_of_a_gs1_code_with_gs_written_visibly(capsys, config) -> None:
    code, out, _ = run(
        capsys, config, "scan", "explain", "]C10109501101530003" + "3103001250" + "10AB<GS>21S9"
    )
    assert code == 0
    assert "raw:     ]C101095011015300033103001250" + "10AB<GS>21S9" in out
    assert "kind:    product" in out
    assert "GTIN (01): 09501101530003" in out
    assert "1.250 kg" in out and "Lot (10): AB" in out and "Serial (21): S9" in out


def test_explain_a_misread_exits_1_with_the_reason(capsys, config) -> None:
    code, out, _ = run(capsys, config, "scan", "explain", "4006381333932")
    assert code == 1 and "refused: " in out and "scan again" in out


def test_explain_hints_at_a_keyboard_layout_mismatch(capsys, config) -> None:
    _code, out, _ = run(capsys, config, "scan", "explain", "EMP)0007")
    assert "hint:" in out and "AZERTY" in out and "EMP-0007" in out


def test_explain_reads_stdin_as_the_scanner_typed_it_and_shows_hidden_characters(
    capsys, config, monkeypatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("T-0042\r\n"))
    code, out, _ = run(capsys, config, "scan", "explain", "-")
    assert code == 0 and "raw:     T-0042<CR><LF>" in out and "kind:    tote" in out


def test_explain_never_lets_a_scan_drive_the_terminal(capsys, config) -> None:
    code, out, _ = run(capsys, config, "scan", "explain", "AB\x1b[2JC")
    assert code == 1 and "\x1b" not in out and "<ESC>" in out


def test_scans_lists_the_journal_of_one_terminal_or_all(capsys, config, db_url, monkeypatch):
    monkeypatch.setenv("PICKER_DATABASE_URL", db_url)
    db = Database(db_url)
    scans.record(db, Actor("T01"), "picking", "pick", ScanOutcome("T-0001", "tote", "accepted"))
    scans.record(
        db,
        Actor("T02"),
        "packing",
        "pack",
        ScanOutcome("X\x1dY\x1b", "unreadable", "refused", "bad"),
    )
    db.dispose()
    code, out, _ = run(capsys, config, "scans")
    assert code == 0 and "T-0001" in out and "X<GS>Y<ESC>" in out and "2 scans" in out
    assert "\x1b" not in out
    code, out, _ = run(capsys, config, "scans", "--terminal", "T01", "--json")
    [entry] = json.loads(out)["scans"]
    assert (entry["terminal"], entry["raw"], entry["kind"], entry["result"]) == (
        "T01",
        "T-0001",
        "tote",
        "accepted",
    )


def test_bench_scan_measures_scan_to_feedback_through_the_real_app(
    capsys, config, tmp_path
) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    code, out, err = run(
        capsys, config, "bench", "scan", "--scans", "40", "--orders", "5", "--database", url,
        "--json",
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    latency = report["metrics"]["scan_to_feedback"]
    assert report["metrics"]["scans"]["median"] == 40
    assert 0 < latency["median"] <= latency["p99"]
    db = Database(url)
    journaled = scans.recent(db, last=100, terminal="BENCH")
    db.dispose()
    assert len([e for e in journaled if e.screen == "scanner-test"]) == 40
