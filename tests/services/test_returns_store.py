"""The returns schema (migration 0019 up and down) and `picker check`'s returns invariants, on
both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select, text

from picker.bench.drivers import stock_up
from picker.services import check
from picker.services.floor import handoff
from picker.services.returns import desk
from picker.store import migrate
from picker.store.models import Bin
from tests.services.floor.test_handoff import packed
from tests.services.floor.test_packing import LEAD
from tests.services.floor.test_picking import clock
from tests.services.test_returns import DESK, later


def test_migration_0019_goes_up_and_down_and_keeps_quarantine_stock_from_being_sold(
    blank_db,
) -> None:
    engine = blank_db.engine
    migrate.upgrade(engine, "0018")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO products (sku, name, weight_g, fragile, active, ships) "
                          "VALUES ('SKU-1', 'one', 100, false, true, true)"))  # fmt: skip
    migrate.upgrade(engine, "0019")
    with engine.connect() as conn:
        assert {"returns", "return_lines", "return_units"} <= set(inspect(conn).get_table_names())
        columns = {c["name"] for c in inspect(conn).get_columns("order_lines")}
        assert "returned_qty" in columns
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO bins (code, zone, aisle, bay, level, pick_seq, active, "
                "role) VALUES ('Q-00-00-0', 'Q', 0, 0, 0, 0, true, 'quarantine')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO stock (product_id, bin_id, on_hand, reserved) "
                "SELECT p.id, b.id, 1, 0 FROM products p, bins b"
            )
        )
        conn.execute(
            text(
                "INSERT INTO operators (badge, name, pin_hash, active, failed_pins, "
                "created_at) VALUES ('EMP-0001', 'Ann', 'x', true, 0, "
                "CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(text("INSERT INTO operator_roles (operator_id, role) "
                          "SELECT id, 'returns' FROM operators"))  # fmt: skip
    migrate.downgrade(engine, "0018")  # quarantined stock does not stop it (demo --reset)
    with engine.connect() as conn:
        assert "returns" not in inspect(conn).get_table_names()
        assert conn.execute(text("SELECT role, active FROM bins")).one() == ("reserve", False)
        assert conn.execute(text("SELECT on_hand, reserved FROM stock")).one() == (1, 0)
        assert conn.execute(text("SELECT COUNT(*) FROM operator_roles")).scalar() == 0
    migrate.upgrade(engine)
    migrate.check(engine)


def broken(db) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {f.name: f.broken for f in check.check(db) if f.broken}


def returned(db, settings) -> str:  # type: ignore[no-untyped-def]
    """A floor whose stock came through the ledger, an order shipped and both its units back:
    one on its shelf, one in quarantine. The return's number."""
    stock_up(db, 100)
    _, [tracking] = packed(db, settings, ("SKU-00001", 1), ("SKU-00002", 1), tote="T-0901",
                           restock=False)  # fmt: skip
    pickup = handoff.open_pickup(db, LEAD, "POST", clock=clock)
    handoff.hand_over_parcel(db, LEAD, pickup.id, tracking, clock=clock)
    handoff.close_pickup(db, LEAD, settings, pickup.id, clock=clock)
    v = desk.open_return(db, DESK, tracking, settings=settings, clock=later)
    desk.scan_item(db, DESK, v.number, "SKU-00001", settings=settings, clock=later)
    desk.judge(db, DESK, v.number, "resell", settings=settings, clock=later)
    with db.read() as s:
        shelf = s.scalar(select(Bin.code).where(Bin.role == "pick").order_by(Bin.id).limit(1))
    desk.put_away(db, DESK, v.number, shelf, settings=settings, clock=later)
    desk.scan_item(db, DESK, v.number, "SKU-00002", settings=settings, clock=later)
    desk.judge(db, DESK, v.number, "damaged", settings=settings, clock=later)
    desk.close(db, DESK, v.number, settings=settings, clock=later)
    return v.number


def test_a_floor_with_a_return_keeps_every_invariant(floor, settings) -> None:
    returned(floor, settings)
    assert broken(floor) == {}


BREAKS = [
    ("UPDATE order_lines SET returned_qty = returned_qty + 1 WHERE id = "
     "(SELECT MIN(order_line_id) FROM return_units)",
     "no order line is back more often than it was shipped"),
    ("DELETE FROM return_units WHERE id = (SELECT MIN(id) FROM return_units WHERE NOT stocked "
     "OR condition = 'resell')",
     "an order line's returned count is its units received in returns"),
    ("UPDATE stock SET reserved = 1 WHERE bin_id = (SELECT id FROM bins WHERE role = "
     "'quarantine')",
     "nothing in a quarantine bin is reserved"),
    ("UPDATE return_units SET bin_id = (SELECT MIN(id) FROM bins WHERE role = 'pick') "
     "WHERE condition = 'damaged'",
     "a returned unit put away lies where its condition sends it"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "words"), BREAKS, ids=[w for _, w in BREAKS])
def test_a_broken_returns_invariant_is_caught(floor, settings, change, words) -> None:
    returned(floor, settings)
    with floor.transaction() as s:
        assert s.execute(text(change)).rowcount == 1  # type: ignore[attr-defined]
    found = broken(floor)
    assert any(name.startswith(words) for name in found), found
