"""`picker check`'s invariants on both databases: a worked floor keeps them all, and each one
a change could break is caught when broken."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from picker.bench.drivers import stock_up
from picker.services import auth, check, scans
from picker.services.actors import Actor
from picker.services.floor import handoff
from picker.services.intake import catalogue
from picker.services.orders import lead_actions
from picker.store.engine import Database
from tests.conftest import NOW
from tests.services.floor.test_handoff import packed
from tests.services.floor.test_packing import LEAD
from tests.services.floor.test_picking import clock
from tests.services.intake.test_order_import import CLI, order, run


def worked(db: Database, settings) -> None:  # type: ignore[no-untyped-def]
    """The demo floor's orders plus a day's work through the services: picked, packed in two
    parcels, one handed over to a courier on a closed pickup."""
    from picker.demo.builder import build_demo

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
    ("UPDATE orders SET assignee_id = NULL WHERE id = "
     "(SELECT MIN(id) FROM orders WHERE status = 'assigned')",
     "an order waiting for its picker or being picked has its picker"),
    ("UPDATE pick_tasks SET tote_id = NULL WHERE id = (SELECT MIN(t.id) FROM pick_tasks t "
     "JOIN orders o ON o.id = t.order_id WHERE o.status = 'picking')",
     "every pick line of an order being picked goes into that order's tote"),
    # Two orders in packing for one packer: each one's opening is refused for the other.
    ("UPDATE orders SET packer_id = (SELECT MIN(packer_id) FROM orders WHERE status = 'packing') "
     "WHERE id = (SELECT MIN(id) FROM orders WHERE status = 'packing' AND packer_id <> "
     "(SELECT MIN(packer_id) FROM orders WHERE status = 'packing'))",
     "a packer has at most one order being packed"),
    ("UPDATE orders SET status = 'executed' WHERE id = "
     "(SELECT MIN(order_id) FROM parcels WHERE status = 'closed')",
     "every executed order has all its parcels on closed pickups"),
    ("DELETE FROM print_jobs WHERE kind = 'label' AND id = (SELECT MIN(id) FROM print_jobs "
     "WHERE kind = 'label')",
     "every parcel closed at a packing table has its label job"),
    ("INSERT INTO order_events (order_id, at, terminal_id, from_status, to_status, reason) "
     "SELECT id, updated_at, 'T99', status, 'delivered', 'a jump' FROM orders "
     "WHERE status = 'assigned' AND id = (SELECT MIN(id) FROM orders WHERE status = 'assigned')",
     "every order's events are a legal walk"),
    ("UPDATE orders SET status = 'cancelled' WHERE id = "
     "(SELECT MIN(id) FROM orders WHERE status = 'assigned')",
     "every order's status is where its events end"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "words"), BREAKS, ids=[w for _, w in BREAKS])
def test_a_broken_invariant_is_caught(floor, settings, change, words) -> None:
    worked(floor, settings)
    with floor.transaction() as s:
        assert s.execute(text(change)).rowcount == 1  # type: ignore[attr-defined]
    found = broken(floor)
    assert any(name.startswith(words) for name in found), found


def test_the_demo_floor_keeps_every_invariant_and_an_unreserved_waiting_order_is_caught(
    db,
) -> None:
    """An unhandled order is only ever given to a picker once reserved: one without stock
    reserved waits for ever (the demo used to build thirteen)."""
    from picker.demo.builder import build_demo

    build_demo(db, orders=60, seed=5, now=NOW)
    assert broken(db) == {}
    with db.transaction() as s:
        s.execute(text(
            "UPDATE pick_tasks SET retired_at = updated_at WHERE order_id = "
            "(SELECT MIN(id) FROM orders WHERE status = 'unhandled')"
        ))  # fmt: skip
    assert broken(db) == {"an order waiting to be given to a picker has its stock reserved": 1}


# --- orders held short -------------------------------------------------------------------------

SHORT = "an order held short was short: what it needs was not free when it was held"


def only(db: Database, settings, sku: str, n: int, *, at: datetime) -> None:  # type: ignore[no-untyped-def]
    """``n`` of ``sku`` in its first bin and none in the others, counted at ``at`` (the ledger
    says so too)."""
    from picker.store.models import Bin, Product, Stock

    with db.read() as s:
        bins = list(s.scalars(
            select(Bin.code).join(Stock, Stock.bin_id == Bin.id)
            .join(Product, Product.id == Stock.product_id)
            .where(Product.sku == sku).order_by(Bin.code)
        ))  # fmt: skip
    for i, code in enumerate(bins):
        catalogue.set_stock(db, CLI, sku, code, n if i == 0 else 0, clock=lambda: at,
                            bin_pattern=settings.scanner.patterns["bin"])  # fmt: skip


def hold_of(db: Database, number: str) -> tuple[str, list[str]]:
    from picker.store.models import Order

    with db.read() as s:
        row = s.execute(select(Order.status, Order.hold_reasons).where(Order.number == number))
        status, reasons = row.one()
    return str(status), list(reasons)


def test_an_order_held_short_of_what_is_not_there_keeps_the_invariant(floor, settings) -> None:
    only(floor, settings, "SKU-00001", 0, at=NOW - timedelta(hours=1))
    run(floor, settings, order("1001", ("SKU-00001", 2)))
    assert hold_of(floor, "PO-0000001") == ("on_hold", ["short: SKU-00001"])
    assert broken(floor) == {}
    # Stock arrives after the hold: the order is stale until tried again, not wrongly held.
    only(floor, settings, "SKU-00001", 5, at=NOW + timedelta(hours=1))
    assert broken(floor) == {}
    [release] = lead_actions.retry_short_orders(floor, CLI, settings=settings, clock=lambda: NOW)
    assert release.released and broken(floor) == {}


def test_stock_freed_by_a_cancel_leaves_a_short_hold_stale_not_broken(floor, settings) -> None:
    only(floor, settings, "SKU-00001", 1, at=NOW - timedelta(hours=1))
    run(floor, settings, order("1001", ("SKU-00001", 1)), order("1002", ("SKU-00001", 1)))
    assert hold_of(floor, "PO-0000002") == ("on_hold", ["short: SKU-00001"])
    lead_actions.cancel_order(floor, CLI, "PO-0000001", "customer cancelled",
                              clock=lambda: NOW + timedelta(minutes=5))  # fmt: skip
    assert broken(floor) == {}


def test_an_order_held_short_of_stock_that_was_free_all_along_is_caught(floor, settings) -> None:
    """As the demo used to hold them: stock received the day before, the order held today."""
    only(floor, settings, "SKU-00001", 0, at=NOW - timedelta(days=2))
    run(floor, settings, order("1001", ("SKU-00001", 2), ("SKU-00002", 1)))
    assert hold_of(floor, "PO-0000001")[0] == "on_hold"
    only(floor, settings, "SKU-00001", 2, at=NOW - timedelta(days=1))  # counted before the hold
    assert broken(floor) == {SHORT: 1}
    [finding] = [f for f in check.check(floor) if f.broken]
    assert finding.examples[0].startswith("PO-0000001 ")
    # One unit fewer than it needs: short indeed.
    only(floor, settings, "SKU-00001", 1, at=NOW - timedelta(days=1))
    assert broken(floor) == {}
