"""The handoff zone on both databases: lanes, pickups, refusals, races, close, manifests."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pypdfium2
import pytest
from sqlalchemy import func, select, update

from picker.domain.roles import NotAllowed, Role
from picker.printing.labels import cod_text
from picker.services.actors import Actor, OperatorInfo
from picker.services.errors import ServiceError
from picker.services.floor import handoff, packing, picking
from picker.services.floor.handoff import HandoffRefused
from picker.services.floor.parcels import close_parcel, void_parcel
from picker.store.engine import Database
from picker.store.models import CourierPickup, Order, OrderEvent, Parcel, PrintJob
from tests.printing.test_floor_sheet import _decode
from tests.services.floor.test_packing import LEAD, PACKER, ready
from tests.services.floor.test_picking import _race, clock, order_id, picker_of, status
from tests.services.intake.test_order_import import order, run, stock

OTHER_LEAD = Actor("T24", OperatorInfo(1, "EMP-0001", "Lead One", frozenset({Role.LEAD})))


def packed(  # type: ignore[no-untyped-def]
    db: Database,
    settings,
    *lines,
    tote: str,
    parcels: int = 1,
    packer: Actor = PACKER,
    restock: bool = True,
    shop_no: str | None = None,
) -> tuple[str, list[str]]:
    """A new order picked into ``tote`` and packed into ``parcels`` parcels (its lines split
    among them): (order number, tracking numbers). ``restock`` first puts 50 of each SKU in a
    bin of its own (written straight into the stock table, outside the ledger). ``shop_no``:
    the order of that shop number imported already (from a shop's export, with ``lines``), not
    a new one."""
    for sku, _ in lines if restock else ():
        stock(db, sku, A_01_01_1=50) if sku == "SKU-00001" else stock(db, sku, A_01_02_1=50)
    if shop_no is None:
        shop_no = tote.removeprefix("T-")
        run(db, settings, order(shop_no, *lines))
    with db.read() as s:
        number = s.scalar(select(Order.number).where(Order.shop_order_no == shop_no))
    who = picker_of(db, number)
    picking.start_order(db, who, order_id(db, number), tote, batch_size=4, clock=clock)
    mine = order_id(db, number)
    for line in picking.pick_list(db, who.operator_id):
        if line.order_id == mine:  # the picker may have other orders started (a demo floor's)
            picking.pick(db, who, line.task_id, line.left, clock=clock)
    opened = packing.open_order(db, packer, settings, tote, by="tote", clock=clock)
    v = packing.view(db, opened.order_id)
    packing.confirm_address(db, packer, v.order_id, clock=clock)
    tracking = []
    groups = [v.lines[:1], v.lines[1:]] if parcels == 2 else [v.lines]
    for i, group in enumerate(groups):
        for line in group:
            packing.verify(db, packer, v.order_id, line.line_id, line.quantity, clock=clock)
        ready(db, settings, v, packer=packer)
        closed = close_parcel(
            db, packer, settings, v.order_id, more_to_come=i < len(groups) - 1, clock=clock
        )
        tracking.append(closed.tracking_no)
    assert status(db, number) == "packed"
    return number, tracking


def lane_of(db: Database, settings, code: str) -> handoff.Lane:  # type: ignore[no-untyped-def]
    return next(ln for ln in handoff.lanes(db, settings, now=clock()) if ln.courier == code)


def test_lanes_count_parcels_weight_and_cash_per_courier(floor, settings) -> None:
    packed(floor, settings, ("SKU-00001", 1), tote="T-0901")
    number, _ = packed(floor, settings, ("SKU-00001", 1), ("SKU-00002", 1), tote="T-0902",
                       parcels=2)  # fmt: skip
    with floor.transaction() as s:  # the two-parcel order collects cash on delivery
        s.execute(
            update(Order)
            .where(Order.number == number)
            .values(cod_amount=Decimal("450000"), paid=False)
        )
    lane = lane_of(floor, settings, "POST")
    assert lane.parcels == 3 and lane.open_pickup is None
    assert lane.cod == (cod_text(Decimal("450000"), "VND", "PL"),)  # once, not per parcel
    assert lane.minutes_to_cutoff(clock()) >= 0
    with floor.read() as s:
        assert lane.weight_g == s.scalar(select(func.sum(Parcel.weight_g)))
    others = [ln for ln in handoff.lanes(floor, settings, now=clock()) if ln.courier != "POST"]
    assert others and all(ln.parcels == 0 and ln.cod == () for ln in others)
    later = handoff.lanes(floor, settings, now=clock() + timedelta(days=1))
    assert next(ln for ln in later if ln.courier == "POST").late == 3  # a cutoff went by


def test_a_pickup_takes_its_couriers_parcels_and_refuses_others_by_name(floor, settings) -> None:
    number, [tracking] = packed(floor, settings, ("SKU-00001", 1), tote="T-0901")
    pickup = handoff.open_pickup(floor, LEAD, "post", clock=clock)
    assert pickup.number.startswith("PU-") and not pickup.resumed
    again = handoff.open_pickup(floor, OTHER_LEAD, pickup.lane, clock=clock)
    assert again.id == pickup.id and again.resumed  # one open pickup per courier
    swift = handoff.open_pickup(floor, LEAD, "SWIFT", clock=clock)
    with pytest.raises(HandoffRefused, match=f"goes with POST: put it back in lane {pickup.lane}"):
        handoff.hand_over_parcel(floor, LEAD, swift.id, tracking, clock=clock)
    with pytest.raises(HandoffRefused, match="no parcel of ours"):
        handoff.hand_over_parcel(floor, LEAD, pickup.id, "XX000000000XX", clock=clock)
    done = handoff.hand_over_parcel(floor, LEAD, pickup.id, tracking, clock=clock)
    assert (done.order_number, done.count, done.total) == (number, 1, 1)
    with pytest.raises(HandoffRefused, match=f"handed over already, on {pickup.number}"):
        handoff.hand_over_parcel(floor, LEAD, pickup.id, tracking, clock=clock)
    state = handoff.pickup_state(floor, pickup.id)
    assert (state.handed, state.last, state.waiting) == (1, (tracking, number), 0)
    assert lane_of(floor, settings, "POST").parcels == 0


def test_a_lanes_count_drops_as_its_parcels_are_scanned_into_the_open_pickup(
    floor, settings
) -> None:
    _, [one] = packed(floor, settings, ("SKU-00001", 1), tote="T-0901")
    _, [two, three] = packed(floor, settings, ("SKU-00001", 1), ("SKU-00002", 1), tote="T-0902",
                             parcels=2)  # fmt: skip
    with floor.read() as s:
        weight = dict(s.execute(select(Parcel.tracking_no, Parcel.weight_g)).all())
    lane = lane_of(floor, settings, "POST")
    assert (lane.parcels, lane.scanned, lane.weight_g) == (3, 0, sum(weight.values()))
    pickup = handoff.open_pickup(floor, LEAD, "POST", clock=clock)
    done = handoff.hand_over_parcel(floor, LEAD, pickup.id, two, clock=clock)
    assert done.weight_g == weight[two]
    lane = lane_of(floor, settings, "POST")
    assert (lane.parcels, lane.scanned) == (2, 1) and lane.open_pickup == pickup.number
    assert lane.weight_g == weight[one] + weight[three]
    later = clock() + timedelta(seconds=1)
    handoff.hand_over_parcel(floor, LEAD, pickup.id, one, clock=lambda: later)

    def counts() -> tuple[int, int]:
        lane = lane_of(floor, settings, "POST")
        return lane.parcels, lane.scanned

    assert counts() == (1, 2)
    handoff.undo_last(floor, LEAD, pickup.id, clock=clock)  # the last one back to the lane
    assert counts() == (2, 1)
    others = [ln for ln in handoff.lanes(floor, settings, now=clock()) if ln.courier != "POST"]
    assert all(ln.scanned == 0 and ln.open_pickup is None for ln in others)
    handoff.close_pickup(floor, LEAD, settings, pickup.id, clock=clock)
    lane = lane_of(floor, settings, "POST")  # the two left stay for the next pickup
    assert (lane.parcels, lane.scanned, lane.open_pickup) == (2, 0, None)


def test_only_a_lead_hands_parcels_over(floor, settings) -> None:
    with pytest.raises(NotAllowed):
        handoff.open_pickup(floor, PACKER, "POST", clock=clock)


def test_void_open_and_unpacked_parcels_are_refused(floor, settings) -> None:
    _, [tracking] = packed(floor, settings, ("SKU-00001", 1), tote="T-0901")
    void_parcel(floor, Actor("T01"), tracking, "label smudged", clock=clock)
    pickup = handoff.open_pickup(floor, LEAD, "POST", clock=clock)
    with pytest.raises(HandoffRefused, match="is VOID"):
        handoff.hand_over_parcel(floor, LEAD, pickup.id, tracking, clock=clock)
    with floor.read() as s:
        assert s.scalar(select(Parcel.status).where(Parcel.tracking_no == tracking)) == "voided"


def test_undo_puts_the_last_parcel_back_in_its_lane(floor, settings) -> None:
    _, [one] = packed(floor, settings, ("SKU-00001", 1), tote="T-0901")
    _, [two] = packed(floor, settings, ("SKU-00001", 1), tote="T-0902")
    pickup = handoff.open_pickup(floor, LEAD, "POST", clock=clock)
    later = clock() + timedelta(seconds=1)
    handoff.hand_over_parcel(floor, LEAD, pickup.id, two, clock=clock)  # the newer parcel first
    handoff.hand_over_parcel(floor, LEAD, pickup.id, one, clock=lambda: later)
    assert handoff.undo_last(floor, LEAD, pickup.id, clock=clock) == one  # the last scanned
    state = handoff.pickup_state(floor, pickup.id)
    assert (state.handed, state.last, state.waiting) == (1, (two, state.last[1]), 1)  # type: ignore[index]
    assert [t for t, _ in state.waiting_listed] == [one]


def test_two_leads_scanning_one_parcel_into_two_pickups_only_one_has_it(floor, settings) -> None:
    _, [tracking] = packed(floor, settings, ("SKU-00001", 1), tote="T-0901")
    first = handoff.open_pickup(floor, LEAD, "POST", clock=clock)
    with floor.transaction() as s:  # a second open pickup of the same courier (two docks)
        s.execute(
            CourierPickup.__table__.insert().values(
                number="PU-999999", courier_id=first.courier_id, status="open", opened_by=1,
                opened_at=clock(),
            )
        )  # fmt: skip
        second = s.scalar(select(CourierPickup.id).where(CourierPickup.number == "PU-999999"))
    results = _race(
        lambda: handoff.hand_over_parcel(floor, LEAD, first.id, tracking, clock=clock),
        lambda: handoff.hand_over_parcel(floor, OTHER_LEAD, second, tracking, clock=clock),
    )
    wins = [r for r in results if isinstance(r, handoff.Handed)]
    assert len(wins) == 1, results
    assert all(isinstance(r, ServiceError) for r in results if r not in wins)
    with floor.read() as s:
        assert s.scalar(select(func.count()).select_from(Parcel).where(
            Parcel.pickup_id.is_not(None))) == 1  # fmt: skip


def test_closing_executes_exactly_the_orders_whose_parcels_all_left(floor, settings) -> None:
    single, [a] = packed(floor, settings, ("SKU-00001", 1), tote="T-0901")
    split, [b1, b2] = packed(floor, settings, ("SKU-00001", 1), ("SKU-00002", 1), tote="T-0902",
                             parcels=2)  # fmt: skip
    stays, [c] = packed(floor, settings, ("SKU-00001", 1), tote="T-0903")
    pickup = handoff.open_pickup(floor, LEAD, "POST", clock=clock)
    with pytest.raises(HandoffRefused, match="Nothing is on"):
        handoff.close_pickup(floor, LEAD, settings, pickup.id, clock=clock)
    for tracking in (a, b1):
        handoff.hand_over_parcel(floor, LEAD, pickup.id, tracking, clock=clock)
    closed = handoff.close_pickup(floor, LEAD, settings, pickup.id, clock=clock)
    assert closed.executed == (single,) and closed.parcels == 2 and closed.left_in_lane == 2
    assert [status(floor, n) for n in (single, split, stays)] == ["executed", "packed", "packed"]
    with floor.read() as s:
        reason = s.scalar(select(OrderEvent.reason).where(OrderEvent.to_status == "executed"))
        job = s.get(PrintJob, closed.manifest_job)
    assert reason == f"handed to POST on {pickup.number}"
    assert job is not None and job.kind == "manifest" and job.pickup_id == pickup.id
    assert pickup.number in _decode(job.content)
    text = pypdfium2.PdfDocument(job.content)[0].get_textpage().get_text_range()
    assert a in text and b1 in text and c not in text and b2 not in text
    # The rest of the split order goes with the next pickup: then it is executed.
    later = handoff.open_pickup(floor, LEAD, "POST", clock=clock)
    handoff.hand_over_parcel(floor, LEAD, later.id, b2, clock=clock)
    assert handoff.close_pickup(floor, LEAD, settings, later.id, clock=clock).executed == (split,)
    with pytest.raises(HandoffRefused, match="was closed"):
        handoff.hand_over_parcel(floor, LEAD, later.id, c, clock=clock)


def test_a_parcel_marked_missing_puts_its_order_on_hold(floor, settings) -> None:
    _, [a] = packed(floor, settings, ("SKU-00001", 1), tote="T-0901")
    lost, [b] = packed(floor, settings, ("SKU-00001", 1), tote="T-0902")
    pickup = handoff.open_pickup(floor, LEAD, "POST", clock=clock)
    handoff.hand_over_parcel(floor, LEAD, pickup.id, a, clock=clock)
    with pytest.raises(HandoffRefused, match="not a parcel waiting in this lane"):
        handoff.close_pickup(floor, LEAD, settings, pickup.id, missing=[a], clock=clock)
    closed = handoff.close_pickup(floor, LEAD, settings, pickup.id, missing=[b], clock=clock)
    assert closed.missing == (b,) and closed.left_in_lane == 0
    assert status(floor, lost) == "on_hold"
    with floor.read() as s:
        reasons = s.scalar(select(Order.hold_reasons).where(Order.number == lost))
    assert reasons == [f"missing at pickup {pickup.number}: parcel {b}"]


def test_manifests_of_a_day_are_printed_again(floor, settings) -> None:
    _, [a] = packed(floor, settings, ("SKU-00001", 1), tote="T-0901")
    _, [b] = packed(floor, settings, ("SKU-00001", 1), tote="T-0902")
    pickup = handoff.open_pickup(floor, LEAD, "POST", clock=clock)
    handoff.hand_over_parcel(floor, LEAD, pickup.id, a, clock=clock)
    handoff.close_pickup(floor, LEAD, settings, pickup.id, missing=[b], clock=clock)
    day = clock().astimezone(settings.warehouse.tz).date()
    [(pickup_id, number, pdf)] = handoff.manifests(floor, settings, day, "post")
    assert (pickup_id, number) == (pickup.id, pickup.number) and pickup.number in _decode(pdf)
    doc = pypdfium2.PdfDocument(pdf)
    text = doc[len(doc) - 1].get_textpage().get_text_range()
    assert b in text  # the missing parcel is listed again
    assert handoff.manifests(floor, settings, day, "SWIFT") == []
    assert handoff.manifests(floor, settings, day + timedelta(days=1)) == []
    [(again, job)] = handoff.reprint_manifests(floor, LEAD, settings, day, clock=clock)
    with floor.read() as s:
        row = s.get(PrintJob, job)
    assert again == pickup.number and row is not None and row.reason == "manifest printed again"
    with pytest.raises(ServiceError, match="no pickup of SWIFT was closed on"):
        handoff.reprint_manifests(floor, LEAD, settings, day, "swift", clock=clock)


def test_a_parcel_closed_elsewhere_wakes_a_listening_handoff_screen(floor, settings) -> None:
    changes = handoff.lane_changes(floor)
    if floor.dialect == "sqlite":
        assert changes is None  # SQLite terminals poll
        return
    assert changes is not None
    try:
        assert not changes.wait(0.2)  # nothing happened yet
        _, [tracking] = packed(floor, settings, ("SKU-00001", 1), tote="T-0901")
        assert changes.wait(2.0)  # the close announced it at commit
        assert not changes.wait(0.2)  # one wake-up stands for all that piled up
        pickup = handoff.open_pickup(floor, LEAD, "POST", clock=clock)
        handoff.hand_over_parcel(floor, LEAD, pickup.id, tracking, clock=clock)
        assert changes.wait(2.0)
    finally:
        changes.close()


def test_a_missing_parcel_found_again_goes_back_to_its_lane_on_release(floor, settings) -> None:
    from picker.services.orders import lead_actions

    number, [a, b] = packed(floor, settings, ("SKU-00001", 1), ("SKU-00002", 1), tote="T-0901",
                            parcels=2)  # fmt: skip
    pickup = handoff.open_pickup(floor, LEAD, "POST", clock=clock)
    handoff.hand_over_parcel(floor, LEAD, pickup.id, a, clock=clock)
    handoff.close_pickup(floor, LEAD, settings, pickup.id, missing=[b], clock=clock)
    assert status(floor, number) == "on_hold"
    assert lane_of(floor, settings, "POST").parcels == 0  # a held order's parcel is not in a lane
    released = lead_actions.release_order(floor, LEAD, number, settings=settings, clock=clock)
    assert released.released and status(floor, number) == "packed"
    later = handoff.open_pickup(floor, LEAD, "POST", clock=clock)
    handoff.hand_over_parcel(floor, LEAD, later.id, b, clock=clock)
    closed = handoff.close_pickup(floor, LEAD, settings, later.id, clock=clock)
    assert closed.executed == (number,)


def test_the_manifest_counts_cash_once_per_order_and_adds_the_weights(floor, settings) -> None:
    number, [a, b] = packed(floor, settings, ("SKU-00001", 1), ("SKU-00002", 1), tote="T-0901",
                            parcels=2)  # fmt: skip
    _, [c] = packed(floor, settings, ("SKU-00001", 2), tote="T-0902")
    with floor.transaction() as s:
        s.execute(update(Order).where(Order.number == number).values(cod_amount=Decimal("450000")))
        weights = dict(s.execute(select(Parcel.tracking_no, Parcel.weight_g)).all())
    pickup = handoff.open_pickup(floor, LEAD, "POST", clock=clock)
    for tracking in (a, b, c):
        handoff.hand_over_parcel(floor, LEAD, pickup.id, tracking, clock=clock)
    closed = handoff.close_pickup(floor, LEAD, settings, pickup.id, clock=clock)
    with floor.read() as s:
        job = s.get(PrintJob, closed.manifest_job)
    assert job is not None
    doc = pypdfium2.PdfDocument(job.content)
    text = " ".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    cash = cod_text(Decimal("450000"), "VND", "PL").replace("\xa0", " ")  # as printed
    assert text.count(cash) == 2  # once in its parcel's row (parcel 1 of 2), once in the totals
    kg = sum(weights.values()) / 1000
    assert f"{kg:.2f}" in text and "1/2" in text and "2/2" in text and "1/1" in text


def test_an_order_held_for_a_missing_parcel_is_not_cancelled_and_nothing_is_put_back(
    floor, settings
) -> None:
    """Its goods are in a labelled parcel, not in a tote: cancelling is refused by name (void
    the parcel first, or it is a return), and no stock moves."""
    from sqlalchemy import func

    from picker.services.orders import lead_actions
    from picker.store.models import StockMovement

    _, [a] = packed(floor, settings, ("SKU-00001", 1), tote="T-0901")
    number, [b] = packed(floor, settings, ("SKU-00001", 1), tote="T-0902")
    pickup = handoff.open_pickup(floor, LEAD, "POST", clock=clock)
    handoff.hand_over_parcel(floor, LEAD, pickup.id, a, clock=clock)
    handoff.close_pickup(floor, LEAD, settings, pickup.id, missing=[b], clock=clock)
    with floor.read() as s:
        moves = s.scalar(select(func.count()).select_from(StockMovement))
    with pytest.raises(ServiceError, match="1 parcel closed or with the courier"):
        lead_actions.cancel_order(floor, LEAD, number, "customer withdrew", clock=clock)
    with floor.read() as s:
        assert s.scalar(select(Order.status).where(Order.number == number)) == "on_hold"
        assert s.scalar(select(func.count()).select_from(StockMovement)) == moves
