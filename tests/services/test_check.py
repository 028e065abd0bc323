"""`picker check`'s invariants on both databases: a worked floor keeps them all, and each one
a change could break is caught when broken."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from picker.bench.drivers import stock_up
from picker.services import auth, check, scans
from picker.services.actors import Actor
from picker.services.floor import handoff
from picker.store.engine import Database
from tests.services.floor.test_handoff import packed
from tests.services.floor.test_packing import LEAD
from tests.services.floor.test_picking import clock


def worked(db: Database, settings) -> None:  # type: ignore[no-untyped-def]
    """The demo floor's orders plus a day's work through the services: picked, packed in two
    parcels, one handed over to a courier on a closed pickup."""
    from picker.demo.builder import build_demo
    from tests.conftest import NOW

    build_demo(db, orders=60, seed=5, now=NOW, reset=True)
    stock_up(db, 100)  # a receipt into every bin, through the ledger
    info = auth.add_operator(db, Actor("T00"), "EMP-0777", "Day Packer", "packer", "2468")
    packer = Actor("T31", info)  # the demo's packers have orders of their own open
    _, [a, _b] = packed(db, settings, ("SKU-00001", 1), ("SKU-00002", 1), tote="T-0901",
                        parcels=2, packer=packer, restock=False)  # fmt: skip
    _, [c] = packed(db, settings, ("SKU-00001", 1), tote="T-0902", packer=packer, restock=False)
    pickup = handoff.open_pickup(db, LEAD, "POST", clock=clock)
    for i, tracking in enumerate((a, c)):
        with scans.sending(scans.ScanKey(f"k-handover-{i}")):  # as a terminal sends a scan
            outcome = scans.ScanOutcome(tracking, "parcel", "accepted")
            handoff.hand_over_parcel(db, LEAD, pickup.id, tracking, scan=outcome, clock=clock)
    handoff.close_pickup(db, LEAD, settings, pickup.id, clock=clock)


def broken(db: Database) -> dict[str, int]:
    return {f.name: f.broken for f in check.check(db) if f.broken}


def test_a_worked_floor_keeps_every_invariant(floor, settings) -> None:
    worked(floor, settings)
    assert broken(floor) == {}


#: A change that breaks one invariant (others may follow from it) → the invariant's words.
BREAKS = [
    ("UPDATE stock SET on_hand = on_hand + 1 WHERE id = (SELECT MIN(id) FROM stock)",
     "stock on hand is what the ledger says"),
    ("UPDATE stock SET reserved = reserved + 1 WHERE id = "
     "(SELECT MIN(id) FROM stock WHERE reserved < on_hand)",
     "reserved stock is what open pick lines still need"),
    ("UPDATE pick_tasks SET retired_at = updated_at WHERE id = (SELECT MIN(id) FROM pick_tasks "
     "WHERE picked > 0)",
     "an order that stopped being picked kept nothing picked"),
    ("UPDATE totes SET order_id = (SELECT MIN(id) FROM orders WHERE status = 'executed') "
     "WHERE id = (SELECT MIN(id) FROM totes WHERE order_id IS NULL)",
     "a tote holds an order that is being picked"),
    ("UPDATE totes SET order_id = NULL WHERE order_id = "
     "(SELECT MIN(id) FROM orders WHERE status = 'picking')",
     "an order being picked has a tote"),
    ("UPDATE orders SET status = 'executed' WHERE id = "
     "(SELECT MIN(order_id) FROM parcels WHERE status = 'closed')",
     "every executed order has all its parcels on closed pickups"),
    ("DELETE FROM print_jobs WHERE kind = 'label' AND id = (SELECT MIN(id) FROM print_jobs "
     "WHERE kind = 'label')",
     "every parcel closed at a packing table has its label job"),
    ("INSERT INTO order_events (order_id, at, terminal_id, from_status, to_status, reason) "
     "SELECT id, updated_at, 'T99', status, 'delivered', 'a jump' FROM orders "
     "WHERE status = 'unhandled' AND id = (SELECT MIN(id) FROM orders WHERE status = 'unhandled')",
     "every order's events are a legal walk"),
    ("UPDATE orders SET status = 'cancelled' WHERE id = "
     "(SELECT MIN(id) FROM orders WHERE status = 'unhandled')",
     "every order's status is where its events end"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "words"), BREAKS, ids=[w for _, w in BREAKS])
def test_a_broken_invariant_is_caught(floor, settings, change, words) -> None:
    worked(floor, settings)
    with floor.transaction() as s:
        assert s.execute(text(change)).rowcount == 1  # type: ignore[attr-defined]
    found = broken(floor)
    assert any(name.startswith(words) for name in found), found
