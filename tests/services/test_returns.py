"""The returns desk on both databases: orders that went out through packing and handoff come
back unit by unit; counts, stock, money, messages and the order's status follow."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from picker.domain.roles import Role
from picker.services import scans
from picker.services.actors import Actor, OperatorInfo
from picker.services.floor import handoff
from picker.services.returns import _core, backoffice, desk, views
from picker.services.returns.exchange import ExchangeMade
from picker.services.returns.shapes import ReceiveLine, ReturnBusy, ReturnRefused
from picker.store import statements
from picker.store.engine import Database
from picker.store.models import (
    Bin,
    Operator,
    Order,
    OrderLine,
    OutboxMessage,
    Product,
    ProductBarcode,
    Return,
    ReturnUnit,
    ScanJournal,
    Stock,
    StockMovement,
)
from tests.services.floor.test_handoff import packed
from tests.services.floor.test_packing import LEAD
from tests.services.floor.test_picking import _race, bin_stock, clock, order_id, status
from tests.services.intake.test_order_import import order, run, stock

DESK = Actor("T41", OperatorInfo(1, "EMP-0001", "Lead One", frozenset({Role.RETURNS})))
OTHER_DESK = Actor("T42", OperatorInfo(4, "EMP-0004", "Packer Four", frozenset({Role.RETURNS})))


def later():  # type: ignore[no-untyped-def]
    return clock() + timedelta(hours=2)


def shipped(db: Database, settings, *lines, tote: str, **over) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    """A new order picked, packed and handed to its courier on a closed pickup (executed):
    (order number, tracking numbers). ``over`` changes the order as the shop sends it."""
    shop_no = tote.removeprefix("T-")
    if over:
        for sku, _ in lines:
            stock(db, sku, A_01_01_1=50) if sku == "SKU-00001" else stock(db, sku, A_01_02_1=50)
        run(db, settings, order(shop_no, *lines, **over))
        number, tracking = packed(db, settings, *lines, tote=tote, restock=False, shop_no=shop_no)
    else:
        number, tracking = packed(db, settings, *lines, tote=tote)
    pickup = handoff.open_pickup(db, LEAD, "POST", clock=clock)
    for t in tracking:
        handoff.hand_over_parcel(db, LEAD, pickup.id, t, clock=clock)
    handoff.close_pickup(db, LEAD, settings, pickup.id, clock=clock)
    assert status(db, number) == "executed"
    return number, tracking


def returned_qty(db: Database, number: str) -> dict[str, int]:
    with db.read() as s:
        return dict(
            s.execute(
                select(OrderLine.sku, OrderLine.returned_qty).where(
                    OrderLine.order_id == order_id(db, number)
                )
            ).all()
        )


def on_hand(db: Database, sku: str, code: str) -> int:
    with db.read() as s:
        found = s.scalar(
            select(Stock.on_hand)
            .join(Bin, Bin.id == Stock.bin_id)
            .join(Product, Product.id == Stock.product_id)
            .where(Product.sku == sku, Bin.code == code)
        )
    return int(found or 0)


def resell(db: Database, settings, number: str, code: str, bin_code: str) -> desk.PutAway:  # type: ignore[no-untyped-def]
    desk.scan_item(db, DESK, number, code, settings=settings, clock=later)
    desk.judge(db, DESK, number, "CMD-RESELL", settings=settings, clock=later)
    return desk.put_away(db, DESK, number, bin_code, settings=settings, clock=later)


def test_a_full_return_restocks_refunds_goods_and_shipping_and_returns_the_order(
    floor, settings
) -> None:
    number, [tracking] = shipped(floor, settings, ("SKU-00001", 1), ("SKU-00002", 1),
                                 tote="T-0901")  # fmt: skip
    before = on_hand(floor, "SKU-00001", "A-01-01-1")
    v = desk.open_return(floor, DESK, tracking, settings=settings, clock=later)
    assert v.number.startswith("RMA-") and v.order_number == number and v.status == "open"
    assert [(ln.sku, ln.shipped, ln.returned_before, ln.may_come_back) for ln in v.lines] == [
        ("SKU-00001", 1, 0, 1), ("SKU-00002", 1, 0, 1)]  # fmt: skip
    v = desk.scan_item(floor, DESK, v.number, "SKU-00001", settings=settings, clock=later)
    assert v.pending is not None and v.pending.needs == "condition"
    assert "condition of SKU-00001" in v.next_step
    v = desk.judge(floor, DESK, v.number, "CMD-RESELL", settings=settings, clock=later)
    assert v.pending is not None and v.pending.needs == "bin"
    assert v.pending.suggested_bin == "A-01-01-1"  # its pick face
    put = desk.put_away(floor, DESK, v.number, "A-01-01-1", settings=settings, clock=later)
    assert (put.sku, put.bin, put.view.pending) == ("SKU-00001", "A-01-01-1", None)
    assert on_hand(floor, "SKU-00001", "A-01-01-1") == before + 1
    with floor.read() as s:  # the second unit by its barcode, as a scanner reads it
        barcode = s.scalar(
            select(ProductBarcode.barcode)
            .join(Product, Product.id == ProductBarcode.product_id)
            .where(Product.sku == "SKU-00002")
            .limit(1)
        )
    desk.scan_item(floor, DESK, v.number, barcode, settings=settings, clock=later)
    v = desk.judge(floor, DESK, v.number, "damaged", settings=settings, clock=later)
    assert v.pending is None and v.units[0].bin == settings.returns.quarantine_bin
    assert v.refund_so_far == Decimal("300000")
    closed = desk.close(floor, DESK, v.number, settings=settings, clock=later)
    # 450,000 paid: two lines of 150,000 and 150,000 of shipping, refunded on a full return.
    assert (closed.refund, closed.refund_shipping, closed.full_return) == (
        Decimal("450000"), Decimal("150000"), True)  # fmt: skip
    assert closed.order_status == "returned" and status(floor, number) == "returned"
    assert returned_qty(floor, number) == {"SKU-00001": 1, "SKU-00002": 1}
    with floor.read() as s:
        messages = s.execute(
            select(OutboxMessage.key, OutboxMessage.kind, OutboxMessage.detail).where(
                OutboxMessage.event == "return_received"
            )
        ).all()
        ledger = s.execute(
            select(Product.sku, Bin.code, StockMovement.delta)
            .join(Product, Product.id == StockMovement.product_id)
            .join(Bin, Bin.id == StockMovement.bin_id)
            .where(StockMovement.reason == "return")
            .order_by(StockMovement.id)
        ).all()
    assert sorted(m.kind for m in messages) == ["email", "shop"]
    assert all(closed.number in m.key for m in messages)
    detail = messages[0].detail
    assert (detail["return"], detail["refund"], detail["shipping_refunded"]) == (
        closed.number, "450000", "150000")  # fmt: skip
    assert {(u["sku"], u["condition"]) for u in detail["units"]} == {
        ("SKU-00001", "resell"), ("SKU-00002", "damaged")}  # fmt: skip
    assert {(ln["sku"], ln["restock"]) for ln in detail["lines"]} == {
        ("SKU-00001", True), ("SKU-00002", False)}  # fmt: skip
    quarantine = settings.returns.quarantine_bin
    assert [tuple(r) for r in ledger] == [
        ("SKU-00001", "A-01-01-1", 1), ("SKU-00002", quarantine, 1)]  # fmt: skip
    with pytest.raises(ReturnRefused, match="came back whole already"):
        desk.open_return(floor, DESK, number, settings=settings, clock=later)


def test_a_partial_return_leaves_the_order_executed_and_a_second_return_gets_its_own_mail(
    floor, settings
) -> None:
    number, _ = shipped(floor, settings, ("SKU-00001", 2), tote="T-0901")
    first = desk.open_return(floor, DESK, number, settings=settings, clock=later)
    resell(floor, settings, first.number, "SKU-00001", "A-01-01-1")
    closed = desk.close(floor, DESK, first.number, settings=settings, clock=later)
    # One unit of 150,000 of two: the order stays executed, shipping is not refunded.
    assert (closed.refund, closed.refund_shipping, closed.full_return) == (
        Decimal("150000"), Decimal("0"), False)  # fmt: skip
    assert status(floor, number) == "executed" and returned_qty(floor, number) == {"SKU-00001": 1}
    second = desk.open_return(floor, DESK, "#0901", settings=settings, clock=later)  # shop no.
    assert second.number != first.number
    assert [(ln.returned_before, ln.may_come_back) for ln in second.lines] == [(1, 1)]
    desk.scan_item(floor, DESK, second.number, "SKU-00001", settings=settings, clock=later)
    desk.judge(floor, DESK, second.number, "scrap", note="broken glass", settings=settings,
               clock=later)  # fmt: skip
    closed = desk.close(floor, DESK, second.number, settings=settings, clock=later)
    # Everything is back now: the shipping (450,000 - 300,000) goes with the second refund.
    assert (closed.refund, closed.refund_shipping, closed.full_return) == (
        Decimal("300000"), Decimal("150000"), True)  # fmt: skip
    assert status(floor, number) == "returned"
    with floor.read() as s:
        keys = s.scalars(
            select(OutboxMessage.key).where(OutboxMessage.event == "return_received")
        ).all()
    assert len(keys) == 4  # mail and shop, for each return


def test_refunds_never_add_up_to_more_than_the_customer_paid(floor, settings) -> None:
    # Two units at a list price of 150,000 with a discount: the customer paid 250,000 in all.
    number, _ = shipped(floor, settings, ("SKU-00001", 2), tote="T-0907", total=Decimal("250000"))
    first = desk.open_return(floor, DESK, number, settings=settings, clock=later)
    resell(floor, settings, first.number, "SKU-00001", "A-01-01-1")
    closed = desk.close(floor, DESK, first.number, settings=settings, clock=later)
    assert closed.refund == Decimal("150000")
    second = desk.open_return(floor, DESK, number, settings=settings, clock=later)
    resell(floor, settings, second.number, "SKU-00001", "A-01-01-1")
    closed = desk.close(floor, DESK, second.number, settings=settings, clock=later)
    assert (closed.refund, closed.refund_shipping) == (Decimal("100000"), Decimal("0"))
    with floor.read() as s:
        details = s.scalars(
            select(OutboxMessage.detail)
            .where(OutboxMessage.event == "return_received", OutboxMessage.kind == "shop")
            .order_by(OutboxMessage.id)
        ).all()
    assert [d["refund"] for d in details] == ["150000", "100000"]  # VND: no minor units


def test_more_than_shipped_and_what_is_not_in_the_order_are_refused_by_name(
    floor, settings
) -> None:
    number, _ = shipped(floor, settings, ("SKU-00001", 1), tote="T-0901")
    v = desk.open_return(floor, DESK, number, settings=settings, clock=later)
    with pytest.raises(ReturnRefused, match=f"SKU-00003 .* is not in order {number}"):
        desk.scan_item(floor, DESK, v.number, "SKU-00003", settings=settings, clock=later)
    with pytest.raises(ReturnRefused, match="NOPE-1 is not in order"):
        desk.scan_item(floor, DESK, v.number, "NOPE-1", settings=settings, clock=later)
    desk.scan_item(floor, DESK, v.number, "SKU-00001", settings=settings, clock=later)
    with pytest.raises(ReturnRefused, match="say the condition of SKU-00001 first"):
        desk.scan_item(floor, DESK, v.number, "SKU-00001", settings=settings, clock=later)
    desk.judge(floor, DESK, v.number, "defect", settings=settings, clock=later)
    refused = "SKU-00001: 1 shipped, 1 back already, 1 of them in this return;"
    with pytest.raises(ReturnRefused, match=refused):
        desk.scan_item(floor, DESK, v.number, "SKU-00001", settings=settings, clock=later)
    assert returned_qty(floor, number) == {"SKU-00001": 1}


def test_a_foreign_item_is_recorded_counts_nothing_and_refunds_nothing(floor, settings) -> None:
    number, _ = shipped(floor, settings, ("SKU-00001", 1), tote="T-0901")
    v = desk.open_return(floor, DESK, number, settings=settings, clock=later)
    with pytest.raises(ReturnRefused, match="not ours"):
        desk.foreign(floor, DESK, v.number, "  ", settings=settings, clock=later)
    v = desk.foreign(floor, DESK, v.number, "a brick", settings=settings, clock=later)
    # A unit scanned as ours, then found to be another shop's: no longer counted.
    desk.scan_item(floor, DESK, v.number, "SKU-00001", settings=settings, clock=later)
    assert returned_qty(floor, number) == {"SKU-00001": 1}
    v = desk.foreign(floor, DESK, v.number, "their own copy", settings=settings, clock=later)
    assert returned_qty(floor, number) == {"SKU-00001": 0}
    assert [(u.condition, u.name) for u in v.units] == [
        ("foreign", "their own copy"), ("foreign", "a brick")]  # fmt: skip
    closed = desk.close(floor, DESK, v.number, settings=settings, clock=later)
    assert (closed.refund, closed.units, closed.foreign_units) == (Decimal("0"), 0, 2)
    assert status(floor, number) == "executed"


def test_quarantine_stock_is_never_reserved_an_order_for_it_goes_short(floor, settings) -> None:
    number, _ = shipped(floor, settings, ("SKU-00003", 1), tote="T-0901")
    v = desk.open_return(floor, DESK, number, settings=settings, clock=later)
    desk.scan_item(floor, DESK, v.number, "SKU-00003", settings=settings, clock=later)
    desk.judge(floor, DESK, v.number, "incomplete", settings=settings, clock=later)
    desk.close(floor, DESK, v.number, settings=settings, clock=later)
    with floor.transaction() as s:  # nothing of it anywhere but in quarantine
        pid = s.scalar(select(Product.id).where(Product.sku == "SKU-00003"))
        qbin = s.scalar(select(Bin.id).where(Bin.code == settings.returns.quarantine_bin))
        s.execute(
            update(Stock).where(Stock.product_id == pid, Stock.bin_id != qbin).values(on_hand=0)
        )
    assert on_hand(floor, "SKU-00003", settings.returns.quarantine_bin) == 1
    with floor.read() as s:
        assert statements.available_stock(s.connection(), [pid]) == []
    run(floor, settings, order("2002", ("SKU-00003", 1)))
    with floor.read() as s:
        held = s.execute(
            select(Order.status, Order.hold_reasons).where(Order.shop_order_no == "2002")
        ).one()
    assert held.status == "on_hold" and held.hold_reasons == ["short: SKU-00003"]


def test_a_resold_unit_releases_an_order_held_short_of_it(floor, settings) -> None:
    number, _ = shipped(floor, settings, ("SKU-00003", 1), tote="T-0901")
    stock(floor, "SKU-00003")  # sold out
    stock(floor, "SKU-00004")
    run(floor, settings, order("2002", ("SKU-00003", 1)))
    run(floor, settings, order("2003", ("SKU-00004", 1)))  # held short of another SKU
    with floor.read() as s:
        waiting = dict(
            s.execute(
                select(Order.shop_order_no, Order.number).where(
                    Order.shop_order_no.in_(("2002", "2003"))
                )
            ).all()
        )
    v = desk.open_return(floor, DESK, number, settings=settings, clock=later)
    put = resell(floor, settings, v.number, "SKU-00003", "A-01-02-1")
    assert put.released == (waiting["2002"],)
    assert status(floor, waiting["2002"]) in ("unhandled", "assigned")
    assert status(floor, waiting["2003"]) == "on_hold"
    assert bin_stock(floor, "SKU-00003", "A-01-02-1") == (1, 1)  # the unit, reserved for it


def test_two_desks_scanning_one_parcel_the_second_is_told_who_has_it(floor, settings) -> None:
    number, [tracking] = shipped(floor, settings, ("SKU-00001", 1), tote="T-0901")
    v = desk.open_return(floor, DESK, tracking, settings=settings, clock=later)
    with floor.read() as s:
        name = s.scalar(select(Operator.name).where(Operator.id == 1))
    with pytest.raises(ReturnBusy, match=f"{v.number} is being received at T41 by {name}"):
        desk.open_return(floor, OTHER_DESK, number, settings=settings, clock=later)
    with pytest.raises(ReturnBusy):
        desk.scan_item(floor, OTHER_DESK, v.number, "SKU-00001", settings=settings, clock=later)
    desk.park(floor, DESK, v.number, clock=later)  # left open: another desk takes it on
    taken = desk.open_return(floor, OTHER_DESK, v.number, settings=settings, clock=later)
    assert (taken.number, taken.held_by_terminal) == (v.number, "T42")
    with floor.read() as s:
        assert s.scalar(select(func.count()).select_from(Return)) == 1


def test_a_desk_that_crashed_resumes_with_the_same_counts(floor, settings) -> None:
    number, [tracking] = shipped(floor, settings, ("SKU-00001", 2), tote="T-0901")
    v = desk.open_return(floor, DESK, tracking, settings=settings, clock=later)
    resell(floor, settings, v.number, "SKU-00001", "A-01-01-1")
    desk.scan_item(floor, DESK, v.number, "SKU-00001", settings=settings, clock=later)
    # The terminal restarts: a new login (another operator) at the same terminal id.
    again = Actor("T41", OperatorInfo(4, "EMP-0004", "Packer Four", frozenset({Role.RETURNS})))
    back = desk.open_return(floor, again, tracking, settings=settings, clock=later)
    assert back.number == v.number
    assert back.lines[0].this_return == {"resell": 1, "pending": 1}
    assert back.pending is not None and back.pending.needs == "condition"
    assert returned_qty(floor, number) == {"SKU-00001": 2}


def test_undo_takes_back_the_last_unit_its_count_and_its_stock(floor, settings) -> None:
    number, _ = shipped(floor, settings, ("SKU-00001", 1), tote="T-0901")
    v = desk.open_return(floor, DESK, number, settings=settings, clock=later)
    with pytest.raises(ReturnRefused, match="nothing to undo"):
        desk.undo_last(floor, DESK, v.number, settings=settings, clock=later)
    before = on_hand(floor, "SKU-00001", "A-01-01-1")
    resell(floor, settings, v.number, "SKU-00001", "A-01-01-1")
    assert on_hand(floor, "SKU-00001", "A-01-01-1") == before + 1
    v = desk.undo_last(floor, DESK, v.number, settings=settings, clock=later)
    assert v.units == () and v.lines[0].this_return == {}
    assert on_hand(floor, "SKU-00001", "A-01-01-1") == before
    assert returned_qty(floor, number) == {"SKU-00001": 0}
    with floor.read() as s:
        assert s.scalars(
            select(StockMovement.delta).where(StockMovement.reason == "return_undo")
        ).all() == [-1]


def test_undo_of_a_unit_promised_to_an_order_meanwhile_is_refused(floor, settings) -> None:
    number, _ = shipped(floor, settings, ("SKU-00003", 1), tote="T-0901")
    stock(floor, "SKU-00003")
    run(floor, settings, order("2002", ("SKU-00003", 1)))  # held short
    v = desk.open_return(floor, DESK, number, settings=settings, clock=later)
    put = resell(floor, settings, v.number, "SKU-00003", "A-01-02-1")
    assert put.released  # the unit is reserved for the held order now
    with pytest.raises(ReturnRefused, match="promised to an order"):
        desk.undo_last(floor, DESK, v.number, settings=settings, clock=later)
    assert returned_qty(floor, number) == {"SKU-00003": 1}


def test_every_desk_scan_is_journaled_with_its_effect(floor, settings) -> None:
    number, [tracking] = shipped(floor, settings, ("SKU-00001", 1), tote="T-0901")
    outcome = scans.ScanOutcome(tracking, "parcel", "accepted")
    v = desk.open_return(floor, DESK, tracking, settings=settings, clock=later, scan=outcome)
    item = scans.ScanOutcome("SKU-00001", "code", "accepted")
    desk.scan_item(floor, DESK, v.number, "SKU-00001", settings=settings, clock=later, scan=item)
    with floor.read() as s:
        rows = s.execute(
            select(ScanJournal.raw, ScanJournal.station, ScanJournal.order_id).order_by(
                ScanJournal.id
            )
        ).all()
    assert [tuple(r) for r in rows][-2:] == [
        (tracking, "returns", order_id(floor, number)),
        ("SKU-00001", "returns", order_id(floor, number)),
    ]


def test_an_rma_expects_its_lines_and_closes_by_itself_when_they_are_judged(
    floor, settings
) -> None:
    number, _ = shipped(floor, settings, ("SKU-00001", 2), ("SKU-00002", 1), tote="T-0901")
    with pytest.raises(ReturnRefused, match="'bored' is not a return reason"):
        backoffice.authorize(floor, DESK, number, [("SKU-00001", 1)], "bored",
                             settings=settings, clock=later)  # fmt: skip
    with pytest.raises(ReturnRefused, match=r"line 1 .*3 cannot be expected back"):
        backoffice.authorize(floor, DESK, number, [("SKU-00001", 3)], "damaged",
                             settings=settings, clock=later)  # fmt: skip
    rma = backoffice.authorize(floor, DESK, number, [("SKU-00001", 1)], "damaged",
                               settings=settings, clock=later)  # fmt: skip
    assert (rma.status, rma.expected) == ("authorized", (("SKU-00001", 1),))
    with pytest.raises(ReturnRefused, match=f"has a return under way already: {rma.number}"):
        backoffice.authorize(floor, DESK, number, [("SKU-00002", 1)], "damaged",
                             settings=settings, clock=later)  # fmt: skip
    v = desk.open_return(floor, DESK, rma.number, settings=settings, clock=later)
    assert [ln.expected for ln in v.lines] == [1, None] and not v.complete
    v = desk.scan_item(floor, DESK, v.number, "SKU-00001", settings=settings, clock=later)
    v = desk.judge(floor, DESK, v.number, "CMD-DAMAGED", settings=settings, clock=later)
    assert v.status == "closed" and v.closed is not None
    assert v.closed.refund == Decimal("150000") and status(floor, number) == "executed"
    assert [s.number for s in views.list_returns(floor, status="closed")] == [rma.number]
    shown = views.show(floor, rma.number)
    assert (shown.summary.units, shown.summary.reason) == (1, "damaged")


def test_receive_refuses_a_bad_line_by_name_and_writes_nothing(floor, settings) -> None:
    number, [tracking] = shipped(floor, settings, ("SKU-00001", 1), ("SKU-00002", 1),
                                 tote="T-0901")  # fmt: skip
    before = on_hand(floor, "SKU-00001", "A-01-01-1")
    bad = [
        [ReceiveLine("SKU-00001", 1, "resell", "A-01-01-1"), ReceiveLine("SKU-00002", 2, "resell")],
        [ReceiveLine("SKU-00001", 1, "resell"), ReceiveLine("SKU-00003", 1, "damaged")],
        [ReceiveLine("SKU-00001", 1, "resell"), ReceiveLine("SKU-00002", 1, "resell", "Z-99-99-9")],
        [ReceiveLine("SKU-00001", 1, "shiny")],
    ]
    for lines, words in zip(
        bad,
        ["line 2 .*SKU-00002: 1 shipped", "line 2 .*SKU-00003 .*is not in order",
         "line 2 .*there is no bin Z-99-99-9", "line 1 .*'shiny' is not a condition"],
        strict=True,
    ):  # fmt: skip
        with pytest.raises(ReturnRefused, match=words):
            backoffice.receive(floor, DESK, tracking, lines, settings=settings, clock=later)
    with floor.read() as s:
        assert s.scalar(select(func.count()).select_from(Return)) == 0
        assert s.scalar(select(func.count()).select_from(ReturnUnit)) == 0
    assert returned_qty(floor, number) == {"SKU-00001": 0, "SKU-00002": 0}
    assert on_hand(floor, "SKU-00001", "A-01-01-1") == before
    closed = backoffice.receive(
        floor, DESK, tracking,
        [ReceiveLine("SKU-00001", 1, "resell"), ReceiveLine("SKU-00002", 1, "defect")],
        reason="defective", settings=settings, clock=later,
    )  # fmt: skip
    assert closed.full_return and closed.refund == Decimal("450000")
    assert on_hand(floor, "SKU-00001", "A-01-01-1") == before + 1  # the suggested pick face
    assert on_hand(floor, "SKU-00002", settings.returns.quarantine_bin) == 1
    assert status(floor, number) == "returned"


def test_nothing_shipped_cannot_come_back(floor, settings) -> None:
    number, _ = packed(floor, settings, ("SKU-00001", 1), tote="T-0901")  # packed, not handed over
    with pytest.raises(ReturnRefused, match=f"{number} is packed: nothing of it was shipped"):
        desk.open_return(floor, DESK, number, settings=settings, clock=later)
    with pytest.raises(ReturnRefused, match="no order, RMA or tracking number we know"):
        desk.open_return(floor, DESK, "XX123", settings=settings, clock=later)


def test_a_resellable_unit_never_goes_to_quarantine_and_a_pending_one_blocks_the_close(
    floor, settings
) -> None:
    number, _ = shipped(floor, settings, ("SKU-00001", 1), tote="T-0901")
    v = desk.open_return(floor, DESK, number, settings=settings, clock=later)
    desk.scan_item(floor, DESK, v.number, "SKU-00001", settings=settings, clock=later)
    with pytest.raises(ReturnRefused, match="say the condition of SKU-00001 first"):
        desk.close(floor, DESK, v.number, settings=settings, clock=later)
    desk.judge(floor, DESK, v.number, "resell", settings=settings, clock=later)
    # The quarantine bin exists once something went there; make it so.
    desk_q = settings.returns.quarantine_bin
    with floor.transaction() as s:
        _core.quarantine_bin(s, settings)
    with pytest.raises(ReturnRefused, match=f"{desk_q} is the quarantine bin"):
        desk.put_away(floor, DESK, v.number, desk_q, settings=settings, clock=later)
    with pytest.raises(ReturnRefused, match="put SKU-00001 in a bin first"):
        desk.close(floor, DESK, v.number, settings=settings, clock=later)


def test_two_desks_racing_for_one_parcel_one_gets_it_and_units_never_exceed_what_shipped(
    floor, settings
) -> None:
    number, [tracking] = shipped(floor, settings, ("SKU-00001", 1), tote="T-0901")
    results = _race(
        lambda: desk.open_return(floor, DESK, tracking, settings=settings, clock=later),
        lambda: desk.open_return(floor, OTHER_DESK, tracking, settings=settings, clock=later),
    )
    won = [r for r in results if isinstance(r, desk.ReturnView)]
    lost = [r for r in results if isinstance(r, ReturnBusy)]
    assert len(won) == 1 and len(lost) == 1, results
    winner = DESK if won[0].held_by_terminal == "T41" else OTHER_DESK
    with floor.read() as s:
        assert s.scalar(select(func.count()).select_from(Return)) == 1
    results = _race(
        *(
            lambda: desk.scan_item(floor, winner, won[0].number, "SKU-00001", settings=settings,
                                   clock=later)
            for _ in range(2)
        )
    )  # fmt: skip
    assert sum(isinstance(r, desk.ReturnView) for r in results) == 1, results
    assert returned_qty(floor, number) == {"SKU-00001": 1}


def test_an_exchange_refunds_only_what_the_returned_goods_cost_beyond_the_replacement(
    floor, settings, monkeypatch
) -> None:
    number, _ = shipped(floor, settings, ("SKU-00001", 2), tote="T-0901")
    run(floor, settings, order("3003", ("SKU-00002", 1)))  # stands in for the replacement
    with floor.read() as s:
        replacement = s.execute(
            select(Order.id, Order.number).where(Order.shop_order_no == "3003")
        ).one()
    made = []

    def fake_exchange(s, actor, ret_id, items, *, settings, at):  # type: ignore[no-untyped-def]
        made.append((ret_id, list(items)))
        return ExchangeMade(replacement.id, replacement.number, Decimal(0))

    monkeypatch.setattr(_core, "create_exchange", fake_exchange)
    v = desk.open_return(floor, DESK, number, settings=settings, clock=later)
    resell(floor, settings, v.number, "SKU-00001", "A-01-01-1")
    resell(floor, settings, v.number, "SKU-00001", "A-01-01-1")
    with pytest.raises(ReturnRefused, match="cannot be an exchange: it has no reason"):
        desk.close(floor, DESK, v.number, exchange=[("SKU-00002", 1)], settings=settings,
                   clock=later)  # fmt: skip
    with floor.transaction() as s:  # the customer said it was the wrong item
        s.execute(update(Return).where(Return.number == v.number).values(reason="wrong_item"))
    closed = desk.close(floor, DESK, v.number, exchange=[("SKU-00002", 1)], settings=settings,
                        clock=later)  # fmt: skip
    # 300,000 came back, the replacement is worth 150,000: 150,000 back, no shipping.
    assert (closed.refund, closed.refund_shipping) == (Decimal("150000"), Decimal("0"))
    assert (closed.exchange_order, closed.exchange_due) == (replacement.number, Decimal(0))
    assert made and made[0][1] == [("SKU-00002", 1)]
    with floor.read() as s:
        assert s.scalar(
            select(Order.exchange_for_return_id).where(Order.id == replacement.id)
        ) == s.scalar(select(Return.id).where(Return.number == v.number))
    assert views.list_returns(floor)[0].exchange_order == replacement.number


def test_a_resold_unit_is_not_put_into_a_bin_being_counted_but_another_bin_takes_it(
    floor, settings
) -> None:
    from picker.services import counts
    from tests.services.counts.helpers import counter

    number, _ = shipped(floor, settings, ("SKU-00001", 1), tote="T-0901")
    v = desk.open_return(floor, DESK, number, settings=settings, clock=later)
    desk.scan_item(floor, DESK, v.number, "SKU-00001", settings=settings, clock=later)
    desk.judge(floor, DESK, v.number, "CMD-RESELL", settings=settings, clock=later)
    before = on_hand(floor, "SKU-00001", "A-01-01-1")
    cnt = counts.start_count(floor, counter(floor), "A-01-01-1", settings=settings, clock=later)
    with pytest.raises(ReturnRefused) as refused:
        desk.put_away(floor, DESK, v.number, "A-01-01-1", settings=settings, clock=later)
    assert str(refused.value) == (
        f"A-01-01-1 is being counted ({cnt.number}) — put the unit in another bin (scan it), "
        "or keep it until the count closes."
    )
    assert on_hand(floor, "SKU-00001", "A-01-01-1") == before
    put = desk.put_away(floor, DESK, v.number, "B-01-01-1", settings=settings, clock=later)
    assert put.bin == "B-01-01-1" and on_hand(floor, "SKU-00001", "B-01-01-1") >= 1
