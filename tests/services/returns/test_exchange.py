"""Exchanges on both databases: a return's replacement order, priced, linked both ways, held for
what is due or reserved and assigned at once, marked on the pick and pack screens and the label,
and the return's story in both orders' timelines."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from picker.domain.intake import IncomingLine
from picker.domain.returns import rma_number
from picker.domain.roles import Role
from picker.services import check
from picker.services.actors import Actor, OperatorInfo
from picker.services.floor import handoff, packing, picking
from picker.services.floor.parcels import close_parcel
from picker.services.orders import find, lead_actions
from picker.services.orders.timeline import order_timeline
from picker.services.printjobs.labels import parcel_label_data
from picker.services.returns.exchange import ExchangeMade, ExchangeRefused, create_exchange
from picker.store.engine import Database
from picker.store.models import (
    Bin,
    Order,
    OrderEvent,
    OrderLine,
    Parcel,
    PickTask,
    Return,
    ReturnUnit,
)
from tests.services.floor.test_handoff import packed
from tests.services.floor.test_packing import LEAD, PACKER, ready
from tests.services.floor.test_picking import clock, order_id, picker_of, status
from tests.services.intake.test_order_import import order, run, stock

DESK = Actor("T30", OperatorInfo(1, "EMP-0001", "Lead One", frozenset({Role.LEAD})))
PRICE = Decimal("150000")  # every line of tests.services.intake.test_order_import.order


def later(minutes: int = 60) -> datetime:
    return clock() + timedelta(minutes=minutes)


def shipped(db: Database, settings, *lines: tuple[str, int], tote: str = "T-0901") -> str:  # type: ignore[no-untyped-def]
    """An order packed and handed to its courier on a closed pickup: executed."""
    number, tracking = packed(db, settings, *lines, tote=tote)
    pickup = handoff.open_pickup(db, LEAD, "POST", clock=clock)
    for t in tracking:
        handoff.hand_over_parcel(db, LEAD, pickup.id, t, clock=clock)
    handoff.close_pickup(db, LEAD, settings, pickup.id, clock=clock)
    assert status(db, number) == "executed"
    return number


def came_back(db: Database, number: str, *units: tuple[str, str]) -> int:
    """A return of order ``number`` open at the desk with ``units`` (SKU, condition) judged
    (a foreign unit: SKU ""); its id. Written as the returns desk leaves it."""
    with db.transaction() as s:
        o = s.execute(select(Order.id, Order.currency).where(Order.number == number)).one()
        ret = Return(order_id=o.id, number=f"tmp-{o.id}", status="open", currency=o.currency,
                     terminal_id="T30", created_at=later(1), opened_at=later(1), exchange=True,
                     reason="damaged", created_by=1)  # fmt: skip
        s.add(ret)
        s.flush()
        ret.number = rma_number(ret.id)
        for i, (sku, condition) in enumerate(units):
            line = s.execute(
                select(OrderLine.id, OrderLine.product_id).where(
                    OrderLine.order_id == o.id, OrderLine.sku == sku
                )
            ).one_or_none()
            quarantine = s.scalar(select(Bin.id).order_by(Bin.id).limit(1))
            s.add(
                ReturnUnit(
                    return_id=ret.id, order_line_id=line.id if line else None,
                    product_id=line.product_id if line else None, condition=condition,
                    bin_id=quarantine if condition == "damaged" else None,
                    stocked=condition == "damaged", note="a brick" if not line else None,
                    at=later(2 + i), operator_id=1, terminal_id="T30",
                )
            )  # fmt: skip
        return ret.id


def exchange(db: Database, settings, ret_id: int, *items: tuple[str, int]) -> ExchangeMade:  # type: ignore[no-untyped-def]
    """The close's part: the replacement written in a transaction of its own here."""
    with db.transaction() as s:
        made = create_exchange(s, DESK, ret_id, list(items), settings=settings, at=later(10))
        s.execute(
            Return.__table__.update()
            .where(Return.id == ret_id)
            .values(status="closed", closed_at=later(10), closed_by=1, refund_amount=made.refund,
                    refund_shipping=Decimal(0))
        )  # fmt: skip
    return made


def priced(db: Database, settings, shop_no: str, sku: str, price: str) -> None:  # type: ignore[no-untyped-def]
    """An order of another customer with ``sku`` at ``price``: the shop's price of late."""
    run(db, settings, order(shop_no, lines=(IncomingLine(sku, "item", 1, Decimal(price)),)))


def broken(db: Database) -> list[str]:
    """The invariants of ``picker check`` that do not hold, but the ledger's: the tests' stock
    is written straight into the stock table (tests.services.intake.test_order_import.stock)."""
    ledger = "stock on hand is what the ledger says (receipts, counts, picks, put-backs)"
    return [f.name for f in check.check(db) if f.broken and f.name != ledger]


def replacement(db: Database, made: ExchangeMade) -> Order:
    with db.read() as s:
        o = s.get(Order, made.order_id)
        assert o is not None
        s.expunge(o)
        return o


def test_the_same_sku_makes_an_assigned_replacement_linked_both_ways_with_nothing_due(
    floor, settings
) -> None:
    number = shipped(floor, settings, ("SKU-00001", 1))
    ret_id = came_back(floor, number, ("SKU-00001", "damaged"))
    made = exchange(floor, settings, ret_id, ("SKU-00001", 1))
    assert (made.due, made.refund, made.value, made.returned) == (0, 0, PRICE, PRICE)
    assert made.status == "assigned" and made.number.startswith("PO-")
    new = replacement(floor, made)
    with floor.read() as s:
        old = s.execute(select(Order).where(Order.number == number)).scalar_one()
        rma = s.get(Return, ret_id)
        assert rma is not None and rma.exchange_order_id == new.id
        assert new.exchange_for_return_id == ret_id
        lines = s.execute(
            select(OrderLine.sku, OrderLine.quantity, OrderLine.unit_price).where(
                OrderLine.order_id == new.id
            )
        ).all()
        first = s.execute(
            select(OrderEvent.to_status, OrderEvent.reason)
            .where(OrderEvent.order_id == new.id)
            .order_by(OrderEvent.id)
        ).first()
    assert lines == [("SKU-00001", 1, PRICE)]
    same = ("customer_name", "customer_email", "ship_name", "ship_street", "ship_postal_code",
            "ship_city", "ship_country", "shipping_method", "courier_id", "service_id",
            "channel", "currency")  # fmt: skip
    assert {f: getattr(new, f) for f in same} == {f: getattr(old, f) for f in same}
    assert (new.paid, new.cod_amount, new.shop_order_no) == (True, None, rma.number)
    assert new.status.value == "assigned" and new.assignee_id is not None
    assert first is not None and f"exchange for {rma.number} of {number}" in first.reason
    # Found by the RMA number, and by the shop number the customer knows, with the original.
    assert [f.number for f in find.find_orders(floor, rma.number)] == [new.number]
    assert {f.number for f in find.find_orders(floor, old.shop_order_no)} == {number, new.number}


def test_a_dearer_sku_holds_the_replacement_for_the_amount_due_until_the_lead_releases_it(
    floor, settings
) -> None:
    number = shipped(floor, settings, ("SKU-00001", 1))
    priced(floor, settings, "2001", "SKU-00003", "200000")
    stock(floor, "SKU-00003", B_02_03_1=5)
    ret_id = came_back(floor, number, ("SKU-00001", "resell"))
    made = exchange(floor, settings, ret_id, ("SKU-00003", 1))
    assert (made.due, made.refund, made.status) == (Decimal("50000"), 0, "on_hold")
    new = replacement(floor, made)
    rma = rma_number(ret_id)
    assert new.hold_reasons == [
        f"not paid: 50000.00 VND due for the exchange {rma} (release when the shop says it is paid)"
    ]
    with floor.read() as s:  # held: nothing reserved for it
        tasks = select(func.count()).select_from(PickTask).where(PickTask.order_id == new.id)
        assert s.scalar(tasks) == 0
    released = lead_actions.release_order(
        floor, LEAD, made.number, settings=settings, reason="shop: difference paid", clock=later
    )
    assert released.released and status(floor, made.number) == "assigned"


def test_a_cheaper_sku_refunds_the_difference_and_nothing_is_due(floor, settings) -> None:
    number = shipped(floor, settings, ("SKU-00001", 2))
    priced(floor, settings, "2001", "SKU-00004", "100000")
    stock(floor, "SKU-00004", B_02_03_1=5)
    ret_id = came_back(floor, number, ("SKU-00001", "resell"), ("SKU-00001", "damaged"))
    made = exchange(floor, settings, ret_id, ("SKU-00004", 1), ("SKU-00004", 1))  # named twice
    assert (made.returned, made.value) == (2 * PRICE, Decimal("200000"))
    assert (made.due, made.refund, made.status) == (0, Decimal("100000"), "assigned")
    with floor.read() as s:
        lines = s.execute(
            select(OrderLine.sku, OrderLine.quantity, OrderLine.unit_price).where(
                OrderLine.order_id == made.order_id
            )
        ).all()
    assert lines == [("SKU-00004", 2, Decimal("100000"))]


def test_a_foreign_unit_is_worth_nothing_in_the_exchange(floor, settings) -> None:
    number = shipped(floor, settings, ("SKU-00001", 1))
    ret_id = came_back(floor, number, ("SKU-00001", "resell"), ("", "foreign"))
    made = exchange(floor, settings, ret_id, ("SKU-00001", 1))
    assert (made.returned, made.due, made.refund) == (PRICE, 0, 0)


def test_with_no_stock_the_replacement_is_held_short_like_any_order(floor, settings) -> None:
    number = shipped(floor, settings, ("SKU-00001", 1))
    stock(floor, "SKU-00001")  # the last of it gone
    ret_id = came_back(floor, number, ("SKU-00001", "damaged"))
    made = exchange(floor, settings, ret_id, ("SKU-00001", 1))
    assert (made.status, made.hold_reasons, made.due) == ("on_hold", ("short: SKU-00001",), 0)
    assert replacement(floor, made).hold_reasons == ["short: SKU-00001"]
    stock(floor, "SKU-00001", A_01_01_1=3)
    [retried] = lead_actions.retry_short_orders(floor, LEAD, settings=settings, clock=later)
    assert retried.number == made.number and retried.released
    assert status(floor, made.number) == "assigned"


@pytest.mark.parametrize(
    ("items", "words"),
    [
        ([("SKU-99999", 1)], "no product SKU-99999 in the catalogue"),
        ([("SKU-00005", 1)], "no price known for SKU-00005: no order in VND has it"),
        ([("SKU-00001", 0)], "SKU-00001: a replacement's quantity is a whole number above 0"),
        ([], "needs the replacement goods"),
    ],
)
def test_a_replacement_that_cannot_be_made_is_refused_in_words_and_writes_nothing(
    floor, settings, items, words
) -> None:
    number = shipped(floor, settings, ("SKU-00001", 1))
    ret_id = came_back(floor, number, ("SKU-00001", "resell"))
    with floor.read() as s:
        before = s.scalar(select(func.count()).select_from(Order))
    with pytest.raises(ExchangeRefused, match=words):
        exchange(floor, settings, ret_id, *items)
    with floor.read() as s:
        assert s.scalar(select(func.count()).select_from(Order)) == before
        assert s.scalar(select(Return.exchange_order_id).where(Return.id == ret_id)) is None


def test_a_return_is_exchanged_once(floor, settings) -> None:
    number = shipped(floor, settings, ("SKU-00001", 1))
    ret_id = came_back(floor, number, ("SKU-00001", "resell"))
    made = exchange(floor, settings, ret_id, ("SKU-00001", 1))
    with pytest.raises(ExchangeRefused, match=f"exchanged already, for {made.number}"):
        exchange(floor, settings, ret_id, ("SKU-00001", 1))


def test_the_replacement_is_marked_on_the_pick_and_pack_views_and_its_label(
    floor, settings
) -> None:
    number = shipped(floor, settings, ("SKU-00001", 1))
    ret_id = came_back(floor, number, ("SKU-00001", "damaged"))
    made = exchange(floor, settings, ret_id, ("SKU-00001", 1))
    rma = rma_number(ret_id)
    who = picker_of(floor, made.number)
    picking.start_order(floor, who, made.order_id, "T-0902", batch_size=4, clock=clock)
    [line] = picking.pick_list(floor, who.operator_id)
    assert line.exchange == rma
    picking.pick(floor, who, line.task_id, 1, clock=clock)
    opened = packing.open_order(floor, PACKER, settings, "T-0902", by="tote", clock=clock)
    v = packing.view(floor, opened.order_id)
    assert v.exchange == rma and v.cod is None
    packing.verify(floor, PACKER, v.order_id, v.lines[0].line_id, 1, clock=clock)
    ready(floor, settings, v)
    closed = close_parcel(floor, PACKER, settings, v.order_id, more_to_come=False, clock=clock)
    with floor.read() as s:
        pid = s.scalar(select(Parcel.id).where(Parcel.tracking_no == closed.tracking_no))
        data, _ = parcel_label_data(s, settings, pid)
    assert (data.mark, data.reference, data.order_number) == ("EXCHANGE", rma, made.number)
    # The returned order's own views carry no mark.
    with floor.read() as s:
        old_parcel = s.scalar(select(Parcel.id).where(Parcel.order_id == order_id(floor, number)))
        assert parcel_label_data(s, settings, old_parcel)[0].mark is None


def test_both_orders_timelines_tell_the_returns_story(floor, settings) -> None:
    number = shipped(floor, settings, ("SKU-00001", 2))
    ret_id = came_back(floor, number, ("SKU-00001", "resell"), ("SKU-00001", "damaged"),
                       ("", "foreign"))  # fmt: skip
    made = exchange(floor, settings, ret_id, ("SKU-00001", 1))
    rma = rma_number(ret_id)
    old = [e.what for e in order_timeline(floor, number).entries if e.kind == "return"]
    assert old == [
        f"{rma} opened at the returns desk (damaged)",
        f"{rma}: SKU-00001 resell, to a bin",
        f"{rma}: SKU-00001 damaged, into quarantine A-01-01-1",
        f"{rma}: not ours (foreign item or empty box): a brick",
        f"{rma} closed: refund 150000.00 VND",
        f"exchange order {made.number} created for {rma} of {number}",
    ]
    new = [e.what for e in order_timeline(floor, made.number).entries if e.kind == "return"]
    assert new[0] == f"{rma} of {number} opened at the returns desk (damaged)"
    assert new[-1] == old[-1] and len(new) == len(old)


def test_the_return_sources_read_by_index_never_a_whole_table(floor, settings) -> None:
    """As every timeline source (tests/services/orders/test_timeline.py): with returns on
    both orders, each statement finds its rows through an index lookup."""
    from sqlalchemy import event

    from tests.services.orders import test_timeline

    number = shipped(floor, settings, ("SKU-00001", 1))
    made = exchange(floor, settings, came_back(floor, number, ("SKU-00001", "resell")),
                    ("SKU-00001", 1))  # fmt: skip
    statements: list[tuple[str, object]] = []

    def grab(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append((statement, parameters))

    event.listen(floor.engine, "before_cursor_execute", grab)
    try:
        order_timeline(floor, number)
        order_timeline(floor, made.number)
    finally:
        event.remove(floor.engine, "before_cursor_execute", grab)
    selects = [(q, p) for q, p in statements if "returns" in q or "return_units" in q]
    big = test_timeline.BIG | {"returns", "return_units"}
    assert len(selects) == 4  # two sources, two orders
    with floor.engine.connect() as conn:
        if floor.dialect == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")
        for query, params in selects:
            if floor.dialect == "sqlite":
                plan = [r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + query, params)]
                assert not [step for step in plan if step.startswith("SCAN")], (query, plan)
            else:
                [(found,)] = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + query, params)
                with pytest.MonkeyPatch.context() as patch:
                    patch.setattr(test_timeline, "BIG", big)
                    assert test_timeline._whole_reads(found[0]["Plan"]) == [], query


# --- through the returns desk and the back office ---------------------------------------------

RETURNS_DESK = Actor("T41", OperatorInfo(1, "EMP-0001", "Lead One", frozenset({Role.RETURNS})))


def test_a_desk_close_as_an_exchange_makes_an_assigned_replacement_and_refunds_nothing(
    floor, settings
) -> None:
    from picker.services.notify import outbox  # noqa: F401  (the close queues its messages)
    from picker.services.returns import backoffice, desk
    from picker.store.models import OutboxMessage

    number, tracking = packed(floor, settings, ("SKU-00001", 1), tote="T-0901")
    pickup = handoff.open_pickup(floor, LEAD, "POST", clock=clock)
    handoff.hand_over_parcel(floor, LEAD, pickup.id, tracking[0], clock=clock)
    handoff.close_pickup(floor, LEAD, settings, pickup.id, clock=clock)
    rma = backoffice.authorize(floor, RETURNS_DESK, number, [("SKU-00001", 1)], "damaged",
                               exchange=True, settings=settings, clock=later)  # fmt: skip
    v = desk.open_return(floor, RETURNS_DESK, tracking[0], settings=settings, clock=later)
    assert v.number == rma.number and v.exchange
    desk.scan_item(floor, RETURNS_DESK, v.number, "SKU-00001", settings=settings, clock=later)
    v = desk.judge(floor, RETURNS_DESK, v.number, "CMD-DAMAGED", settings=settings, clock=later)
    assert v.status == "open"  # an exchange waits for its replacement to be keyed
    closed = desk.close(floor, RETURNS_DESK, v.number, exchange=[("SKU-00001", 1)],
                        settings=settings, clock=later)  # fmt: skip
    assert (closed.refund, closed.exchange_due) == (0, 0)
    assert closed.exchange_order is not None and status(floor, closed.exchange_order) == "assigned"
    with floor.read() as s:
        new = s.execute(select(Order).where(Order.number == closed.exchange_order)).scalar_one()
        back = s.scalar(select(Return.exchange_order_id).where(Return.number == rma.number))
        told = s.scalars(
            select(OutboxMessage.detail).where(OutboxMessage.event == "return_received")
        ).all()
    assert back == new.id and new.exchange_for_return_id is not None
    assert {d["exchange_order"] for d in told} == {closed.exchange_order}
    entries = [e.what for e in order_timeline(floor, closed.exchange_order).entries]
    assert entries.index(f"{rma.number} of {number} authorised (damaged), an exchange asked") < (
        entries.index(f"{rma.number} of {number} opened at the returns desk")
    )
    assert f"{rma.number} of {number} closed: refund 0.00 VND" in entries
    quarantine = settings.returns.quarantine_bin
    assert f"{rma.number}: SKU-00001 damaged, into quarantine {quarantine}" in entries
    assert broken(floor) == []  # picker check


def test_a_back_office_receipt_exchanged_for_a_cheaper_sku_refunds_the_difference(
    floor, settings
) -> None:
    from picker.services.returns import backoffice
    from picker.services.returns.shapes import ReceiveLine

    number = shipped(floor, settings, ("SKU-00001", 1))
    priced(floor, settings, "2001", "SKU-00004", "100000")
    stock(floor, "SKU-00004", B_02_03_1=5)
    closed = backoffice.receive(
        floor, RETURNS_DESK, number, [ReceiveLine("SKU-00001", 1, "resell", "A-01-01-1")],
        reason="wrong_item", exchange=[("SKU-00004", 1)], settings=settings, clock=later,
    )  # fmt: skip
    assert (closed.refund, closed.exchange_due) == (Decimal("50000"), 0)
    assert closed.exchange_order is not None and status(floor, closed.exchange_order) == "assigned"


def test_a_back_office_receipt_exchanged_for_a_dearer_sku_holds_it_for_the_difference(
    floor, settings
) -> None:
    from picker.services.returns import backoffice
    from picker.services.returns.shapes import ReceiveLine

    number = shipped(floor, settings, ("SKU-00001", 1))
    priced(floor, settings, "2001", "SKU-00003", "200000")
    closed = backoffice.receive(
        floor, RETURNS_DESK, number, [ReceiveLine("SKU-00001", 1, "damaged")],
        reason="damaged", exchange=[("SKU-00003", 1)], settings=settings, clock=later,
    )  # fmt: skip
    assert (closed.refund, closed.exchange_due) == (0, Decimal("50000"))
    assert closed.exchange_order is not None and status(floor, closed.exchange_order) == "on_hold"
    assert broken(floor) == []


def test_a_replacement_never_takes_the_quarantined_unit_it_is_held_short_instead(
    floor, settings
) -> None:
    from picker.services.returns import backoffice
    from picker.services.returns.shapes import ReceiveLine

    number = shipped(floor, settings, ("SKU-00001", 1))
    stock(floor, "SKU-00001")  # none left on the shelves
    closed = backoffice.receive(
        floor, RETURNS_DESK, number, [ReceiveLine("SKU-00001", 1, "damaged")],
        reason="damaged", exchange=[("SKU-00001", 1)], settings=settings, clock=later,
    )  # fmt: skip
    assert closed.exchange_order is not None and status(floor, closed.exchange_order) == "on_hold"
    with floor.read() as s:
        held = s.scalar(select(Order.hold_reasons).where(Order.number == closed.exchange_order))
    assert held == ["short: SKU-00001"]
    assert broken(floor) == []


def test_a_shipped_replacement_tells_the_customer_but_not_the_shop_which_has_no_order_of_it(
    floor, settings
) -> None:
    from dataclasses import replace

    from picker.config import ChannelSettings
    from picker.services.notify import outbox
    from picker.store.models import OutboxMessage

    number = shipped(floor, settings, ("SKU-00001", 1))
    ret_id = came_back(floor, number, ("SKU-00001", "damaged"))
    made = exchange(floor, settings, ret_id, ("SKU-00001", 1))
    with floor.transaction() as s:
        channel = s.get(Order, made.order_id).channel  # type: ignore[union-attr]
        shop = ChannelSettings(channel, "shopify", fulfilment_url="http://127.0.0.1:9/admin")
        settings = replace(settings, channels={channel: shop})
        outbox.enqueue(s, made.order_id, "shipped", at=later(20), settings=settings)
    with floor.read() as s:
        rows = dict(
            s.execute(
                select(OutboxMessage.kind, OutboxMessage.status).where(
                    OutboxMessage.order_id == made.order_id, OutboxMessage.event == "shipped"
                )
            ).all()
        )
        why = s.execute(
            select(OutboxMessage.error).where(
                OutboxMessage.order_id == made.order_id, OutboxMessage.kind == "shop"
            )
        ).scalar_one()
    assert rows == {"email": "queued", "shop": "skipped"}
    assert why is not None and why.startswith(f"a replacement for the return {rma_number(ret_id)}")
