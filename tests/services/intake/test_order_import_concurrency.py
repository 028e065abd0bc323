"""Many importers at once, competing for scarce stock: the database keeps every promise.

8 processes on PostgreSQL, 4 on SQLite, each importing orders (some with the same shop number as
another process's) that want more of five SKUs than there is. Afterwards: reserved <= on_hand in
every bin, the reservations add up to the orders' open pick quantities, every order is reserved
fully or not at all, and no shop order exists twice.
"""

from __future__ import annotations

import multiprocessing
import random
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from picker.channels.orders import ParsedFile
from picker.config import load_settings
from picker.demo.builder import build_demo
from picker.domain.intake import Address, IncomingLine, IncomingOrder
from picker.services.actors import Actor
from picker.store.engine import Database
from picker.store.models import Order, OrderLine, PickTask, Stock
from tests.conftest import NOW

REPO = Path(__file__).resolve().parents[3]
SCARCE = ["SKU-00001", "SKU-00002", "SKU-00003", "SKU-00004", "SKU-00005"]
ORDERS_PER_PROCESS = 24


def _orders(worker: int) -> list[IncomingOrder]:
    rng = random.Random(worker)
    orders = []
    for i in range(ORDERS_PER_PROCESS):
        # Every fourth order number is shared by all processes: only one may create it.
        number = f"shared-{i}" if i % 4 == 0 else f"w{worker}-{i}"
        lines = tuple(
            IncomingLine(sku, "item", rng.randint(1, 3), Decimal("10.00"))
            for sku in rng.sample(SCARCE, rng.randint(1, 3))
        )
        orders.append(
            IncomingOrder(
                channel="shop", shop_order_no=number, customer_name="Zoë Ça", customer_email="",
                ship=Address("Zoë Ça", "Rue 1", "", "75001", "Paris", "", "FR", ""),
                shipping_code="post_standard", shipping_title="", currency="EUR",
                total=Decimal("10.00"), cod=False, paid=True, payment_state="paid",
                placed_at=NOW - timedelta(minutes=i), lines=lines,
            )
        )  # fmt: skip
    return orders


def _import_worker(url: str, worker: int, start: Any) -> None:
    from picker.services.intake.order_import import import_orders

    settings = load_settings(REPO / "config.toml", environ={})
    db = Database(url, busy_timeout_s=30)
    orders = _orders(worker)
    start.wait(timeout=60)  # all processes begin together
    report = import_orders(
        db, Actor(f"T{worker:02d}"),
        ParsedFile(format="shopify", total=len(orders), records=iter(enumerate(orders, 1))),
        settings=settings, file_name=f"w{worker}.json", clock=lambda: NOW,
    )  # fmt: skip
    db.dispose()
    if report.failed:  # an import that fails under contention is a defect, not bad luck
        raise SystemExit("; ".join(str(p) for p in report.problems))


def _scarce_stock(db: Database) -> dict[str, int]:
    """Five SKUs, each in two bins, far fewer units than the orders want."""
    amounts = {}
    with db.transaction() as s:
        for n, sku in enumerate(SCARCE):
            pid = s.scalar(text("SELECT id FROM products WHERE sku = :s"), {"s": sku})
            s.execute(text("DELETE FROM stock WHERE product_id = :p"), {"p": pid})
            for k, code in enumerate(("A-01-01-1", "B-02-03-2")):
                qty = 6 + n + k * 3
                s.execute(
                    text("INSERT INTO stock (product_id, bin_id, on_hand, reserved) "
                         "SELECT :p, id, :q, 0 FROM bins WHERE code = :c"),
                    {"p": pid, "q": qty, "c": code},
                )  # fmt: skip
            amounts[sku] = 6 + n + 9 + n
    return amounts


def test_competing_importers_never_oversell_nor_double_anything(db_url) -> None:
    db = Database(db_url)
    build_demo(db, orders=0, seed=1, now=NOW)
    available = _scarce_stock(db)
    n = 8 if db.dialect == "postgresql" else 4
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(n)
    workers = [ctx.Process(target=_import_worker, args=(db_url, w, start)) for w in range(n)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(timeout=240)
    assert [p.exitcode for p in workers] == [0] * n

    with db.read() as s:
        # No shop order twice: the shared numbers exist once each.
        numbers = s.execute(select(Order.shop_order_no, func.count()).group_by(Order.shop_order_no))
        assert all(count == 1 for _, count in numbers)
        expected = ORDERS_PER_PROCESS // 4 + n * (ORDERS_PER_PROCESS - ORDERS_PER_PROCESS // 4)
        assert s.scalar(select(func.count()).select_from(Order)) == expected
        # Stock: never below zero available, reservations equal the open pick quantities.
        open_qty: dict[tuple[int, int], int] = defaultdict(int)
        per_line: dict[int, int] = defaultdict(int)
        for t in s.scalars(select(PickTask)):
            open_qty[(t.product_id, t.bin_id)] += t.quantity - t.picked - t.short
            per_line[t.order_line_id] += t.quantity
        for st in s.scalars(select(Stock)):
            assert 0 <= st.reserved <= st.on_hand
            assert st.reserved == open_qty.get((st.product_id, st.bin_id), 0)
        # Every order fully reserved (unhandled / assigned) or not at all (on hold, short).
        statuses = defaultdict(int)
        for o in s.scalars(select(Order)):
            statuses[o.status.value] += 1
            lines = s.scalars(select(OrderLine).where(OrderLine.order_id == o.id)).all()
            if o.status.value in ("unhandled", "assigned"):
                assert all(per_line[ln.id] == ln.quantity for ln in lines), o.number
            else:
                assert o.status.value == "on_hold" and o.hold_reasons[0].startswith("short:")
                assert all(per_line[ln.id] == 0 for ln in lines), o.number
        total_reserved = s.scalar(select(func.sum(Stock.reserved)))
        # Eight importers each assigned at the end: still no picker above the limit.
        loads = s.execute(
            select(Order.assignee_id, func.count())
            .where(Order.status == "assigned")
            .group_by(Order.assignee_id)
        ).all()
        limit = load_settings(REPO / "config.toml", environ={}).intake.max_orders_per_picker
        assert loads and all(n <= limit for _, n in loads)
    # The stock really was scarce: some orders went short, and nearly all of it is promised.
    assert statuses["on_hold"] > 0 and statuses["unhandled"] + statuses["assigned"] > 0
    assert total_reserved <= sum(available.values())
    db.dispose()
