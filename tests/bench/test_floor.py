"""The whole floor at once, on both databases: terminal processes working the real services
concurrently — and the same with terminals killed (SIGKILL) and restarted at random. Nothing an
operator was told is lost, and every invariant holds."""

from __future__ import annotations

from sqlalchemy import func, select

from picker.bench.floor import run_floor
from picker.demo.builder import build_demo
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
    assert set(run.stations) == {"picking", "packing", "handoff"}, run.stations


def test_fifty_kills_mid_work_lose_nothing_and_the_killed_go_on_where_they_stopped(
    db_url, settings, tmp_path
) -> None:
    floor_of(db_url)
    run = run_floor(db_url, settings, terminals=4, seconds=20, orders=60, kills=50,
                    folder=tmp_path / "floor", seed=2, pace_s=0.02)  # fmt: skip
    assert run.kills == 50 and run.crashed == 0, run
    # Every restart that checked found its operator's order where the kill left it.
    assert run.resumed >= 1 and run.resume_failures == [], run
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


def test_a_real_server_restart_mid_work_loses_nothing_and_doubles_nothing(
    restartable_postgres, settings, tmp_path
) -> None:
    """PostgreSQL itself stopped (as a crash: immediate) and started again twice while four
    terminals work: each scan that failed meanwhile is sent again by its terminal, none is
    lost, none applied twice (the check counts scan keys), and the work goes on."""
    import time

    server = restartable_postgres
    floor_of(server.url)

    def restart(url: str) -> int:
        server.stop("immediate")
        time.sleep(5.0)  # down long enough for every terminal, however loaded, to try a scan
        server.start()
        return 1

    run = run_floor(server.url, settings, terminals=4, seconds=14, orders=60, drops=2,
                    cut=restart, folder=tmp_path / "floor", pace_s=0.02)  # fmt: skip
    assert run.dropped == 2 and run.crashed == 0, run
    assert run.lost == 0 and run.violations == 0, [f for f in run.findings if f.broken]
    assert run.resent > 0, run  # scans really failed and were sent again
    assert run.scans > run.scans_before_last_drop  # and the terminals carried on after
