"""The schema refuses what must never be stored, on both databases."""

import json
from contextlib import nullcontext
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import insert, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from picker.store import migrate
from picker.store.engine import Database
from picker.store.models import Bin, Order, OrderEvent, Product, ProductBarcode, Stock
from tests.conftest import NOW


def _product_in_bin(db: Database) -> None:
    with db.transaction() as s:
        s.execute(insert(Product).values(id=1, sku="SKU-1", name="Mug", weight_g=300))
        s.execute(insert(ProductBarcode).values(product_id=1, barcode="4006381333931"))
        s.execute(
            insert(Bin).values(
                id=1, code="A-01-01-1", zone="A", aisle=1, bay=1, level=1, pick_seq=10
            )
        )
        s.execute(insert(Stock).values(product_id=1, bin_id=1, on_hand=5, reserved=2))


@pytest.mark.parametrize(
    ("values", "constraint"),
    [
        ({"reserved": 6}, "reserved_within_on_hand"),
        ({"on_hand": -1, "reserved": 0}, "on_hand_not_negative"),
        ({"reserved": -1}, "reserved_not_negative"),
    ],
)
def test_stock_can_never_be_reserved_beyond_what_is_on_hand(db, values, constraint) -> None:
    _product_in_bin(db)
    with pytest.raises(IntegrityError, match=constraint), db.transaction() as s:
        s.execute(update(Stock).values(**values))
    with db.read() as s:
        assert s.execute(text("SELECT on_hand, reserved FROM stock")).one() == (5, 2)


def test_a_barcode_names_one_product_only(db) -> None:
    _product_in_bin(db)
    with pytest.raises(IntegrityError), db.transaction() as s:
        s.execute(insert(Product).values(id=2, sku="SKU-2", name="Cup", weight_g=200))
        s.execute(insert(ProductBarcode).values(product_id=2, barcode="4006381333931"))


def test_stock_must_point_at_a_real_bin(db) -> None:
    _product_in_bin(db)
    with pytest.raises(IntegrityError), db.transaction() as s:
        s.execute(insert(Stock).values(product_id=1, bin_id=999, on_hand=1, reserved=0))


def _order_values(**over: object) -> dict[str, object]:
    values: dict[str, object] = dict(
        number="PO-0000001", channel="shop", shop_order_no="1001", customer_name="A",
        ship_name="A", ship_street="S 1", ship_postal_code="1", ship_city="C",
        ship_country="PL", shipping_method="x", currency="PLN", total_amount=Decimal("1.5"),
        paid=True, placed_at=NOW, status="unhandled", hold_reasons=[], version=1,
        priority=0, created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    values.update(over)
    return values


@pytest.mark.parametrize(
    ("assignment", "constraint"),
    [
        ("status = 'shipped'", "status_known"),
        ("cod_amount = 0", "cod_amount_positive"),
        ("total_amount = -1", "total_not_negative"),
        ("currency = 'PL'", "currency_code"),
        ("version = 0", "version_positive"),
    ],
)
def test_orders_refuse_impossible_values_in_the_database_itself(db, assignment, constraint) -> None:
    # Raw SQL: the database, not Python, must refuse (another tool may write to it).
    with db.transaction() as s:
        s.execute(insert(Order).values(**_order_values()))
    with pytest.raises(IntegrityError, match=constraint), db.transaction() as s:
        s.execute(text(f"UPDATE orders SET {assignment}"))


def test_the_same_shop_order_cannot_be_imported_twice(db) -> None:
    with db.transaction() as s:
        s.execute(insert(Order).values(**_order_values()))
    with pytest.raises(IntegrityError), db.transaction() as s:
        s.execute(insert(Order).values(**_order_values(number="PO-0000002")))


def test_money_is_exact_and_finer_amounts_are_refused(db) -> None:
    with db.transaction() as s:
        s.execute(insert(Order).values(**_order_values(total_amount=Decimal("1234567.8912"))))
    with db.read() as s:
        assert s.scalar(text("SELECT total_amount FROM orders")) == 12345678912
        assert s.query(Order).one().total_amount == Decimal("1234567.8912")
    with pytest.raises(Exception, match="more than 4 decimal places"), db.transaction() as s:
        s.execute(update(Order).values(total_amount=Decimal("0.00001")))


def test_times_come_back_in_utc_whatever_zone_went_in(db) -> None:
    from zoneinfo import ZoneInfo

    warsaw = datetime(2026, 11, 22, 10, 30, tzinfo=ZoneInfo("Europe/Warsaw"))
    with db.transaction() as s:
        s.execute(insert(Order).values(**_order_values(placed_at=warsaw)))
    with db.read() as s:
        placed = s.query(Order).one().placed_at
    assert placed == datetime(2026, 11, 22, 9, 30, tzinfo=UTC) and placed.tzinfo is UTC


def test_order_events_are_append_only(db) -> None:
    with db.transaction() as s:
        s.execute(insert(Order).values(id=1, **_order_values()))
        s.execute(
            insert(OrderEvent).values(
                order_id=1, at=NOW, terminal_id="T01", to_status="unhandled", reason="imported"
            )
        )
    for statement in ("UPDATE order_events SET reason = 'x'", "DELETE FROM order_events"):
        with pytest.raises(DBAPIError, match="append-only"), db.transaction() as s:
            s.execute(text(statement))
    with db.read() as s:
        assert s.scalar(text("SELECT reason FROM order_events")) == "imported"


def test_sqlite_runs_with_wal_and_foreign_keys(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}", busy_timeout_s=2.5)
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 2500
    db.dispose()


def test_reading_the_schema_revision_never_waits_for_a_writer(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    writer, reader = Database(url), Database(url, busy_timeout_s=0.2)
    migrate.upgrade(writer.engine)
    with writer.transaction() as s:  # another terminal holds the write lock…
        s.execute(text("UPDATE alembic_version SET version_num = version_num"))
        assert migrate.current_revision(reader.engine) == migrate.head_revision()
    writer.dispose()
    reader.dispose()


def test_sqlite_connections_keep_foreign_keys_on_after_a_migration(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'fk.db'}")
    migrate.upgrade(db.engine)
    migrate.downgrade(db.engine, "base")
    migrate.upgrade(db.engine)
    for _ in range(3):  # whichever pooled connection comes back
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.dispose()


def test_migrations_go_up_down_and_up_again_and_match_the_models(blank_db) -> None:
    assert migrate.current_revision(blank_db.engine) is None
    migrate.upgrade(blank_db.engine)
    assert migrate.current_revision(blank_db.engine) == migrate.head_revision()
    migrate.check(blank_db.engine)  # raises if models and migrations disagree
    migrate.downgrade(blank_db.engine, "base")
    with blank_db.engine.connect() as conn:
        from sqlalchemy import inspect

        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(blank_db.engine)
    assert migrate.current_revision(blank_db.engine) == migrate.head_revision()


def test_the_import_writer_leaves_its_connection_as_it_found_it(db) -> None:
    # The pooled connection goes back to others: no relaxed durability or checkpointing left.
    for _ in range(2):
        with db.writer() as conn, conn.begin():
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = version_num")
    with db.engine.connect() as conn:
        if db.dialect == "sqlite":
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
            assert conn.exec_driver_sql("PRAGMA temp_store").scalar() == 0  # the default
        else:
            assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"


def _numbers(db: Database) -> list[int]:
    with db.read() as s:
        return list(s.scalars(text("SELECT n FROM scratch ORDER BY n")))


def test_a_failing_unit_of_a_group_is_undone_alone_and_the_rest_commit(db) -> None:
    with db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE scratch (n INTEGER PRIMARY KEY)")
    with db.writer() as conn:
        group = db.group_commit(conn, max_units=10, max_seconds=60)
        for n in (1, 2, 3, 4):
            failing = pytest.raises(ZeroDivisionError) if n == 3 else nullcontext()
            with failing, group.unit():
                conn.exec_driver_sql(f"INSERT INTO scratch (n) VALUES ({n})")
                if n == 3:
                    conn.exec_driver_sql("INSERT INTO scratch (n) VALUES (30)")
                    raise ZeroDivisionError  # after writing: all of it is undone
        group.commit()
    assert _numbers(db) == [1, 2, 4]


def test_a_group_is_due_after_its_units_or_its_time(db) -> None:
    with db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE scratch (n INTEGER PRIMARY KEY)")
    with db.writer() as conn:
        by_count = db.group_commit(conn, max_units=2, max_seconds=60)
        assert not by_count.due
        for n in (1, 2):
            with by_count.unit():
                conn.exec_driver_sql(f"INSERT INTO scratch (n) VALUES ({n})")
        # SQLite: two units share the commit; PostgreSQL: each unit is a transaction of its own.
        assert by_count.due and by_count.max_units == (2 if db.dialect == "sqlite" else 1)
        by_count.commit()
        by_time = db.group_commit(conn, max_units=100, max_seconds=0)
        with by_time.unit():
            conn.exec_driver_sql("INSERT INTO scratch (n) VALUES (3)")
        assert by_time.due
        by_time.commit()
    assert _numbers(db) == [1, 2, 3]


def test_orders_of_an_uncommitted_group_are_invisible_to_others(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'group.db'}"
    writer, other = Database(url), Database(url)
    with writer.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE scratch (n INTEGER PRIMARY KEY)")
    with writer.writer() as conn:
        group = writer.group_commit(conn, max_units=10, max_seconds=60)
        with group.unit():
            conn.exec_driver_sql("INSERT INTO scratch (n) VALUES (1)")
        assert _numbers(other) == []  # written, not yet committed: a crash now loses it whole
        group.commit()
        assert _numbers(other) == [1]
    writer.dispose()
    other.dispose()


def test_a_writer_that_waits_too_long_gets_a_clear_database_error(tmp_path) -> None:
    from sqlalchemy.exc import OperationalError

    from picker.services.errors import describe_failure

    url = f"sqlite:///{tmp_path / 'locked.db'}"
    holder, waiter = Database(url), Database(url, busy_timeout_s=0.1)
    migrate.upgrade(holder.engine)
    touch = text("UPDATE alembic_version SET version_num = version_num")
    with holder.transaction() as held:
        held.execute(touch)  # the holder takes the write lock…
        with pytest.raises(OperationalError) as err, waiter.transaction() as waiting:
            waiting.execute(touch)  # …the waiter gives up after its busy timeout
    assert describe_failure(err.value) == "the database cannot be used: database is locked"
    holder.dispose()
    waiter.dispose()


def test_a_transaction_that_loses_a_deadlock_is_run_again_whole(fresh_postgres_url) -> None:
    """PostgreSQL only: rows are locked one by one there, so two transactions can wait on each
    other in a circle; the server undoes one (40P01) and Database.run runs it again. (SQLite's
    writers take the whole database in turn: no such circle.)"""
    import threading

    db = Database(fresh_postgres_url)
    try:
        with db.transaction() as s:
            s.execute(text("CREATE TABLE pair (id int PRIMARY KEY, n int)"))
            s.execute(text("INSERT INTO pair VALUES (1, 0), (2, 0)"))
        both_hold_one = threading.Barrier(2)
        attempts = [0, 0]

        def crossing(i: int, first: int, second: int):  # type: ignore[no-untyped-def]
            def work(s):  # type: ignore[no-untyped-def]
                attempts[i] += 1
                s.execute(text("UPDATE pair SET n = n + 1 WHERE id = :id"), {"id": first})
                if attempts[i] == 1:
                    both_hold_one.wait(timeout=10)  # each holds one row, wants the other
                s.execute(text("UPDATE pair SET n = n + 10 WHERE id = :id"), {"id": second})
                return attempts[i]

            return lambda: db.run(work)

        results: list[object] = [None, None]

        def go(i: int, call) -> None:  # type: ignore[no-untyped-def]
            try:
                results[i] = call()
            except Exception as exc:
                results[i] = exc

        threads = [
            threading.Thread(target=go, args=(0, crossing(0, 1, 2))),
            threading.Thread(target=go, args=(1, crossing(1, 2, 1))),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        # One went through at once; the other was undone by the server and run again.
        assert all(isinstance(r, int) for r in results), results
        assert min(results) == 1 and max(results) >= 2, results  # type: ignore[type-var]
        with db.read() as s:
            # Each transaction's effect counted exactly once: 1 + 10 on each row.
            assert s.execute(text("SELECT n FROM pair ORDER BY id")).scalars().all() == [11, 11]
    finally:
        db.dispose()


def test_a_full_disk_is_said_in_words_and_leaves_the_database_whole(tmp_path) -> None:
    from sqlalchemy import event, func, select
    from sqlalchemy.exc import OperationalError

    from picker.services import scans
    from picker.services.actors import Actor
    from picker.services.errors import describe_failure
    from picker.services.scans import ScanOutcome
    from picker.store.models import ScanJournal

    db = Database(f"sqlite:///{tmp_path / 'full.db'}")
    try:
        from picker.store import migrate

        migrate.upgrade(db.engine)
        with db.engine.connect() as conn:
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
        db.engine.dispose()

        @event.listens_for(db.engine, "connect")
        def _small_disk(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            dbapi_conn.execute(f"PRAGMA max_page_count = {int(pages) + 2}")

        saved = 0
        with pytest.raises(OperationalError) as full:
            for i in range(5000):
                outcome = ScanOutcome(f"SCAN-{i:05d}-" + "x" * 200, "code", "accepted")
                scans.record(db, Actor("T01"), "picking", "pick", outcome)
                saved += 1
        assert describe_failure(full.value) == (
            "the database's disk is full: nothing was saved; free some space, then try again"
        )
        with db.read() as s:  # what was acknowledged is there, the failed scan is not
            assert s.scalar(select(func.count()).select_from(ScanJournal)) == saved
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    finally:
        db.dispose()


def test_a_couriers_one_cutoff_becomes_its_services_cutoffs_and_comes_back(blank_db) -> None:
    migrate.upgrade(blank_db.engine, "0009")
    with blank_db.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO couriers (id, code, name, tracking_scheme, tracking_prefix, next_number, "
            "cutoff, label_layout, lane, active) VALUES "
            "(1, 'POST', 'Post', 's10', 'EE', 0, '15:30:00', 'post-4x6', 'LANE-1', true)"
        )
        conn.exec_driver_sql(
            "INSERT INTO courier_services (id, courier_id, code, name, express) VALUES "
            "(1, 1, 'standard', 'Standard', false), (2, 1, 'ems', 'EMS', true)"
        )
    migrate.upgrade(blank_db.engine, "0010")
    with blank_db.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT code, cutoffs, active FROM courier_services ORDER BY id"
        ).all()
    assert [(code, json.loads(c) if isinstance(c, str) else c, bool(a)) for code, c, a in rows] == [
        ("standard", ["15:30"], True),
        ("ems", ["15:30"], True),
    ]
    migrate.downgrade(blank_db.engine, "0009")
    with blank_db.engine.connect() as conn:
        assert str(conn.exec_driver_sql("SELECT cutoff FROM couriers").scalar()).startswith("15:00")
