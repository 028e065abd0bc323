"""The scan journal, on both databases: what is written, what is read back, what cannot change."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from picker.config import DEFAULT_PATTERNS
from picker.domain.scanning import ScanError, ScanRouter
from picker.services import auth, scans
from picker.services.actors import Actor
from picker.services.scans import ScanOutcome
from picker.store import migrate
from picker.store.engine import Database
from tests.conftest import NOW

ROUTER = ScanRouter({k: re.compile(v) for k, v in DEFAULT_PATTERNS.items()})


def _clock(minutes: int = 0):  # type: ignore[no-untyped-def]
    return lambda: NOW + timedelta(minutes=minutes)


def test_a_scan_is_journaled_with_terminal_operator_screen_kind_fields_and_result(db) -> None:
    auth.add_operator(db, Actor("T00"), "EMP-0042", "Ana Nowak", "picker", "1234")
    op = auth.login(db, "T03", "EMP-0042", "1234", clock=_clock())
    scan = ROUTER.classify("(01)09501101530003(17)270200(10)LOT-7")
    scans.record(
        db, Actor("T03", op), "picking", "pick", ScanOutcome.of(scan, "accepted"), clock=_clock(1)
    )
    [entry] = scans.recent(db)
    assert (entry.terminal_id, entry.operator, entry.station, entry.screen) == (
        "T03",
        "EMP-0042",
        "picking",
        "pick",
    )
    assert (entry.kind, entry.result, entry.raw) == (
        "product",
        "accepted",
        "(01)09501101530003(17)270200(10)LOT-7",
    )
    assert entry.at == NOW + timedelta(minutes=1)
    assert "09501101530003" in entry.fields.values()
    assert "2027-02-28" in entry.fields.values()  # day 00: the last day of the month
    assert "LOT-7" in entry.fields.values()


def test_a_refused_scan_is_journaled_raw_with_the_reason(db) -> None:
    raw = "40063813339\x1d35\x07"
    with pytest.raises(ScanError) as caught:
        ROUTER.classify(raw)
    scans.record(db, Actor("T01"), "packing", "pack", ScanOutcome.unreadable(raw, caught.value))
    [entry] = scans.recent(db)
    assert entry.raw == raw  # GS and the BEL kept: the journal shows what really arrived
    assert entry.kind == "unreadable" and entry.result == "refused"
    assert entry.message == str(caught.value) and entry.operator == ""


def test_a_misread_is_journaled_as_a_misread(db) -> None:
    with pytest.raises(ScanError) as caught:
        ROUTER.classify("4006381333932")
    scans.record(
        db, Actor("T01"), "picking", "pick", ScanOutcome.unreadable("4006381333932", caught.value)
    )
    assert scans.recent(db)[0].result == "misread"


def test_a_nul_character_cannot_break_the_journal(db) -> None:
    outcome = ScanOutcome("AB\x00C", "unreadable", "refused", "control character")
    scans.record(db, Actor("T01"), "picking", "pick", outcome)
    assert scans.recent(db)[0].raw == "AB\ufffdC"


def test_recent_gives_the_last_scans_oldest_first_and_filters_by_terminal(db) -> None:
    for i in range(6):
        terminal = "T01" if i % 2 == 0 else "T02"
        outcome = ScanOutcome(f"T-{i:04d}", "tote", "accepted")
        scans.record(db, Actor(terminal), "picking", "pick", outcome, clock=_clock(i))
    assert [e.raw for e in scans.recent(db, last=3)] == ["T-0003", "T-0004", "T-0005"]
    assert [e.raw for e in scans.recent(db, terminal="T02")] == ["T-0001", "T-0003", "T-0005"]


def test_a_journal_row_written_with_an_effect_goes_when_the_effect_rolls_back(db) -> None:
    outcome = ScanOutcome("T-0001", "tote", "accepted")
    with pytest.raises(RuntimeError), db.transaction() as s:
        scans.journal(s, Actor("T01"), "picking", "pick", outcome, at=NOW)
        raise RuntimeError("the effect failed")
    assert scans.recent(db) == []


def test_an_unknown_result_is_refused(db) -> None:
    with pytest.raises(ValueError, match="accepted, refused, misread"):
        scans.record(db, Actor("T01"), "picking", "pick", ScanOutcome("x", "code", "maybe"))


@pytest.mark.parametrize("table", ["scan_journal", "stock_movements"])
def test_journals_stay_append_only_after_a_downgrade_and_upgrade(db_url, table) -> None:
    db = Database(db_url)
    try:
        migrate.downgrade(db.engine, "0002")
        migrate.upgrade(db.engine)
        scans.record(db, Actor("T01"), "picking", "pick", ScanOutcome("T-0001", "tote", "accepted"))
        with db.transaction() as s:
            s.execute(
                text(
                    "INSERT INTO products (id, sku, name, weight_g, fragile, active) "
                    "VALUES (1, 'S', 'Mug', 300, false, true)"
                )
            )
            s.execute(
                text(
                    "INSERT INTO bins (id, code, zone, aisle, bay, level, pick_seq, active) "
                    "VALUES (1, 'A-01-01-1', 'A', 1, 1, 1, 10, true)"
                )
            )
            s.execute(text("INSERT INTO stock_movements (at, product_id, bin_id, delta, reason) "
                           "VALUES (CURRENT_TIMESTAMP, 1, 1, 5, 'receipt')"))  # fmt: skip
        for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
            with pytest.raises(DBAPIError, match="append-only"), db.transaction() as s:
                s.execute(text(statement))
        assert scans.recent(db)[0].raw == "T-0001"
    finally:
        db.dispose()


def test_a_scan_keeps_its_key_and_is_journaled_once_when_sent_again(db) -> None:
    """A scan that changes nothing else (a bin confirmed, a refusal) sent again after a lost
    answer: journaled once, and the screen goes on as if the first answer had come."""
    for resent in (False, True, True):
        with scans.sending(scans.ScanKey("k-bin", resent=resent)):
            scans.record(
                db, Actor("T02"), "picking", "pick", ScanOutcome("A-01-01-1", "bin", "accepted")
            )
    with db.read() as s:
        keys = s.execute(text("SELECT scan_key FROM scan_journal")).scalars().all()
    assert keys == ["k-bin"]


def test_outside_a_sending_a_scan_has_no_key(db) -> None:
    scans.record(db, Actor("T02"), "picking", "pick", ScanOutcome("A-01-01-1", "bin", "accepted"))
    with db.read() as s:
        assert s.execute(text("SELECT scan_key FROM scan_journal")).scalars().all() == [None]


def test_the_database_refuses_a_scan_key_twice(db) -> None:
    """What `picker check`'s "no scan applied twice" asks is also a unique index: a first
    sending whose commit lands after the second sending looked for it cannot make two rows."""
    with scans.sending(scans.ScanKey("k-once")):
        scans.record(db, Actor("T02"), "picking", "pick", ScanOutcome("B-1", "bin", "accepted"))
    with pytest.raises(DBAPIError), db.transaction() as s:
        s.execute(
            text(
                "INSERT INTO scan_journal (at, terminal_id, station, screen, raw, kind, fields, "
                "result, message, scan_key) SELECT at, terminal_id, station, screen, raw, kind, "
                "fields, result, message, scan_key FROM scan_journal"
            )
        )
    assert [e.raw for e in scans.recent(db)] == ["B-1"]
