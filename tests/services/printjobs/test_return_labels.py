"""Return labels: the courier's layout with the addresses swapped, its own tracking number from
the courier's scheme read back from the PDF's barcode (both databases)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from picker.services.errors import ServiceError
from picker.services.printjobs.return_labels import render_return_label
from picker.services.printjobs.tracking_numbers import scheme_of
from picker.store.engine import Database
from picker.store.models import Courier, Order
from tests.printing.pdf_reading import read_pages
from tests.services.floor.test_handoff import packed
from tests.services.floor.test_picking import clock

RMA = "RMA-000012"


def shipped_order(db: Database, settings) -> tuple[int, str, list[str]]:  # type: ignore[no-untyped-def]
    """An order packed into one parcel: (id, number, its parcel's tracking numbers)."""
    number, trackings = packed(db, settings, ("SKU-00001", 1), tote="T-0901")
    with db.read() as s:
        order_id = s.scalar(select(Order.id).where(Order.number == number))
    assert order_id is not None
    return order_id, number, trackings


def counter(db: Database, code: str) -> int:
    with db.read() as s:
        return int(s.scalar(select(Courier.next_number).where(Courier.code == code)) or 0)


def test_a_return_label_swaps_the_addresses_and_reads_back_its_own_tracking_number(
    floor, settings
) -> None:
    order_id, number, trackings = shipped_order(floor, settings)
    before = counter(floor, "POST")
    with floor.transaction() as s:
        label = render_return_label(s, order_id=order_id, rma=RMA, courier_id=None,
                                    settings=settings, at=clock())  # fmt: skip
        post = s.scalars(select(Courier).where(Courier.code == "POST")).one()
        expected = scheme_of(post).number(before)
        customer = s.scalar(select(Order.ship_name).where(Order.id == order_id))
    assert label.courier_code == "POST"  # the order's own courier
    assert label.tracking_no == expected and label.tracking_no not in trackings
    assert counter(floor, "POST") == before + 1  # taken as a parcel's close takes one
    [page] = read_pages(label.pdf)
    assert page.codes == [label.tracking_no]  # what the courier's scanner reads
    assert page.size_mm == (101.6, 152.4)  # the POST courier's layout
    lines = [line.strip() for line in page.text.splitlines() if line.strip()]
    assert f"RETURN {RMA}" in lines
    assert any(line.startswith(f"{number} / {RMA}") for line in lines)  # then the date
    # From the customer, to the warehouse.
    assert lines.index("FROM") < lines.index(customer) < lines.index("TO")
    assert lines.index("TO") < lines.index(settings.warehouse.name)
    assert lines[lines.index("TO") + 1] == settings.warehouse.name
    assert f"{settings.warehouse.postal_code} {settings.warehouse.city}" in lines


def test_another_courier_gives_its_own_number_and_layout_and_a_rollback_gives_it_back(
    floor, settings
) -> None:
    order_id, _, _ = shipped_order(floor, settings)
    with floor.read() as s:
        city = s.scalar(select(Courier.id).where(Courier.code == "CITY"))
    posts, cities = counter(floor, "POST"), counter(floor, "CITY")
    with pytest.raises(RuntimeError), floor.transaction() as s:
        render_return_label(s, order_id=order_id, rma=RMA, courier_id=city, settings=settings,
                            at=clock())  # fmt: skip
        raise RuntimeError("the return's write failed")
    assert counter(floor, "CITY") == cities  # given back with the caller's transaction
    with floor.transaction() as s:
        label = render_return_label(s, order_id=order_id, rma=RMA, courier_id=city,
                                    settings=settings, at=clock())  # fmt: skip
    assert (label.courier_code, label.tracking_no) == ("CITY", f"CR{500000 + cities}")
    assert (counter(floor, "CITY"), counter(floor, "POST")) == (cities + 1, posts)
    [page] = read_pages(label.pdf)
    assert page.codes == [label.tracking_no]
    assert page.size_mm == (105.0, 148.0)  # the city courier's A6 layout


def test_an_order_with_no_courier_is_refused_in_words_and_takes_no_number(floor, settings) -> None:
    order_id, number, _ = shipped_order(floor, settings)
    with floor.transaction() as s:
        s.execute(update(Order).where(Order.id == order_id).values(courier_id=None))
    before = {code: counter(floor, code) for code in ("POST", "SWIFT", "CITY")}
    with pytest.raises(ServiceError) as refused, floor.transaction() as s:
        render_return_label(s, order_id=order_id, rma=RMA, courier_id=None, settings=settings,
                            at=clock())  # fmt: skip
    assert str(refused.value) == (
        f"order {number} has no courier: name the courier to carry the return"
    )
    assert {code: counter(floor, code) for code in before} == before
