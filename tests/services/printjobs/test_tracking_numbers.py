"""Tracking-number allocation on the real databases: unique under contention, gap-free, refused
in words when a courier's range is used up."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, update

from picker.demo.builder import build_demo
from picker.domain.tracking import RangeExhausted, Scheme
from picker.services.errors import NotFound, ServiceError, describe_failure
from picker.services.printjobs.tracking_numbers import (
    Allocated,
    SchemeNotUsable,
    TrackingExhausted,
    Usage,
    allocate,
    scheme_of,
    usage,
)
from picker.store.engine import Database
from picker.store.models import Courier, Parcel
from tests.conftest import NOW


def _courier_id(db: Database, code: str) -> int:
    with db.read() as s:
        courier_id = s.scalar(select(Courier.id).where(Courier.code == code))
    assert courier_id is not None
    return courier_id


def _counter(db: Database, code: str) -> int:
    with db.read() as s:
        counter = s.scalar(select(Courier.next_number).where(Courier.code == code))
    assert counter is not None
    return counter


def _set(db: Database, code: str, **values: object) -> None:
    with db.transaction() as s:
        s.execute(update(Courier).where(Courier.code == code).values(**values))


def _allocate(db: Database, code: str) -> Allocated:
    courier_id = _courier_id(db, code)
    with db.transaction() as s:
        return allocate(s, courier_id)


def test_allocation_gives_each_courier_the_next_number_of_its_scheme(floor: Database) -> None:
    firsts = {code: _allocate(floor, code) for code in ("POST", "SWIFT", "CITY")}
    assert {code: a.number for code, a in firsts.items()} == {
        "POST": "EE000000014PL",
        "SWIFT": "73000000000013",
        "CITY": "CR500000",
    }
    assert firsts["CITY"] == Allocated("CR500000", 1, 500_000, None)
    assert _allocate(floor, "CITY").number == "CR500001"
    assert _allocate(floor, "POST").number == "EE000000028PL"
    assert {code: _counter(floor, code) for code in firsts} == {"POST": 2, "SWIFT": 1, "CITY": 2}


def test_allocation_continues_after_the_numbers_the_demo_floor_used(db: Database) -> None:
    build_demo(db, orders=60, seed=3, now=NOW)
    with db.read() as s:
        couriers = s.scalars(select(Courier).order_by(Courier.code)).all()
        used = set(s.scalars(select(Parcel.tracking_no).where(Parcel.tracking_no.is_not(None))))
    assert used, "the demo floor closed no parcel: nothing to continue after"
    for courier in couriers:
        scheme = scheme_of(courier)
        demo_numbers = {scheme.number(i) for i in range(courier.next_number)}
        assert demo_numbers <= used  # the demo counted exactly the numbers it used…
        allocated = _allocate(db, courier.code)
        assert allocated.number == scheme.number(courier.next_number)
        assert allocated.number not in used  # …so the floor's next number is a new one
        assert allocated.used == courier.next_number + 1


@pytest.mark.parametrize("code", ["CITY", "SWIFT"])
def test_terminals_allocating_at_once_never_share_a_number(db_url: str, code: str) -> None:
    db = Database(db_url, busy_timeout_s=60)
    try:
        build_demo(db, orders=0, seed=1, now=NOW)
        courier_id = _courier_id(db, code)
        threads, each = 4, 30
        start = threading.Barrier(threads)
        numbers: list[list[str]] = [[] for _ in range(threads)]
        failures: list[BaseException] = []

        def terminal(n: int) -> None:
            try:
                start.wait(timeout=30)
                for _ in range(each):
                    with db.transaction() as s:
                        numbers[n].append(allocate(s, courier_id).number)
            except BaseException as exc:  # reported below, in the test's thread
                failures.append(exc)

        workers = [threading.Thread(target=terminal, args=(n,)) for n in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=120)
        assert not failures, failures
        every = [number for mine in numbers for number in mine]
        assert len(every) == len(set(every)) == threads * each
        assert _counter(db, code) == threads * each
        # Gap-free as well as unique: exactly the first 120 numbers of the scheme.
        with db.read() as s:
            courier = s.scalars(select(Courier).where(Courier.id == courier_id)).one()
        index = {scheme_of(courier).number(i): i for i in range(threads * each)}
        assert set(every) == set(index)
        for mine in numbers:  # each terminal's numbers come later in the sequence one by one
            assert [index[n] for n in mine] == sorted(index[n] for n in mine)
    finally:
        db.dispose()


def test_an_exhausted_range_is_refused_in_words_and_changes_nothing(floor: Database) -> None:
    _set(floor, "CITY", range_start=500_000, range_end=500_009, next_number=10)
    courier_id = _courier_id(floor, "CITY")
    # The refusal itself leaves the row as it was, even when the caller's transaction commits.
    with floor.transaction() as s, pytest.raises(RangeExhausted) as refused:
        allocate(s, courier_id)
    assert _counter(floor, "CITY") == 10
    message = str(refused.value)
    assert message == (
        "CITY tracking range CR500000 to CR500009 is used up (10 of 10): "
        "ask CityRun Couriers for a new range"
    )
    assert isinstance(refused.value, TrackingExhausted | ServiceError)
    assert describe_failure(refused.value) == message  # the screen shows these words
    assert _allocate(floor, "POST").number == "EE000000014PL"  # other couriers carry on


def test_a_new_range_lets_allocation_carry_on(floor: Database) -> None:
    _set(floor, "CITY", range_start=500_000, range_end=500_000, next_number=1)
    with pytest.raises(TrackingExhausted):
        _allocate(floor, "CITY")
    # The courier's new range: the counter starts again from its first number.
    _set(floor, "CITY", range_start=700_000, range_end=799_999, next_number=0)
    assert _allocate(floor, "CITY").number == "CR700000"


def test_the_warning_appears_from_the_allocation_that_reaches_ninety_percent(
    floor: Database,
) -> None:
    _set(floor, "CITY", next_number=449_998)
    before = _allocate(floor, "CITY")
    assert (before.used, before.warning) == (449_999, None)
    reached = _allocate(floor, "CITY")
    assert reached.used == 450_000 and reached.capacity == 500_000
    assert reached.warning == (
        "CITY tracking range 90% used (450,000 of 500,000): ask CityRun Couriers for a new range"
    )
    after = _allocate(floor, "CITY")
    assert after.warning is not None and "(450,001 of 500,000)" in after.warning


def test_the_warning_on_a_small_range_and_the_last_number(floor: Database) -> None:
    _set(floor, "CITY", range_start=1, range_end=20)
    warnings = [_allocate(floor, "CITY").warning for _ in range(20)]
    assert [w is not None for w in warnings] == [False] * 17 + [True] * 3  # 18 of 20 is 90%
    assert warnings[-1] is not None and "100% used (20 of 20)" in warnings[-1]
    with pytest.raises(TrackingExhausted, match="CR1 to CR20 is used up"):
        _allocate(floor, "CITY")


def test_a_rolled_back_transaction_gives_its_number_back(floor: Database) -> None:
    class ParcelNotClosed(Exception):
        pass

    courier_id = _courier_id(floor, "SWIFT")
    with pytest.raises(ParcelNotClosed), floor.transaction() as s:
        given = allocate(s, courier_id)
        raise ParcelNotClosed  # e.g. the label could not be rendered
    assert _counter(floor, "SWIFT") == 0
    again = _allocate(floor, "SWIFT")
    assert again.number == given.number == "73000000000013"  # no hole in the courier's range
    assert again.used == 1


def test_allocation_keeps_a_loaded_courier_row_up_to_date(floor: Database) -> None:
    courier_id = _courier_id(floor, "CITY")
    with floor.transaction() as s:
        courier = s.get(Courier, courier_id)
        assert courier is not None and courier.next_number == 0
        allocate(s, courier_id)
        assert courier.next_number == 1


def test_a_courier_without_a_usable_scheme_is_refused_in_words(floor: Database) -> None:
    _set(floor, "CITY", range_end=None)
    with pytest.raises(SchemeNotUsable) as refused:
        _allocate(floor, "CITY")
    assert str(refused.value) == (
        "courier CITY cannot be given tracking numbers: a range scheme needs both a range start "
        "and a range end; correct its tracking scheme"
    )
    assert _counter(floor, "CITY") == 0
    with pytest.raises(NotFound, match="courier 999 does not exist"), floor.transaction() as s:
        allocate(s, 999)


def test_usage_lists_every_courier_with_its_warning(floor: Database) -> None:
    _set(floor, "CITY", next_number=460_000)
    _allocate(floor, "SWIFT")
    assert usage(floor) == [
        Usage(
            "CITY",
            "range CR500000 to CR999999",
            460_000,
            500_000,
            "CITY tracking range 92% used (460,000 of 500,000): ask CityRun Couriers for a new "
            "range",
        ),
        Usage("POST", "s10 EE000000014PL to EE999999995PL", 0, 99_999_999, None),
        Usage("SWIFT", "mod10 73000000000013 to 73999999999999", 1, 10**11 - 1, None),
    ]
    _set(floor, "CITY", range_start=None)
    city = usage(floor)[0]
    assert (city.courier, city.capacity) == ("CITY", 0)
    assert city.warning is not None and "needs both a range start and a range end" in city.warning


def test_scheme_of_reads_a_courier_row(floor: Database) -> None:
    with floor.read() as s:
        post = s.scalars(select(Courier).where(Courier.code == "POST")).one()
        row = s.execute(
            select(
                Courier.tracking_scheme,
                Courier.tracking_prefix,
                Courier.tracking_country,
                Courier.range_start,
                Courier.range_end,
                Courier.tracking_length,
            ).where(Courier.code == "POST")
        ).one()
    assert scheme_of(post) == scheme_of(row) == Scheme("s10", "EE", "PL")
