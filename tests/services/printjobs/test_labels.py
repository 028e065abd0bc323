"""A parcel's label as the service fills it, on both databases."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import event, func, insert, select, update

from picker.demo.builder import build_demo
from picker.domain.label_text import LabelText
from picker.printing.font_chain import font_chain
from picker.services.errors import NotFound, ServiceError
from picker.services.printjobs.labels import (
    UndrawableRecipient,
    choose_label_text,
    fonts,
    parcel_label,
    parcel_label_data,
)
from picker.store.engine import Database
from picker.store.models import Order, Parcel, PrintJob
from tests.conftest import NOW
from tests.printing.scripts import need_script
from tests.printing.test_labels import decoded, pdf_pages


@pytest.fixture
def shipped(db: Database) -> Database:
    """A demo floor with history: orders packed and shipped in parcels."""
    build_demo(db, orders=40, seed=1, now=NOW)
    return db


def one_parcel_cod_order(shipped) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(order id, parcel id) of a closed single-parcel order, made cash on delivery."""
    with shipped.transaction() as s:
        counts = (
            select(Parcel.order_id).group_by(Parcel.order_id).having(func.count() == 1).subquery()
        )
        parcel_id, order_id = s.execute(
            select(Parcel.id, Parcel.order_id)
            .where(Parcel.order_id.in_(select(counts.c.order_id)), Parcel.status == "closed")
            .order_by(Parcel.id)
            .limit(1)
        ).one()  # fmt: skip
        s.execute(update(Order).where(Order.id == order_id).values(cod_amount=Decimal("99.50")))
    return order_id, parcel_id


def another_parcel(s, order_id: int, first: int, tracking: str) -> int:  # type: ignore[no-untyped-def]
    """A second closed parcel of the order, by the first one's courier."""
    courier = s.scalar(select(Parcel.courier_id).where(Parcel.id == first))
    values = {"order_id": order_id, "seq": 2, "courier_id": courier, "status": "closed",
              "tracking_no": tracking, "weight_g": 900}  # fmt: skip
    return int(s.scalar(insert(Parcel).values(**values).returning(Parcel.id)))


def test_a_replacement_for_a_voided_parcel_is_1_of_1_and_collects_the_cash(shipped, settings):
    order_id, first = one_parcel_cod_order(shipped)
    with shipped.transaction() as s:
        s.execute(update(Parcel).where(Parcel.id == first).values(status="voided"))
        second = another_parcel(s, order_id, first, "CR777777")
    with shipped.read() as s:
        data, _ = parcel_label_data(s, settings, second)
        label = parcel_label(s, settings, second)
    assert (data.parcel_no, data.parcel_count) == (1, 1)
    assert data.cod_amount == Decimal("99.50")
    [(page, text)] = pdf_pages(label.content)
    assert decoded(page) == ["CR777777"] and "COD" in text and "1 / 1" in text


def test_the_second_of_two_parcels_says_2_of_2_and_collects_nothing(shipped, settings):
    order_id, first = one_parcel_cod_order(shipped)
    with shipped.transaction() as s:
        second = another_parcel(s, order_id, first, "CR777778")
    with shipped.read() as s:
        one, _ = parcel_label_data(s, settings, first)
        two, _ = parcel_label_data(s, settings, second)
    assert (one.parcel_no, one.parcel_count, one.cod_amount) == (1, 2, Decimal("99.50"))
    assert (two.parcel_no, two.parcel_count, two.cod_amount) == (2, 2, None)


# --- a recipient the label fonts cannot draw ---------------------------------------------------


def packed_up_to_close(floor, settings, name: str, city: str = "Hà Nội"):  # type: ignore[no-untyped-def]
    """An order at the packing table, every unit verified, box, weight and address done, whose
    recipient is ``name`` in ``city`` (as the shop sent it)."""
    from tests.services.floor.test_packing import opened, ready, verify_all

    v = opened(floor, settings, ("SKU-00001", 1))
    with floor.transaction() as s:
        done = update(Order).where(Order.id == v.order_id)
        s.execute(done.values(ship_name=name, ship_city=city))
    verify_all(floor, v)
    ready(floor, settings, v)
    return v


def close(floor, settings, v):  # type: ignore[no-untyped-def]
    from picker.services.floor.parcels import close_parcel
    from tests.services.floor.test_packing import PACKER, clock

    return close_parcel(floor, PACKER, settings, v.order_id, more_to_come=False, clock=clock)


def label_text_of(floor, order_id: int) -> tuple[str | None, list[str]]:  # type: ignore[no-untyped-def]
    from picker.store.models import OrderEvent

    with floor.read() as s:
        choice = s.scalar(select(Order.label_text).where(Order.id == order_id))
        reasons = s.scalars(
            select(OrderEvent.reason).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
        ).all()
    return choice, [r for r in reasons if r and r.startswith("label text")]


def test_a_recipient_the_fonts_cannot_draw_is_refused_at_close_naming_the_characters(
    floor, settings
) -> None:
    from tests.services.floor.test_packing import counts, status

    v = packed_up_to_close(floor, settings, "ᚠᚢ Smith", city="ᏣᎳᎩ")
    before = counts(floor)
    with pytest.raises(UndrawableRecipient) as refused:
        close(floor, settings, v)
    assert str(refused.value) == (
        "The label cannot draw 'ᚠ' (U+16A0), 'ᚢ' (U+16A2) in the recipient's name, 'Ꮳ' (U+13E3), "
        "'Ꮃ' (U+13B3), 'Ꭹ' (U+13A9) in the city: ask a lead"
    )
    assert counts(floor) == before  # no parcel closed, no label queued, no number used
    assert status(floor, v.number) == "packing"


def test_a_cjk_recipients_fonts_are_read_before_the_close_takes_its_write_transaction(
    floor, settings, request
) -> None:
    # Reading Noto CJK's glyphs takes up to a second the first time: the close must not spend
    # it inside its write transaction, where the courier's tracking counter is locked.
    need_script(request, "CJK")
    font_chain.cache_clear()  # a chain of this test's own: no font's glyphs read yet
    chain = fonts(settings)
    cjk = chain.fonts[chain.families.index("Noto Sans CJK SC")]
    v = packed_up_to_close(floor, settings, "張偉", city="北京")
    assert not cjk.regular.loaded and not cjk.bold.loaded
    seen: list[tuple[bool, bool]] = []

    def on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        if not conn.get_execution_options().get("picker_readonly"):
            seen.append((cjk.regular.loaded, cjk.bold.loaded))

    event.listen(floor.engine, "begin", on_begin)
    try:
        closed = close(floor, settings, v)
    finally:
        event.remove(floor.engine, "begin", on_begin)
    assert seen == [(True, True)]  # the close's one write transaction began with both read
    with floor.read() as s:
        pdf = s.scalar(select(PrintJob.content).where(PrintJob.id == closed.label_job))
    [(page, text)] = pdf_pages(pdf)
    assert "張偉" in text and "北京" in text and decoded(page) == [closed.tracking_no]


@pytest.mark.parametrize(
    ("choice", "printed"),
    [(LabelText.TRANSLITERATE, "fu Smith"), (LabelText.HAND_WRITE, "__ Smith")],
)
def test_a_leads_choice_is_kept_on_the_order_journaled_and_the_close_then_prints_it(
    floor, settings, choice: LabelText, printed: str
) -> None:
    from tests.services.floor.test_packing import LEAD

    v = packed_up_to_close(floor, settings, "ᚠᚢ Smith")
    with pytest.raises(UndrawableRecipient):
        close(floor, settings, v)
    done = choose_label_text(floor, LEAD, settings, v.number, choice)
    assert done.printed == (("the recipient's name", printed),)
    assert label_text_of(floor, v.order_id) == (
        choice.value, [f"label text: {choice.words} (the recipient's name prints as {printed!r})"],
    )  # fmt: skip
    closed = close(floor, settings, v)
    assert closed.order_packed
    with floor.read() as s:
        pdf = s.scalar(select(PrintJob.content).where(PrintJob.id == closed.label_job))
    [(_, text)] = pdf_pages(pdf)
    assert printed in " ".join(text.split())


def test_only_a_lead_chooses_and_an_unknown_or_shipped_order_is_refused(floor, settings) -> None:
    from picker.domain.roles import NotAllowed
    from tests.services.floor.test_packing import LEAD, PACKER

    v = packed_up_to_close(floor, settings, "ᚠ Smith")
    with pytest.raises(NotAllowed):
        choose_label_text(floor, PACKER, settings, v.number, LabelText.HAND_WRITE)
    with pytest.raises(NotFound, match="There is no order PO-9999999"):
        choose_label_text(floor, LEAD, settings, "PO-9999999", LabelText.HAND_WRITE)
    with floor.transaction() as s:
        s.execute(update(Order).where(Order.id == v.order_id).values(status="executed"))
    with pytest.raises(ServiceError, match="is executed: its labels are printed"):
        choose_label_text(floor, LEAD, settings, v.number, LabelText.HAND_WRITE)
    assert label_text_of(floor, v.order_id) == (None, [])
