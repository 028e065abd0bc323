"""Packing on both databases: open, verify, box, weigh, confirm, close with label, multi-parcel,
void and repack, send to the lead, resume, races; every refusal changes nothing."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pypdfium2
import pytest
from sqlalchemy import func, select

from picker.domain.roles import NotAllowed, Role
from picker.printing.backends import SpoolBackend
from picker.services import scans
from picker.services.actors import Actor, OperatorInfo
from picker.services.errors import Conflict, NotFound, ServiceError
from picker.services.floor import packing, picking
from picker.services.floor.packing import PackRefused
from picker.services.floor.parcels import close_parcel, void_parcel
from picker.services.orders import lead_actions
from picker.services.printjobs import labels, print_queue
from picker.services.scans import ScanOutcome
from picker.store.engine import Database
from picker.store.models import (
    Bin,
    Courier,
    Order,
    OrderEvent,
    Parcel,
    PickTask,
    PrintJob,
    StockMovement,
    Tote,
)
from tests.services.floor.test_picking import _race, clock, order_id, picker_of, started, status
from tests.services.intake.test_order_import import order, run, stock

PACKER = Actor("T21", OperatorInfo(4, "EMP-0004", "Packer Four", frozenset({Role.PACKER})))
OTHER = Actor("T22", OperatorInfo(5, "EMP-0005", "Packer Five", frozenset({Role.PACKER})))
LEAD = Actor("T23", OperatorInfo(1, "EMP-0001", "Lead One", frozenset({Role.LEAD})))


def picked(db: Database, settings, *lines, tote: str = "T-0900") -> str:  # type: ignore[no-untyped-def]
    """An order picked into ``tote``, waiting at packing; returns its number."""
    for sku, _ in lines:
        stock(db, sku, A_01_01_1=50) if sku == "SKU-00001" else stock(db, sku, A_01_02_1=50)
    number, who = started(db, settings, *lines, tote=tote)
    for line in picking.pick_list(db, who.operator_id):
        picking.pick(db, who, line.task_id, line.quantity, clock=clock)
    assert status(db, number) == "picked"
    return number


def opened(db: Database, settings, *lines) -> packing.PackView:  # type: ignore[no-untyped-def]
    number = picked(db, settings, *lines)
    result = packing.open_order(db, PACKER, settings, "T-0900", by="tote", clock=clock)
    assert result.number == number and not result.resumed
    return packing.view(db, result.order_id)


def verify_all(db: Database, v: packing.PackView) -> None:
    for line in v.lines:
        packing.verify(db, PACKER, v.order_id, line.line_id, line.left, clock=clock)


def ready(
    db: Database, settings, v: packing.PackView, box: str = "BOX-M", *, packer: Actor = PACKER
) -> int:  # type: ignore[no-untyped-def]
    """Box, a fair weight and the address for the open parcel; returns the weight keyed."""
    packing.set_packaging(db, packer, v.order_id, box, clock=clock)
    now = packing.view(db, v.order_id)
    grams = sum(ln.weight_g * ln.in_open for ln in now.lines) + now.open_parcel.tare_g  # type: ignore[union-attr]
    packing.set_weight(db, packer, settings, v.order_id, grams, clock=clock)
    packing.confirm_address(db, packer, v.order_id, clock=clock)
    return grams


def counts(db: Database) -> tuple[int, int, int]:
    with db.read() as s:
        return (
            s.scalar(select(func.count()).select_from(Parcel)) or 0,
            s.scalar(select(func.count()).select_from(PrintJob)) or 0,
            s.scalar(select(func.sum(Courier.next_number))) or 0,
        )


def test_a_picked_order_opens_by_tote_and_shows_its_checklist(floor, settings) -> None:
    v = opened(floor, settings, ("SKU-00001", 2), ("SKU-00002", 1))
    assert v.status == "packing" and v.packer_id == 4 and v.tote == "T-0900"
    assert [(ln.sku, ln.quantity, ln.verified) for ln in v.lines] == [
        ("SKU-00001", 2, 0),
        ("SKU-00002", 1, 0),
    ]
    assert v.ship_to[0] == "Nguyễn Thị Hương" and v.lane and v.courier == "POST"
    assert v.open_parcel is None and v.units_left == 3 and not v.address_confirmed
    with floor.read() as s:
        event = s.execute(select(OrderEvent).order_by(OrderEvent.id.desc()).limit(1)).scalar_one()
        assert (event.from_status, event.to_status, event.operator_id) == ("picked", "packing", 4)


def test_an_order_another_packer_holds_is_refused_by_name_and_stays_theirs(floor, settings) -> None:
    v = opened(floor, settings, ("SKU-00001", 1))
    with pytest.raises(PackRefused, match="being packed by"):
        packing.open_order(floor, OTHER, settings, v.number, by="order", clock=clock)
    assert packing.view(floor, v.order_id).packer_id == 4
    with pytest.raises(Conflict, match="being packed by"):
        packing.verify(floor, OTHER, v.order_id, v.lines[0].line_id, 1, clock=clock)
    assert packing.view(floor, v.order_id).verified == 0


def test_only_picked_orders_open_and_unknown_references_are_named(floor, settings) -> None:
    stock(floor, "SKU-00001", A_01_01_1=10)
    number, _ = started(floor, settings, ("SKU-00001", 1), tote="T-0901")
    with pytest.raises(PackRefused, match="not picked yet"):
        packing.open_order(floor, PACKER, settings, "T-0901", by="tote", clock=clock)
    assert status(floor, number) == "picking"
    with pytest.raises(NotFound, match="Tote T-0999 holds no order"):
        packing.open_order(floor, PACKER, settings, "T-0999", by="tote", clock=clock)
    with pytest.raises(NotFound, match="no order PO-0009999"):
        packing.open_order(floor, PACKER, settings, "PO-0009999", by="order", clock=clock)


def test_a_packer_has_one_order_open_at_a_time(floor, settings) -> None:
    picked(floor, settings, ("SKU-00001", 1))
    stock(floor, "SKU-00001", A_01_01_1=50)
    run(floor, settings, order("1002", ("SKU-00001", 1)))
    second = "PO-0000002"
    who = picker_of(floor, second)
    picking.start_order(floor, who, order_id(floor, second), "T-0902", batch_size=4, clock=clock)
    [line] = picking.pick_list(floor, who.operator_id)
    picking.pick(floor, who, line.task_id, 1, clock=clock)
    packing.open_order(floor, PACKER, settings, "T-0900", by="tote", clock=clock)
    with pytest.raises(PackRefused, match="You have PO-0000001 open"):
        packing.open_order(floor, PACKER, settings, "T-0902", by="tote", clock=clock)
    assert status(floor, second) == "picked"


def test_verifying_counts_units_into_the_open_parcel_and_refuses_one_too_many(
    floor, settings
) -> None:
    v = opened(floor, settings, ("SKU-00001", 2))
    line = v.lines[0]
    item = ScanOutcome(next(iter(line.barcodes)), "product", "accepted")
    done = packing.verify(floor, PACKER, v.order_id, line.line_id, 1, scans_=[item], clock=clock)
    assert (done.verified, done.quantity, done.units_left, done.parcel_seq) == (1, 2, 1, 1)
    with pytest.raises(PackRefused, match="Only 1 of SKU-00001 left to verify; 2 is too many"):
        packing.verify(floor, PACKER, v.order_id, line.line_id, 2, clock=clock)
    now = packing.view(floor, v.order_id)
    assert (now.lines[0].verified, now.open_parcel.units) == (1, 1)  # type: ignore[union-attr]
    assert [(e.kind, e.result) for e in scans.recent(floor)] == [("product", "accepted")]
    assert packing.unverify(floor, PACKER, v.order_id, line.line_id, 1, clock=clock) == 0
    assert packing.view(floor, v.order_id).verified == 0
    with pytest.raises(PackRefused, match="Nothing to undo"):
        packing.unverify(floor, PACKER, v.order_id, line.line_id, 1, clock=clock)


def test_weight_needs_items_and_box_and_a_too_light_parcel_is_refused(floor, settings) -> None:
    v = opened(floor, settings, ("SKU-00001", 3))
    with pytest.raises(PackRefused, match="Nothing to weigh yet"):
        packing.set_weight(floor, PACKER, settings, v.order_id, 500, clock=clock)
    verify_all(floor, v)
    with pytest.raises(PackRefused, match="Scan the box first"):
        packing.set_weight(floor, PACKER, settings, v.order_id, 500, clock=clock)
    box, seq = packing.set_packaging(floor, PACKER, v.order_id, "BOX-M", clock=clock)
    assert (box.code, seq) == ("BOX-M", 1)
    expected = v.lines[0].weight_g * 3 + box.tare_g
    allowed = max(expected * 0.10, 30)
    with pytest.raises(PackRefused, match=f"too light: its contents and box weigh {expected} g"):
        packing.set_weight(
            floor, PACKER, settings, v.order_id, int(expected - allowed) - 1, clock=clock
        )
    assert packing.view(floor, v.order_id).open_parcel.weight_g is None  # type: ignore[union-attr]
    weighed = packing.set_weight(
        floor, PACKER, settings, v.order_id, int(expected - allowed) + 1, clock=clock
    )
    assert weighed.expected_g == expected
    packing.unverify(floor, PACKER, v.order_id, v.lines[0].line_id, 1, clock=clock)
    assert packing.view(floor, v.order_id).open_parcel.weight_g is None  # type: ignore[union-attr]
    packing.verify(floor, PACKER, v.order_id, v.lines[0].line_id, 1, clock=clock)
    stricter = replace(settings, packing=replace(settings.packing, weight_tolerance_pct=0.0,
                                                 weight_tolerance_g=0))  # fmt: skip
    with pytest.raises(PackRefused, match="Check the contents"):
        packing.set_weight(floor, PACKER, stricter, v.order_id, expected - 1, clock=clock)


def test_an_unknown_box_is_named_with_the_known_ones(floor, settings) -> None:
    v = opened(floor, settings, ("SKU-00001", 1))
    with pytest.raises(NotFound, match=r"BOX-XXL is not a box we know\. Boxes: BOX-ENVM, BOX-L"):
        packing.set_packaging(floor, PACKER, v.order_id, "BOX-XXL", clock=clock)
    assert packing.view(floor, v.order_id).open_parcel is None


def test_closing_the_last_parcel_allocates_tracking_queues_a_printable_label_and_packs(
    floor, settings, tmp_path
) -> None:
    v = opened(floor, settings, ("SKU-00001", 2))
    verify_all(floor, v)
    before = counts(floor)
    with pytest.raises(PackRefused, match="scan the box, key the weight, confirm the address"):
        close_parcel(floor, PACKER, settings, v.order_id, more_to_come=False, clock=clock)
    assert counts(floor) == before
    grams = ready(floor, settings, v)
    closed = close_parcel(floor, PACKER, settings, v.order_id, more_to_come=False, clock=clock)
    assert closed.order_packed and closed.lane == v.lane and closed.next_parcel is None
    assert status(floor, v.number) == "packed"
    with floor.read() as s:
        parcel = s.execute(select(Parcel)).scalar_one()
        assert (parcel.status, parcel.tracking_no, parcel.weight_g) == (
            "closed",
            closed.tracking_no,
            grams,
        )
        job = s.get(PrintJob, closed.label_job)
        assert job is not None and job.parcel_id == parcel.id and job.status == "queued"
        assert s.scalar(select(Tote.order_id).where(Tote.code == "T-0900")) is None
    # Printable: the queue sends it, and the document is a label with the tracking number.
    delivery = print_queue.deliver_due(
        floor,
        settings.printer.name,
        SpoolBackend("T01", tmp_path),
        claimed_by="test",
        clock=clock,
    )
    assert delivery.printed == [closed.label_job]
    [pdf] = tmp_path.glob("*.pdf")
    text = pypdfium2.PdfDocument(pdf.read_bytes())[0].get_textpage().get_text_range()
    assert closed.tracking_no in text and "1 / 1" in text.replace("  ", " ")


def test_no_close_without_its_label(floor, settings) -> None:
    v = opened(floor, settings, ("SKU-00001", 1))
    verify_all(floor, v)
    ready(floor, settings, v)
    with floor.transaction() as s:
        s.execute(Courier.__table__.update().values(label_layout="no-such-layout"))
    before = counts(floor)
    with pytest.raises(ServiceError, match="Label layout no-such-layout: no layout"):
        close_parcel(floor, PACKER, settings, v.order_id, more_to_come=False, clock=clock)
    assert counts(floor) == before  # no parcel closed, no job, no tracking number used
    assert packing.view(floor, v.order_id).open_parcel.tracking_no is None  # type: ignore[union-attr]
    assert status(floor, v.number) == "packing"


def test_a_broken_layout_at_close_is_refused_in_words_and_closes_nothing(
    floor, settings, tmp_path
) -> None:
    folder = tmp_path / "labels"
    folder.mkdir()
    for source in settings.labels.dir.glob("*.toml"):
        text = source.read_text(encoding="utf-8").replace("size = 14\n", "size = 1e9\n", 1)
        (folder / source.name).write_text(text, encoding="utf-8")
    site = replace(settings, labels=replace(settings.labels, dir=folder))
    v = opened(floor, settings, ("SKU-00001", 1))
    verify_all(floor, v)
    ready(floor, settings, v)
    before = counts(floor)
    with pytest.raises(ServiceError) as refused:
        close_parcel(floor, PACKER, site, v.order_id, more_to_come=False, clock=clock)
    # The courier's layout extends the generic 4x6, where the size is wrong.
    assert str(refused.value).startswith("Label layout ")
    assert "blocks.recipient.size: must be at most 144 pt, not 1e+09" in str(refused.value)
    assert counts(floor) == before
    assert status(floor, v.number) == "packing"


def test_two_parcels_each_get_their_own_tracking_number_and_label(floor, settings) -> None:
    v = opened(floor, settings, ("SKU-00001", 1), ("SKU-00002", 2))
    first, second = v.lines
    packing.verify(floor, PACKER, v.order_id, first.line_id, 1, clock=clock)
    ready(floor, settings, v, "BOX-S")
    with pytest.raises(PackRefused, match="2 units still to verify"):
        close_parcel(floor, PACKER, settings, v.order_id, more_to_come=False, clock=clock)
    one = close_parcel(floor, PACKER, settings, v.order_id, more_to_come=True, clock=clock)
    assert (one.parcel_seq, one.next_parcel, one.order_packed) == (1, 2, False)
    packing.verify(floor, PACKER, v.order_id, second.line_id, 2, clock=clock)
    with pytest.raises(PackRefused, match="Every unit is verified"):
        close_parcel(floor, PACKER, settings, v.order_id, more_to_come=True, clock=clock)
    ready(floor, settings, v, "BOX-M")
    two = close_parcel(floor, PACKER, settings, v.order_id, more_to_come=False, clock=clock)
    assert two.order_packed and one.tracking_no != two.tracking_no
    with floor.read() as s:
        ids = s.scalars(select(Parcel.id).order_by(Parcel.seq)).all()
        data = [labels.parcel_label_data(s, settings, i)[0] for i in ids]
        jobs = s.scalar(select(func.count()).select_from(PrintJob).where(PrintJob.kind == "label"))
    assert [(d.parcel_no, d.parcel_count, d.tracking) for d in data] == [
        (1, 2, one.tracking_no),
        (2, 2, two.tracking_no),
    ]
    assert jobs == 2
    final = packing.view(floor, v.order_id)
    assert [(p.seq, p.units, p.packaging) for p in final.parcels] == [
        (1, 1, "BOX-S"),
        (2, 2, "BOX-M"),
    ]


def test_a_lead_voids_a_parcel_its_items_return_and_the_order_is_repacked(floor, settings) -> None:
    v = opened(floor, settings, ("SKU-00001", 2))
    verify_all(floor, v)
    ready(floor, settings, v)
    closed = close_parcel(floor, PACKER, settings, v.order_id, more_to_come=False, clock=clock)
    with pytest.raises(NotAllowed):
        void_parcel(floor, PACKER, closed.tracking_no, "box crushed", clock=clock)
    with pytest.raises(ServiceError, match="say why"):
        void_parcel(floor, LEAD, closed.tracking_no, " ", clock=clock)
    voided = void_parcel(floor, LEAD, closed.tracking_no, "box crushed", clock=clock)
    assert (voided.order_status, voided.cancelled_jobs) == ("packing", 1)
    with pytest.raises(ServiceError, match="only a closed parcel is voided"):
        void_parcel(floor, LEAD, closed.tracking_no, "again", clock=clock)
    back = packing.view(floor, v.order_id)
    assert back.verified == 0 and back.packer_id == LEAD.operator_id
    with floor.read() as s:
        job = s.get(PrintJob, closed.label_job)
        assert job is not None and job.status == "cancelled" and "box crushed" in job.last_error
        reasons = s.scalars(select(OrderEvent.reason).order_by(OrderEvent.id)).all()
    assert any("voided: box crushed" in r for r in reasons)
    # The lead repacks at their table: a new parcel with a new tracking number, 1 of 1.
    for line in back.lines:
        packing.verify(floor, LEAD, v.order_id, line.line_id, line.quantity, clock=clock)
    packing.set_packaging(floor, LEAD, v.order_id, "BOX-L", clock=clock)
    view = packing.view(floor, v.order_id)
    grams = sum(ln.weight_g * ln.quantity for ln in view.lines) + view.open_parcel.tare_g  # type: ignore[union-attr]
    packing.set_weight(floor, LEAD, settings, v.order_id, grams, clock=clock)
    again = close_parcel(floor, LEAD, settings, v.order_id, more_to_come=False, clock=clock)
    assert again.tracking_no != closed.tracking_no and status(floor, v.number) == "packed"
    with floor.read() as s:
        parcel = s.execute(select(Parcel.id).where(Parcel.tracking_no == again.tracking_no)).one()
        data, _ = labels.parcel_label_data(s, settings, parcel.id)
    assert (data.parcel_no, data.parcel_count) == (1, 1)


def test_the_packer_sends_a_doubtful_order_to_the_lead(floor, settings) -> None:
    v = opened(floor, settings, ("SKU-00001", 1))
    with pytest.raises(PackRefused, match="Say why"):
        packing.send_to_lead(floor, PACKER, v.order_id, "  ", clock=clock)
    sent = packing.send_to_lead(floor, PACKER, v.order_id, "address incomplete", clock=clock)
    assert sent == packing.SentToLead(v.number, ())
    assert status(floor, v.number) == "on_hold"
    with floor.read() as s:
        order = s.execute(select(Order).where(Order.id == v.order_id)).scalar_one()
        assert order.hold_reasons == ["packing: address incomplete"]
        assert s.scalar(select(Tote.location).where(Tote.code == "T-0900")) == "problem_shelf"
    assert packing.mine(floor, 4) is None


def test_after_a_crash_the_packer_resumes_anywhere_with_the_verified_counts(
    floor, settings
) -> None:
    v = opened(floor, settings, ("SKU-00001", 3))
    packing.verify(floor, PACKER, v.order_id, v.lines[0].line_id, 2, clock=clock)
    assert packing.mine(floor, 4) == v.order_id
    elsewhere = Actor("T29", PACKER.operator)
    again = packing.open_order(floor, elsewhere, settings, v.number, by="order", clock=clock)
    assert again.resumed and again.order_id == v.order_id
    assert packing.view(floor, v.order_id).lines[0].verified == 2
    with floor.read() as s:
        held = s.scalar(select(Order.held_by_terminal).where(Order.id == v.order_id))
    assert held == "T29"
    # The table it was open on before can no longer change it: one order, one terminal.
    with pytest.raises(Conflict, match="taken over on another terminal"):
        packing.verify(floor, PACKER, v.order_id, v.lines[0].line_id, 1, clock=clock)
    packing.verify(floor, elsewhere, v.order_id, v.lines[0].line_id, 1, clock=clock)
    assert packing.view(floor, v.order_id).lines[0].verified == 3


def test_two_packers_racing_for_one_order_exactly_one_gets_it(floor, settings) -> None:
    number = picked(floor, settings, ("SKU-00001", 1))
    results = _race(
        *(
            lambda a=actor: packing.open_order(floor, a, settings, "T-0900", by="tote", clock=clock)
            for actor in (PACKER, OTHER)
        )
    )
    wins = [r for r in results if isinstance(r, packing.Opened)]
    refusals = [r for r in results if isinstance(r, ServiceError)]
    assert len(wins) == 1 and len(refusals) == 1, results
    assert "being packed by" in str(refusals[0])
    with floor.read() as s:
        events = s.scalar(
            select(func.count()).select_from(OrderEvent).where(OrderEvent.to_status == "packing")
        )
    assert events == 1 and status(floor, number) == "packing"


def test_a_packing_slip_is_queued_when_config_asks(floor, settings) -> None:
    number = picked(floor, settings, ("SKU-00001", 1))
    with_slip = replace(settings, packing=replace(settings.packing, packing_slip=True))
    opened_ = packing.open_order(floor, PACKER, with_slip, "T-0900", by="tote", clock=clock)
    with floor.read() as s:
        job = s.get(PrintJob, opened_.slip_job)
    assert job is not None and job.kind == "packing_slip" and job.title == number
    text = pypdfium2.PdfDocument(job.content)[0].get_textpage().get_text_range()
    assert number in text and "SKU-00001" in text


def fingerprint(db: Database) -> tuple[object, ...]:
    """Everything packing may change, as rows."""
    from picker.store.models import ParcelItem, ScanJournal

    with db.read() as s:
        return (
            s.execute(
                select(Order.id, Order.status, Order.version, Order.packer_id,
                       Order.address_confirmed_at, Order.hold_reasons).order_by(Order.id)
            ).all(),
            s.execute(
                select(Parcel.id, Parcel.status, Parcel.packaging_type_id, Parcel.weight_g,
                       Parcel.tracking_no).order_by(Parcel.id)
            ).all(),
            s.execute(select(ParcelItem.parcel_id, ParcelItem.order_line_id,
                             ParcelItem.quantity).order_by(ParcelItem.id)).all(),
            s.execute(select(Tote.code, Tote.order_id, Tote.location).order_by(Tote.id)).all(),
            s.scalar(select(func.count()).select_from(PrintJob)),
            s.scalar(select(func.count()).select_from(OrderEvent)),
            s.scalar(select(func.count()).select_from(ScanJournal)),
            s.scalar(select(func.sum(Courier.next_number))),
        )  # fmt: skip


def test_every_refusal_changes_nothing(floor, settings) -> None:
    v = opened(floor, settings, ("SKU-00001", 2), ("SKU-00002", 1))
    first, second = v.lines
    packing.verify(floor, PACKER, v.order_id, first.line_id, 2, clock=clock)
    packing.set_packaging(floor, PACKER, v.order_id, "BOX-S", clock=clock)
    before = fingerprint(floor)
    item = ScanOutcome("x", "product", "accepted")
    open_parcel = packing.view(floor, v.order_id).open_parcel
    assert open_parcel is not None
    refusals = {
        "left to verify": lambda: packing.verify(
            floor, PACKER, v.order_id, first.line_id, 1, scans_=[item], clock=clock
        ),
        "is being packed by": lambda: packing.verify(
            floor, OTHER, v.order_id, second.line_id, 1, clock=clock
        ),
        "not a box we know": lambda: packing.set_packaging(
            floor, PACKER, v.order_id, "BOX-NOPE", clock=clock
        ),
        "too light": lambda: packing.set_weight(
            floor, PACKER, settings, v.order_id, 1, clock=clock
        ),
        "key the weight": lambda: close_parcel(
            floor, PACKER, settings, v.order_id, more_to_come=True, scans_=[item], clock=clock
        ),
        "1 unit still to verify": lambda: close_parcel(
            floor, PACKER, settings, v.order_id, more_to_come=False, clock=clock
        ),
        "Say why": lambda: packing.send_to_lead(floor, PACKER, v.order_id, "", clock=clock),
        "being packed by": lambda: packing.open_order(
            floor, OTHER, settings, v.number, by="order", clock=clock
        ),
        "Nothing to undo": lambda: packing.unverify(
            floor, PACKER, v.order_id, second.line_id, 1, clock=clock
        ),
        "only a closed parcel is voided": lambda: void_parcel(
            floor, LEAD, str(open_parcel.id), "x", clock=clock
        ),
        "Take another tote": lambda: packing.confirm_address(floor, OTHER, v.order_id, clock=clock),
    }
    for words, call in refusals.items():
        with pytest.raises(ServiceError, match=words):
            call()
        assert fingerprint(floor) == before, words


def test_a_replacement_parcel_takes_the_voided_ones_number_and_the_cash(floor, settings) -> None:
    number = picked(floor, settings, ("SKU-00001", 1), ("SKU-00002", 1))
    with floor.transaction() as s:  # cash on delivery
        s.execute(Order.__table__.update().values(cod_amount=Decimal("450000"), paid=False))
    v = packing.view(
        floor,
        packing.open_order(floor, PACKER, settings, "T-0900", by="tote", clock=clock).order_id,
    )
    first, second = v.lines
    packing.verify(floor, PACKER, v.order_id, first.line_id, 1, clock=clock)
    ready(floor, settings, v, "BOX-S")
    one = close_parcel(floor, PACKER, settings, v.order_id, more_to_come=True, clock=clock)
    packing.verify(floor, PACKER, v.order_id, second.line_id, 1, clock=clock)
    ready(floor, settings, v, "BOX-S")
    two = close_parcel(floor, PACKER, settings, v.order_id, more_to_come=False, clock=clock)
    void_parcel(floor, LEAD, one.tracking_no, "box crushed", clock=clock)
    # The lead repacks parcel 1's item; the voided label's number comes back with the cash.
    packing.verify(floor, LEAD, v.order_id, first.line_id, 1, clock=clock)
    packing.set_packaging(floor, LEAD, v.order_id, "BOX-S", clock=clock)
    now = packing.view(floor, v.order_id)
    grams = first.weight_g + now.open_parcel.tare_g  # type: ignore[union-attr]
    packing.set_weight(floor, LEAD, settings, v.order_id, grams, clock=clock)
    three = close_parcel(floor, LEAD, settings, v.order_id, more_to_come=False, clock=clock)
    with floor.read() as s:

        def label(tracking: str):  # type: ignore[no-untyped-def]
            parcel = s.scalar(select(Parcel.id).where(Parcel.tracking_no == tracking))
            return labels.parcel_label_data(s, settings, parcel)[0]

        replacement, kept = label(three.tracking_no), label(two.tracking_no)
    assert (replacement.parcel_no, replacement.parcel_count) == (1, 2)
    assert replacement.cod_amount == Decimal("450000")
    assert (kept.parcel_no, kept.parcel_count, kept.cod_amount) == (2, 2, None)
    assert status(floor, number) == "packed"


def test_sending_to_the_lead_voids_closed_parcels_and_asks_for_the_address_again(
    floor, settings
) -> None:
    v = opened(floor, settings, ("SKU-00001", 1), ("SKU-00002", 1))
    packing.verify(floor, PACKER, v.order_id, v.lines[0].line_id, 1, clock=clock)
    ready(floor, settings, v, "BOX-S")
    closed = close_parcel(floor, PACKER, settings, v.order_id, more_to_come=True, clock=clock)
    sent = packing.send_to_lead(floor, PACKER, v.order_id, "item damaged", clock=clock)
    assert sent.voided == (closed.tracking_no,)
    with floor.read() as s:
        parcel = s.scalar(select(Parcel.status).where(Parcel.tracking_no == closed.tracking_no))
        job = s.get(PrintJob, closed.label_job)
        confirmed = s.scalar(select(Order.address_confirmed_at).where(Order.id == v.order_id))
    assert parcel == "voided" and job is not None and job.status == "cancelled"
    assert confirmed is None and status(floor, v.number) == "on_hold"


def test_a_voided_parcels_label_opens_its_order_again(floor, settings) -> None:
    v = opened(floor, settings, ("SKU-00001", 1))
    verify_all(floor, v)
    ready(floor, settings, v)
    closed = close_parcel(floor, PACKER, settings, v.order_id, more_to_come=False, clock=clock)
    void_parcel(floor, Actor("T01"), closed.tracking_no, "label smudged", clock=clock)
    again = packing.open_order(floor, OTHER, settings, closed.tracking_no, by="parcel", clock=clock)
    assert again.order_id == v.order_id and again.resumed
    assert packing.view(floor, v.order_id).packer_id == OTHER.operator_id
    with pytest.raises(NotFound, match="no tote, order or parcel"):
        packing.open_order(floor, OTHER, settings, "ZZ999", by="parcel", clock=clock)


def test_a_lead_takes_a_stuck_pack_off_its_packer(floor, settings) -> None:
    v = opened(floor, settings, ("SKU-00001", 2))
    packing.verify(floor, PACKER, v.order_id, v.lines[0].line_id, 1, clock=clock)
    with pytest.raises(NotAllowed):
        packing.hand_over_pack(floor, OTHER, v.number, "mine now", clock=clock)
    with pytest.raises(ServiceError, match="say why"):
        packing.hand_over_pack(floor, LEAD, v.number, "", clock=clock)
    with pytest.raises(NotFound, match="no active packer has badge EMP-0002"):  # a picker
        packing.hand_over_pack(floor, LEAD, v.number, "x", badge="EMP-0002", clock=clock)
    words = packing.hand_over_pack(floor, LEAD, v.number, "packer went home", badge="EMP-0005",
                                   clock=clock)  # fmt: skip
    assert "(EMP-0005)" in words
    with pytest.raises(Conflict):
        packing.verify(floor, PACKER, v.order_id, v.lines[0].line_id, 1, clock=clock)
    again = packing.open_order(floor, OTHER, settings, v.number, by="order", clock=clock)
    assert again.resumed and packing.view(floor, v.order_id).lines[0].verified == 1
    with floor.read() as s:
        reason = s.scalar(select(OrderEvent.reason).order_by(OrderEvent.id.desc()).limit(1))
    assert "packer went home" in reason


def test_a_lead_releases_an_order_held_at_packing_back_to_packing(floor, settings) -> None:

    v = opened(floor, settings, ("SKU-00001", 2))
    packing.verify(floor, PACKER, v.order_id, v.lines[0].line_id, 1, clock=clock)
    packing.send_to_lead(floor, PACKER, v.order_id, "address incomplete", clock=clock)
    released = lead_actions.release_order(floor, LEAD, v.number, settings=settings, clock=clock)
    assert released.released and status(floor, v.number) == "picked"
    with floor.read() as s:
        assert s.scalar(select(Tote.location).where(Tote.code == "T-0900")) == "packing"
    back = packing.open_order(floor, OTHER, settings, "T-0900", by="tote", clock=clock)
    assert not back.resumed and packing.view(floor, v.order_id).lines[0].verified == 1


def a_packed_parcel(db: Database) -> tuple[str, str]:
    """(tracking number, order number) of the first closed parcel of a packed order."""
    with db.read() as s:
        found = s.execute(
            select(Parcel.tracking_no, Order.number)
            .join(Order, Order.id == Parcel.order_id)
            .where(Parcel.status == "closed", Order.status == "packed")
            .order_by(Parcel.id)
            .limit(1)
        ).one()
    return found.tracking_no, found.number


def test_a_lead_cancelling_an_order_held_at_packing_puts_its_goods_back(floor, settings) -> None:
    """The tote sits at the problem shelf with what was picked: cancelled, each unit goes back
    to its bin — said to the lead, booked in the ledger — and the tote is free."""
    from picker.domain.picking import PutBack
    from tests.services.floor.test_picking import bin_stock

    v = opened(floor, settings, ("SKU-00001", 2))
    packing.verify(floor, PACKER, v.order_id, v.lines[0].line_id, 1, clock=clock)  # 1 in the box
    packing.send_to_lead(floor, PACKER, v.order_id, "customer called", clock=clock)
    with floor.read() as s:
        code = s.scalar(
            select(Bin.code).join(PickTask, PickTask.bin_id == Bin.id)
            .where(PickTask.order_id == v.order_id)
        )  # fmt: skip
    on_hand, _ = bin_stock(floor, "SKU-00001", code)
    change = lead_actions.cancel_order(floor, LEAD, v.number, "customer withdrew", clock=clock)
    assert change.put_back == (PutBack("SKU-00001", 2, code),)
    assert bin_stock(floor, "SKU-00001", code) == (on_hand + 2, 0)
    with floor.read() as s:
        assert s.scalar(select(Tote.order_id).where(Tote.code == "T-0900")) is None
        moves = s.execute(
            select(StockMovement.reason, StockMovement.delta)
            .where(StockMovement.order_id == v.order_id)
            .order_by(StockMovement.id)
        ).all()  # fmt: skip
    assert [tuple(m) for m in moves] == [("pick", -2), ("put_back", 2)]
    with floor.read() as s:  # the box it was being packed into is gone with the order
        assert s.scalar(select(Parcel.id).where(Parcel.order_id == v.order_id)) is None
