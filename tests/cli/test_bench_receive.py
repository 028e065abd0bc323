"""``picker bench receive`` on a small floor: its JSON has the rows, and the scans it timed
really happened — receipts closed, goods put away, bins counted, all in the ledger, and
``picker check`` finds nothing wrong afterwards."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from picker.services.check import check
from picker.store.engine import Database
from picker.store.models import CountTask, Receipt, StockMovement
from tests.cli.test_main import run as picker

ARGS = ("--orders", "100", "--lines", "2000", "--counts", "10", "--receipts", "2", "--json")


def _bench(capsys, config, db_url: str, *extra: str) -> dict:  # type: ignore[no-untyped-def]
    code, out, err = picker(capsys, config, "bench", "receive", *ARGS, "--database", db_url,
                            *extra)  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    assert (report["bench"], report["orders"]) == ("receive", 100)
    assert report["database"] == ("sqlite" if db_url.startswith("sqlite") else "postgresql")
    metrics = report["metrics"]
    imported = metrics["import_lines_s"]
    assert imported["unit"] == "per_s" and imported["median"] > 0
    assert imported["target"] == (10_000.0 if report["database"] == "sqlite" else None)
    assert metrics["imported_lines"]["median"] == 2000
    for station, kinds in (("receiving", ("open", "unit", "case", "gs1", "keyed", "close",
                                          "put_item", "put_bin")),
                           ("counting", ("bin", "item", "empty"))):  # fmt: skip
        for row in (f"{station}_scans", *(f"{station}_{kind}" for kind in kinds)):
            m = metrics[row]
            assert m["unit"] == "ms" and m["count"] > 0 and m["target"] == 50.0, row
            assert 0 < m["median"] <= m["p99"] <= m["p99_9"] <= m["max"], row
            assert m["pass"] == (m["p99"] <= 50.0), row
    assert metrics["receipts_closed"]["median"] == 2 and metrics["clean_closes"]["median"] == 2
    received = metrics["units_received"]["median"]
    assert received > 0 and metrics["units_put_away"]["median"] == received
    assert metrics["counts_closed"]["median"] == 10
    # Every fourth bin holding something is counted one unit off: recounted, then adjusted.
    assert metrics["counts_to_recount"]["median"] >= 1
    assert metrics["counts_adjusted"]["median"] == metrics["counts_to_recount"]["median"]
    assert metrics["refused"]["median"] == 0 and metrics["scans_not_whole"]["median"] == 0, err
    return metrics


def _really_happened(db_url: str) -> None:
    db = Database(db_url)
    try:
        with db.read() as s:
            closed = s.scalar(
                select(func.count())
                .select_from(Receipt)
                .where(Receipt.reference.like("ASN-%"), Receipt.status == "closed")
            )
            assert closed == 3  # the two timed, and the one that warmed the station up
            done = s.scalar(
                select(func.count()).select_from(CountTask).where(CountTask.status == "done")
            )
            assert done == 11
            reasons = dict(
                s.execute(
                    select(StockMovement.reason, func.count()).group_by(StockMovement.reason)
                ).all()
            )
        assert reasons.get("receipt", 0) > 0 and reasons.get("putaway", 0) > 0, reasons
        assert reasons.get("count", 0) > 0, reasons
        broken = [f for f in check(db) if f.broken]
        assert not broken, broken
    finally:
        db.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_bench_receive_scans_through_the_headless_app(capsys, config, db_url) -> None:
    metrics = _bench(capsys, config, db_url)
    assert metrics["headless_app"]["median"] == 1
    assert metrics["receiving_putaway"]["count"] == 3 - 1  # CMD-PUTAWAY, one a timed receipt
    _really_happened(db_url)


def test_bench_receive_times_the_service_calls(capsys, config, db_url) -> None:
    metrics = _bench(capsys, config, db_url, "--services")
    assert metrics["headless_app"]["median"] == 0
    assert "receiving_putaway" not in metrics  # the screen's own command: no service call
    _really_happened(db_url)
