"""The whole floor at once, on both databases: terminal processes working the real services
concurrently — and the same with terminals killed (SIGKILL) and restarted at random. Nothing an
operator was told is lost, and every invariant holds."""

from __future__ import annotations

from sqlalchemy import func, select

from picker.services.demo import build_demo
from picker.services.floor import run_floor
from picker.store.engine import Database
from picker.store.models import Order, Parcel
from tests.conftest import NOW


def floor_of(url: str) -> None:
    db = Database(url)
    try:
        build_demo(db, orders=100, seed=3, now=NOW, reset=True)
    finally:
        db.dispose()


def packed_parcels(url: str) -> int:
    db = Database(url)
    try:
        with db.read() as s:
            return int(
                s.scalar(
                    select(func.count())
                    .select_from(Parcel)
                    .join(Order, Order.id == Parcel.order_id)
                    .where(Parcel.label_no.is_not(None))
                )
                or 0
            )
    finally:
        db.dispose()


def test_four_terminals_at_once_lose_nothing_and_keep_every_invariant(
    db_url, settings, tmp_path
) -> None:
    floor_of(db_url)
    run = run_floor(db_url, settings, terminals=4, seconds=12, orders=60,
                    folder=tmp_path / "floor", pace_s=0.02)  # fmt: skip
    assert run.scans > 10, run
    assert run.lost == 0 and run.violations == 0, [f for f in run.findings if f.broken]
    assert run.crashed == 0
    assert packed_parcels(db_url) > 0  # picked, then packed by the other terminals


def test_fifty_kills_mid_work_lose_nothing_and_the_killed_go_on_where_they_stopped(
    db_url, settings, tmp_path
) -> None:
    floor_of(db_url)
    run = run_floor(db_url, settings, terminals=4, seconds=20, orders=60, kills=50,
                    folder=tmp_path / "floor", seed=2, pace_s=0.02)  # fmt: skip
    assert run.kills == 50 and run.resumed >= 1 and run.crashed == 0, run
    assert run.lost == 0 and run.violations == 0, [f for f in run.findings if f.broken]
    assert run.scans > 0


def test_connections_cut_mid_work_lose_nothing(db_url, settings, tmp_path) -> None:
    floor_of(db_url)
    run = run_floor(db_url, settings, terminals=4, seconds=12, orders=60, drops=4,
                    folder=tmp_path / "floor", pace_s=0.02)  # fmt: skip
    assert run.lost == 0 and run.violations == 0 and run.crashed == 0, run
    if db_url.startswith("postgresql"):
        assert run.dropped > 0  # connections were really cut, four times
        assert run.scans > run.scans_before_last_drop  # and the terminals carried on
    else:
        assert run.dropped == 0 and run.scans > 0  # SQLite: nothing to cut
