"""Cash on delivery settled, on both databases: COD orders imported, picked, packed, handed to
the courier and delivered through the real services, then couriers' remittance files."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from picker.domain.cod import CodProblem, RemittanceRefused
from picker.domain.roles import NotAllowed
from picker.domain.statuses import OrderStatus
from picker.services import cod
from picker.services.actors import Actor
from picker.services.errors import NotFound
from picker.services.floor.parcels import void_parcel
from picker.services.orders.status import move_order, record_event
from picker.store.engine import Database
from picker.store.models import CodRemittance, Order
from tests.conftest import NOW
from tests.services.floor.test_handoff import packed
from tests.services.floor.test_packing import PACKER
from tests.services.floor.test_picking import _race, clock, order_id
from tests.services.intake.test_order_import import order, run, stock
from tests.services.notify.test_outbox import ship

FEED = Actor("T05", source="courier-feed@host")
HEADER = "tracking_no,amount,currency,remitted_at,reference\n"


def cod_order(  # type: ignore[no-untyped-def]
    db: Database,
    settings,
    no: str,
    currency: str,
    total: str,
    *,
    parcels: int = 1,
    cod_too: bool = True,
) -> tuple[str, list[str]]:
    """A cash-on-delivery order (``cod_too`` False: prepaid) imported, picked and packed into
    ``parcels`` parcels: (order number, tracking numbers)."""
    lines = [("SKU-00001", 1), ("SKU-00002", 1)][:parcels]
    stock(db, "SKU-00001", A_01_01_1=50)
    stock(db, "SKU-00002", A_01_02_1=50)
    paid = {} if not cod_too else {"cod": True, "paid": False, "payment_state": "cod"}
    run(db, settings, order(no, *lines, currency=currency, total=Decimal(total), **paid))
    return packed(db, settings, *lines, tote=f"T-{no}", parcels=parcels, restock=False,
                  shop_no=no)  # fmt: skip


def deliver(db: Database, number: str, at_minutes: int = 60) -> None:
    """The order delivered (through the status machinery), ``at_minutes`` after NOW."""
    with db.transaction() as s:
        o = s.execute(select(Order.id, Order.version).where(Order.number == number)).one()
        move_order(s, order_id=o.id, number=number, from_=OrderStatus.EXECUTED, version=o.version,
                   to=OrderStatus.DELIVERED, actor=FEED, reason="courier: delivered",
                   at=NOW + timedelta(minutes=at_minutes))  # fmt: skip


def shipped(db: Database, settings, *orders: tuple[str, list[str]]) -> None:  # type: ignore[no-untyped-def]
    ship(db, settings, *(t for _, trackings in orders for t in trackings))


def remit(db: Database, text: str, courier: str = "POST", name: str = "remit.csv") -> cod.CodReport:
    return cod.import_remittances(
        db, FEED, (HEADER + text).encode(), courier=courier, file_name=name, clock=clock
    )


def kept(report: cod.CodReport) -> list[tuple[int, str, str]]:
    return [(p.record, p.field, p.reason.partition(":")[0]) for p in report.problems]


def stored(db: Database) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(CodRemittance))


def test_delivered_cod_is_owed_exactly_per_courier_and_currency_until_paid(floor, settings):
    jpy = cod_order(floor, settings, "2001", "JPY", "1234")
    vnd = cod_order(floor, settings, "2002", "VND", "250000")
    eur = cod_order(floor, settings, "2003", "EUR", "12.34")
    eur2 = cod_order(floor, settings, "2004", "EUR", "7.89")
    shipped(floor, settings, jpy, vnd, eur, eur2)
    for minutes, (number, _) in enumerate((jpy, vnd, eur, eur2), start=1):
        deliver(floor, number, minutes)
    owed = cod.open_cod(floor)
    assert [(p.order, p.currency, p.amount_minor, p.amount) for p in owed.parcels] == [
        (jpy[0], "JPY", 1234, "1234"),
        (vnd[0], "VND", 250000, "250000"),
        (eur[0], "EUR", 1234, "12.34"),
        (eur2[0], "EUR", 789, "7.89"),
    ]
    assert [(t.courier, t.currency, t.parcels, t.amount_minor, t.amount) for t in owed.totals] == [
        ("POST", "EUR", 2, 2023, "20.23"),
        ("POST", "JPY", 1, 1234, "1234"),
        ("POST", "VND", 1, 250000, "250000"),
    ]
    report = remit(floor, f"{jpy[1][0]},1234,JPY,2026-11-25,R-1\n"
                          f"{vnd[1][0]},250000.00,VND,2026-11-25T10:00:00+07:00,R-1\n"
                          f"{eur[1][0]},12.34,EUR,2026-11-25,R-1\n")  # fmt: skip
    assert (report.counts["settled"], report.failed) == (3, 0)
    left = cod.open_cod(floor)
    assert [p.order for p in left.parcels] == [eur2[0]] and left.problems == 0
    assert [(t.currency, t.amount) for t in left.totals] == [("EUR", "7.89")]
    [line] = cod.order_settlements(floor, vnd[0])
    assert (line.problem, line.amount, line.currency, line.reference, line.who) == (
        None, "250000", "VND", "R-1", "courier-feed@host")  # fmt: skip
    assert line.remitted_at == NOW.replace(day=25, hour=3, minute=0)  # 10:00 at +07:00, in UTC


def test_every_kind_of_mismatch_is_kept_for_the_lead_with_its_line_and_tracking_number(
    floor, settings
) -> None:
    short = cod_order(floor, settings, "2101", "JPY", "1234")
    over = cod_order(floor, settings, "2102", "VND", "250000")
    other = cod_order(floor, settings, "2103", "EUR", "12.34")
    prepaid = cod_order(floor, settings, "2104", "EUR", "20.00", cod_too=False)
    paid = cod_order(floor, settings, "2105", "EUR", "5.00")
    twice = cod_order(floor, settings, "2106", "JPY", "500")
    shipped(floor, settings, short, over, other, prepaid, paid, twice)
    for number, _ in (short, over, other, prepaid, paid, twice):
        deliver(floor, number)
    waiting = cod_order(floor, settings, "2107", "JPY", "900")  # packed, never handed over
    voided = cod_order(floor, settings, "2108", "JPY", "900")
    void_parcel(floor, Actor("T01"), voided[1][0], "label smudged", clock=clock)
    assert remit(floor, f"{paid[1][0]},5.00,EUR,2026-11-24,R-0\n").counts["settled"] == 1
    report = remit(floor, (
        f"{short[1][0]},1233,JPY,2026-11-25,R-2\n"        # line 2
        f"{over[1][0]},250001,VND,2026-11-25,R-2\n"       # line 3
        f"{other[1][0]},12.34,PLN,2026-11-25,R-2\n"       # line 4
        "EE999999995PL,10.00,EUR,2026-11-25,R-2\n"         # line 5
        f"{prepaid[1][0]},20.00,EUR,2026-11-25,R-2\n"     # line 6
        f"{paid[1][0]},5.00,EUR,2026-11-25,R-2\n"         # line 7
        f"{waiting[1][0]},900,JPY,2026-11-25,R-2\n"       # line 8
        f"{voided[1][0]},900,JPY,2026-11-25,R-2\n"        # line 9
        f"{twice[1][0]},500,JPY,2026-11-25,R-2\n"         # line 10: settles
        f"{twice[1][0]},500,JPY,2026-11-25,R-2\n"         # line 11: the same line again
    ))  # fmt: skip
    assert kept(report) == [
        (2, short[1][0], "short-paid"),
        (3, over[1][0], "over-paid"),
        (4, other[1][0], "other currency"),
        (5, "EE999999995PL", "unknown tracking number"),
        (6, prepaid[1][0], "no cash on delivery"),
        (7, paid[1][0], "duplicate"),
        (8, waiting[1][0], "not delivered yet"),
        (9, voided[1][0], "voided parcel"),
        (11, twice[1][0], "duplicate"),
    ]
    assert (report.counts["settled"], report.failed) == (1, 9)
    reasons = {p.record: p.reason for p in report.problems}
    assert reasons[2].endswith(f"paid 1233 JPY, order {short[0]} owes 1234 JPY: 1 JPY short")
    assert reasons[3].endswith("owes 250000 VND: 1 VND over")
    assert "settled already, by reference R-0" in reasons[7]
    assert "as line 10 of this file" in reasons[11]
    other_courier = remit(floor, f"{short[1][0]},1234,JPY,2026-11-25,S-1\n", courier="swift")
    assert kept(other_courier) == [(2, short[1][0], "another courier's parcel")]
    problems = cod.cod_problems(floor)
    assert [(p.line_no, p.problem) for p in problems] == [
        (2, CodProblem.SHORT_PAID), (3, CodProblem.OVER_PAID), (4, CodProblem.CURRENCY),
        (5, CodProblem.UNKNOWN), (6, CodProblem.NOT_COD), (7, CodProblem.DUPLICATE),
        (8, CodProblem.NOT_DELIVERED), (9, CodProblem.VOIDED), (11, CodProblem.DUPLICATE),
        (2, CodProblem.OTHER_COURIER),
    ]  # fmt: skip
    assert [p.courier for p in cod.cod_problems(floor, courier="SWIFT")] == ["SWIFT"]
    # Kept lines settle nothing: the short-, over- and wrongly-paid orders are still owed.
    owed = cod.open_cod(floor)
    assert [p.order for p in owed.parcels] == [short[0], over[0], other[0]]
    assert owed.problems == 10
    assert [line.problem for line in cod.order_settlements(floor, short[0])] == [
        CodProblem.SHORT_PAID, CodProblem.OTHER_COURIER]  # fmt: skip


def test_importing_the_same_file_again_changes_nothing(floor, settings) -> None:
    one = cod_order(floor, settings, "2201", "JPY", "1234")
    two = cod_order(floor, settings, "2202", "JPY", "800")
    shipped(floor, settings, one, two)
    deliver(floor, one[0])
    deliver(floor, two[0])
    text = (f"{one[1][0]},1234,JPY,2026-11-25,R-7\n{two[1][0]},700,JPY,2026-11-25,R-7\n"
            f"{two[1][0]},700,JPY,2026-11-25,R-7\n")  # fmt: skip
    first = remit(floor, text)
    assert (first.counts["settled"], first.failed) == (1, 2)
    again = remit(floor, text, name="remit-copy.csv")
    assert (again.counts["settled"], again.failed, again.counts["already_imported"]) == (0, 0, 3)
    assert again.already_kept == 2 and not again.problems
    assert stored(floor) == 3
    assert [p.order for p in cod.open_cod(floor).parcels] == [two[0]]


def test_any_live_parcel_of_the_order_settles_its_cash_once(floor, settings) -> None:
    number, [first, second] = cod_order(floor, settings, "2301", "EUR", "99.90", parcels=2)
    shipped(floor, settings, (number, [first, second]))
    deliver(floor, number)
    assert [p.tracking_no for p in cod.open_cod(floor).parcels] == [first]  # label 1 carries it
    report = remit(floor, f"{second},99.9,EUR,2026-11-25,R-1\n")
    assert report.counts["settled"] == 1 and not cod.open_cod(floor).parcels
    later = remit(floor, f"{first},99.90,EUR,2026-11-26,R-2\n")
    assert kept(later) == [(2, first, "duplicate")]


def test_open_lists_the_oldest_delivery_first_and_by_courier(floor, settings) -> None:
    late = cod_order(floor, settings, "2401", "JPY", "1000")
    early = cod_order(floor, settings, "2402", "JPY", "2000")
    shipped(floor, settings, late, early)
    deliver(floor, late[0], at_minutes=90)
    deliver(floor, early[0], at_minutes=30)
    with floor.transaction() as s:  # a later event on the delivered order moves nothing
        record_event(s, order_id=order_id(floor, early[0]), status=OrderStatus.DELIVERED,
                     actor=FEED, reason="customer phoned", at=NOW + timedelta(hours=5))  # fmt: skip
    owed = cod.open_cod(floor, courier="post")
    assert [(p.order, p.delivered_at) for p in owed.parcels] == [
        (early[0], NOW + timedelta(minutes=30)),
        (late[0], NOW + timedelta(minutes=90)),
    ]
    assert [(t.parcels, t.amount) for t in owed.totals] == [(2, "3000")]
    assert cod.open_cod(floor, courier="SWIFT").parcels == ()
    with pytest.raises(NotFound, match="no courier 'NOPE'"):
        cod.open_cod(floor, courier="NOPE")


def test_a_file_with_a_bad_line_is_refused_whole_and_changes_nothing(floor, settings) -> None:
    number, [tracking] = cod_order(floor, settings, "2501", "EUR", "12.34")
    shipped(floor, settings, (number, [tracking]))
    deliver(floor, number)
    good = f"{tracking},12.34,EUR,2026-11-25,R-1\n"
    for bad, words in (
        ("EE1,12.345,EUR,2026-11-25,R-1\n", "remit.csv:3: amount: '12.345' is not exact in EUR"),
        ("EE1,1.234,56,EUR,2026-11-25,R-1\n", "remit.csv:3: the line has 6 fields"),
        ("EE1,12.34,EUR,25.11.2026,R-1\n", "remit.csv:3: remitted_at: '25.11.2026' is not an ISO"),
        ("EE1,12.34,EUX,2026-11-25,R-1\n", "remit.csv:3: currency: 'EUX' is not a known"),
        ("EE1,12.34,EUR,2026-11-25,\n", "remit.csv:3: reference: missing"),
    ):
        with pytest.raises(RemittanceRefused, match=re.escape(words)):
            remit(floor, good + bad)
    with pytest.raises(RemittanceRefused, match="has no column reference"):
        cod.import_remittances(floor, FEED, b"tracking_no,amount,currency,remitted_at\n",
                               courier="POST", file_name="remit.csv")  # fmt: skip
    assert stored(floor) == 0 and len(cod.open_cod(floor).parcels) == 1


def test_only_a_lead_imports_remittances_and_an_unknown_courier_is_named(floor) -> None:
    with pytest.raises(NotAllowed, match="importing COD remittances needs the lead role"):
        cod.import_remittances(floor, PACKER, HEADER.encode(), courier="POST", file_name="r.csv")
    with pytest.raises(NotFound, match=r"no courier 'DHL' \(known: .*POST"):
        cod.import_remittances(floor, FEED, HEADER.encode(), courier="DHL", file_name="r.csv")


def test_two_couriers_files_imported_at_once_settle_an_order_once(floor, settings) -> None:
    number, [tracking] = cod_order(floor, settings, "2601", "JPY", "1234")
    shipped(floor, settings, (number, [tracking]))
    deliver(floor, number)
    for _ in range(3):  # a race may fall either way; the database keeps one settlement each time
        with floor.transaction() as s:
            s.execute(CodRemittance.__table__.delete())
        reports = _race(*(
            lambda ref=ref: remit(floor, f"{tracking},1234,JPY,2026-11-25,{ref}\n")
            for ref in ("A-1", "B-1")
        ))  # fmt: skip
        assert all(isinstance(r, cod.CodReport) for r in reports), reports
        assert sorted(r.counts["settled"] for r in reports) == [0, 1]  # type: ignore[union-attr]
        assert [kept(r) for r in reports if r.failed] == [[(2, tracking, "duplicate")]]  # type: ignore[union-attr]
        with floor.read() as s:
            settling = s.scalar(
                select(func.count())
                .select_from(CodRemittance)
                .where(CodRemittance.problem.is_(None))
            )
        assert settling == 1


def test_the_courier_delivering_the_cod_parcel_makes_its_cash_owed_before_the_order_is_delivered(
    floor, settings
) -> None:
    from tests.services.tracking.test_events import csv
    from tests.services.tracking.test_events import run as track

    a, [a1, a2] = cod_order(floor, settings, "2901", "EUR", "45.00", parcels=2)
    b, [b1, b2] = cod_order(floor, settings, "2902", "EUR", "12.00", parcels=2)
    shipped(floor, settings, (a, [a1, a2]), (b, [b1, b2]))
    track(floor, settings, csv(f"{a2},delivered,2026-11-23T10:00:00Z,,",
                               f"{b1},delivered,2026-11-23T12:30:00Z,,"))  # fmt: skip
    # a: the parcel with the cash (label 1) is still on its way; b: it was delivered
    [owed] = cod.open_cod(floor).parcels
    assert (owed.order, owed.tracking_no, owed.amount) == (b, b1, "12.00")
    with floor.read() as s:  # neither order is delivered whole
        got = s.execute(select(Order.number, Order.status).where(Order.number.in_([a, b])))
        assert sorted(got) == [(a, "executed"), (b, "executed")]
    report = remit(floor, f"{a1},45.00,EUR,2026-11-25,R-1\n{b2},12.00,EUR,2026-11-25,R-1\n")
    assert kept(report) == [(2, a1, "not delivered yet")]
    assert report.counts["settled"] == 1 and not cod.open_cod(floor).parcels
