"""Replenishment on both databases: bins given levels, moves planned reserve → pick face (below
min, short of demand, capped by free reserve stock, locked bins and busy faces skipped), and a
move done by scans: stock and ledger in one transaction, never below what is reserved, one
terminal at a time."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update

from picker.domain.roles import NotAllowed, Role
from picker.services import replenish
from picker.services.actors import Actor, OperatorInfo
from picker.services.replenish import BinRefused, MoveBusy, MoveRefused
from picker.store.engine import Database
from picker.store.models import Bin, CountTask, Product, Stock, StockMovement
from tests.conftest import NOW
from tests.services.floor.test_picking import _race
from tests.services.intake.test_order_import import order, run, stock

LEAD = Actor("T01")  # the command line on the server
PICKER = Actor("T21", OperatorInfo(2, "EMP-0002", "Picker Two", frozenset({Role.PICKER})))
RECEIVER = Actor("T22", OperatorInfo(3, "EMP-0003", "Three", frozenset({Role.RECEIVER})))
PACKER = Actor("T23", OperatorInfo(4, "EMP-0004", "Packer Four", frozenset({Role.PACKER})))
FACE, FACE_2 = "A-01-01-1", "A-01-02-1"
NEAR, FAR = "C-01-01-4", "C-02-04-4"


def clock():  # type: ignore[no-untyped-def]
    return NOW


@pytest.fixture
def shop(floor: Database) -> Database:
    """The demo floor with no levels anywhere and nothing in reserve: each test says its own."""
    with floor.transaction() as s:
        s.execute(update(Bin).values(min_qty=None, max_qty=None))
        reserve = select(Bin.id).where(Bin.role == "reserve")
        s.execute(
            text("DELETE FROM stock WHERE bin_id IN (SELECT id FROM bins WHERE role = 'reserve')")
        )
        assert s.scalar(select(Stock.id).where(Stock.bin_id.in_(reserve))) is None
    return floor


def levels(db: Database, code: str, low: int, high: int) -> None:
    replenish.set_bin(db, LEAD, code, min_qty=low, max_qty=high)


def on_hand(db: Database, sku: str, code: str) -> tuple[int, int]:
    with db.read() as s:
        row = s.execute(
            select(Stock.on_hand, Stock.reserved)
            .join(Bin, Bin.id == Stock.bin_id)
            .join(Product, Product.id == Stock.product_id)
            .where(Product.sku == sku, Bin.code == code)
        ).first()
    return (row[0], row[1]) if row else (0, 0)


def reserve(db: Database, sku: str, code: str, units: int) -> None:
    """Promise ``units`` of the bin's stock (as an order's reservation would)."""
    with db.transaction() as s:
        pid = s.scalar(select(Product.id).where(Product.sku == sku))
        bid = s.scalar(select(Bin.id).where(Bin.code == code))
        s.execute(
            update(Stock).where(Stock.product_id == pid, Stock.bin_id == bid).values(reserved=units)
        )


def lock(db: Database, code: str, number: str = "CNT-000077") -> None:
    with db.transaction() as s:
        bid = s.scalar(select(Bin.id).where(Bin.code == code))
        s.add(CountTask(number=number, bin_id=bid, status="counting", planned_at=NOW))


def ledger(db: Database, document: str) -> list[tuple[str, int, str]]:
    with db.read() as s:
        return [
            tuple(r)
            for r in s.execute(
                select(Bin.code, StockMovement.delta, StockMovement.reason)
                .join(Bin, Bin.id == StockMovement.bin_id)
                .where(StockMovement.document == document)
                .order_by(StockMovement.id)
            )
        ]


def plan(db: Database, settings) -> replenish.Plan:  # type: ignore[no-untyped-def]
    return replenish.plan_replenishment(db, LEAD, settings=settings, clock=clock)


# --- planning --------------------------------------------------------------------------------


def test_a_face_below_min_is_refilled_to_max_from_the_nearest_reserve_bin(shop, settings) -> None:
    levels(shop, FACE, 10, 50)
    stock(shop, "SKU-00001", A_01_01_1=4, C_01_01_4=100, C_02_04_4=100)
    done = plan(shop, settings)
    [move] = done.moves
    assert (move.sku, move.from_bin, move.to_bin, move.quantity, move.reason) == (
        "SKU-00001", NEAR, FACE, 46, "below_min",
    )  # fmt: skip
    assert move.number == "MOV-000001" and move.status == "planned"
    again = plan(shop, settings)
    assert again.moves == ()
    assert [(k.sku, k.bin, k.why) for k in again.skipped] == [
        ("SKU-00001", FACE, "MOV-000001 is already planned for it")
    ]


def test_a_face_at_or_above_min_with_no_demand_gets_no_move(shop, settings) -> None:
    levels(shop, FACE, 10, 50)
    stock(shop, "SKU-00001", A_01_01_1=10, C_01_01_4=100)
    assert plan(shop, settings) == replenish.Plan((), ())


def test_a_face_short_of_todays_demand_gets_what_the_demand_needs(shop, settings) -> None:
    levels(shop, FACE, 2, 10)
    stock(shop, "SKU-00001", A_01_01_1=12, C_01_01_4=100)
    run(shop, settings, order("7001", ("SKU-00001", 10)))
    assert on_hand(shop, "SKU-00001", FACE) == (12, 10)  # above min and max, 2 free for 10 wanted
    [move] = plan(shop, settings).moves
    assert (move.quantity, move.reason, move.from_bin) == (8, "demand", NEAR)


def test_a_move_is_capped_by_the_free_reserve_stock(shop, settings) -> None:
    levels(shop, FACE, 10, 50)
    stock(shop, "SKU-00001", A_01_01_1=0, C_01_01_4=10, C_02_04_4=30)
    reserve(shop, "SKU-00001", FAR, 5)
    [move] = plan(shop, settings).moves
    # Neither holds the 50 free: the one with the most free gives what it has.
    assert (move.from_bin, move.quantity) == (FAR, 25)


def test_planning_skips_a_face_being_counted_and_never_takes_from_a_locked_reserve_bin(
    shop, settings
) -> None:
    levels(shop, FACE, 10, 50)
    levels(shop, FACE_2, 10, 50)
    stock(shop, "SKU-00001", A_01_01_1=0, C_01_01_4=100)
    stock(shop, "SKU-00002", A_01_02_1=0, C_02_04_4=100)
    lock(shop, FACE, "CNT-000012")
    lock(shop, FAR, "CNT-000013")
    done = plan(shop, settings)
    assert done.moves == ()
    assert {(k.sku, k.bin, k.why) for k in done.skipped} == {
        ("SKU-00001", FACE, "being counted (CNT-000012)"),
        ("SKU-00002", FACE_2, "no free stock in a reserve bin"),
    }


def test_planning_is_for_leads(shop, settings) -> None:
    with pytest.raises(NotAllowed, match="planning replenishment needs the lead role"):
        replenish.plan_replenishment(shop, PICKER, settings=settings, clock=clock)


# --- a move by scans -------------------------------------------------------------------------


def planned(db: Database, settings, **bins: int) -> str:  # type: ignore[no-untyped-def]
    levels(db, FACE, 10, 50)
    stock(db, "SKU-00001", **bins)
    [move] = plan(db, settings).moves
    return move.number


def test_a_move_by_scans_moves_stock_and_ledger_together(shop, settings) -> None:
    number = planned(shop, settings, A_01_01_1=4, C_01_01_4=100)
    view = replenish.start_move(shop, PICKER, NEAR, settings=settings, clock=clock)
    assert (view.number, view.summary.status, view.summary.held_by_terminal) == (
        number, "moving", "T21",
    )  # fmt: skip
    with pytest.raises(
        MoveRefused, match=f"SKU-00002 is another product: {number} moves SKU-00001"
    ):
        replenish.check_item(shop, PICKER, number, "SKU-00002", settings=settings, clock=clock)
    replenish.check_item(shop, PICKER, number, "SKU-00001", settings=settings, clock=clock)
    with pytest.raises(
        MoveRefused, match=f"A-01-02-1 is not this move's pick face: put them in {FACE}"
    ):
        replenish.do_move(shop, PICKER, number, 20, FACE_2, settings=settings, clock=clock)
    part = replenish.do_move(shop, PICKER, number, 20, FACE, settings=settings, clock=clock)
    assert (part.done, part.remaining, part.face_on_hand) == (False, 26, 24)
    assert on_hand(shop, "SKU-00001", NEAR) == (80, 0)
    assert ledger(shop, number) == [(NEAR, -20, "move"), (FACE, 20, "move")]
    [left] = replenish.list_moves(shop)
    assert (left.status, left.moved, left.remaining, left.held_by_terminal) == (
        "planned", 20, 26, None,
    )  # fmt: skip
    # Another operator (a receiver may move too) finishes it, by the MOV number.
    replenish.start_move(shop, RECEIVER, number, settings=settings, clock=clock)
    done = replenish.do_move(shop, RECEIVER, number, 26, FACE, settings=settings, clock=clock)
    assert (done.done, done.remaining, done.face_on_hand) == (True, 0, 50)
    assert on_hand(shop, "SKU-00001", NEAR) == (54, 0)
    assert sum(d for _, d, _ in ledger(shop, number)) == 0
    assert replenish.list_moves(shop) == []
    assert [m.number for m in replenish.list_moves(shop, status="done")] == [number]
    with pytest.raises(MoveRefused, match=f"{number} is done: scan another move"):
        replenish.start_move(shop, PICKER, number, settings=settings, clock=clock)


def test_a_move_never_takes_the_reserve_bin_below_what_is_reserved(shop, settings) -> None:
    number = planned(shop, settings, A_01_01_1=0, C_01_01_4=60)
    reserve(shop, "SKU-00001", NEAR, 55)  # promised to orders after the plan
    replenish.start_move(shop, PICKER, NEAR, settings=settings, clock=clock)
    with pytest.raises(MoveRefused, match=f"{NEAR} has only 5 of SKU-00001 free to move — key 5"):
        replenish.do_move(shop, PICKER, number, 50, FACE, settings=settings, clock=clock)
    assert on_hand(shop, "SKU-00001", NEAR) == (60, 55)
    assert on_hand(shop, "SKU-00001", FACE) == (0, 0)
    assert ledger(shop, number) == []
    done = replenish.do_move(shop, PICKER, number, 5, FACE, settings=settings, clock=clock)
    assert (done.done, on_hand(shop, "SKU-00001", NEAR)) == (False, (55, 55))


def test_two_terminals_racing_for_one_move_only_one_takes_it(shop, settings) -> None:
    number = planned(shop, settings, A_01_01_1=0, C_01_01_4=100)
    other = Actor("T24", OperatorInfo(5, "EMP-0005", "Five", frozenset({Role.PICKER})))
    results = _race(
        lambda: replenish.start_move(shop, PICKER, NEAR, settings=settings, clock=clock),
        lambda: replenish.start_move(shop, other, number, settings=settings, clock=clock),
    )
    won = [r for r in results if isinstance(r, replenish.MoveView)]
    lost = [r for r in results if isinstance(r, MoveBusy)]
    assert len(won) == 1 and len(lost) == 1, results
    winner, loser = (PICKER, other) if results[0] is won[0] else (other, PICKER)
    assert f"{number} is being moved at {winner.terminal_id}" in str(lost[0])
    with pytest.raises(MoveBusy):
        replenish.do_move(shop, loser, number, 50, FACE, settings=settings, clock=clock)
    # Both scan the face at once: the move's stock moves once.
    results = _race(
        lambda: replenish.do_move(shop, winner, number, 50, FACE, settings=settings, clock=clock),
        lambda: replenish.do_move(shop, winner, number, 50, FACE, settings=settings, clock=clock),
    )
    assert sum(isinstance(r, replenish.MoveDone) for r in results) == 1, results
    assert on_hand(shop, "SKU-00001", FACE) == (50, 0)
    assert on_hand(shop, "SKU-00001", NEAR) == (50, 0)


def test_a_move_from_or_into_a_bin_being_counted_is_refused_naming_the_count(
    shop, settings
) -> None:
    number = planned(shop, settings, A_01_01_1=0, C_01_01_4=100)
    lock(shop, NEAR, "CNT-000031")
    with pytest.raises(MoveRefused, match=f"{NEAR} is being counted \\(CNT-000031\\)"):
        replenish.start_move(shop, PICKER, NEAR, settings=settings, clock=clock)
    with shop.transaction() as s:
        s.execute(update(CountTask).values(status="done"))
    replenish.start_move(shop, PICKER, NEAR, settings=settings, clock=clock)
    lock(shop, FACE, "CNT-000032")
    with pytest.raises(MoveRefused, match=f"{FACE} is being counted \\(CNT-000032\\)"):
        replenish.do_move(shop, PICKER, number, 10, FACE, settings=settings, clock=clock)
    assert on_hand(shop, "SKU-00001", NEAR) == (100, 0)


def test_a_terminal_finds_its_move_again_and_a_parked_move_is_free(shop, settings) -> None:
    number = planned(shop, settings, A_01_01_1=0, C_01_01_4=100)
    replenish.start_move(shop, PICKER, NEAR, settings=settings, clock=clock)
    held = replenish.held_here(shop, "T21")
    assert held is not None and held.number == number
    replenish.park_move(shop, PICKER, number, clock=clock)
    assert replenish.held_here(shop, "T21") is None
    with pytest.raises(MoveRefused, match=f"{number} is not taken here: scan its reserve bin"):
        replenish.do_move(shop, PICKER, number, 10, FACE, settings=settings, clock=clock)


def test_nothing_planned_from_a_bin_is_said(shop, settings) -> None:
    with pytest.raises(MoveRefused, match=f"no move is planned from {NEAR}"):
        replenish.start_move(shop, PICKER, NEAR, settings=settings, clock=clock)
    with pytest.raises(NotAllowed):
        replenish.start_move(shop, PACKER, NEAR, settings=settings, clock=clock)


# --- bin set ---------------------------------------------------------------------------------


def test_bin_set_gives_roles_and_levels_and_refuses_what_makes_no_sense(shop) -> None:
    view = replenish.set_bin(shop, LEAD, "a-01-01-1", role="pickface", min_qty=5, max_qty=20)
    assert (view.code, view.role, view.min_qty, view.max_qty) == (FACE, "pick", 5, 20)
    refusals = [
        ({"min_qty": 30, "max_qty": 20}, "--min 30 is above --max 20"),
        ({"min_qty": 5}, "give both --min and --max"),
        ({"min_qty": 0, "max_qty": 0}, "--max 1 or more"),
        ({"role": "reserve"}, "a reserve bin has no levels"),
        ({"role": "quarantine"}, "'quarantine' is not a role bin set gives"),
        ({}, "say what to set"),
    ]
    for kwargs, words in refusals:
        with pytest.raises(BinRefused, match=words):
            replenish.set_bin(shop, LEAD, FACE, **kwargs)
    assert replenish.bin_view(shop, FACE).min_qty == 5  # nothing changed
    view = replenish.set_bin(shop, LEAD, FACE, role="reserve", clear_levels=True)
    assert (view.role, view.min_qty, view.max_qty) == ("reserve", None, None)
    with pytest.raises(BinRefused, match="there is no bin Z-09-09-9"):
        replenish.set_bin(shop, LEAD, "Z-09-09-9", role="pick")
    with shop.transaction() as s:
        s.execute(update(Bin).where(Bin.code == FACE_2).values(role="quarantine"))
    with pytest.raises(BinRefused, match=f"{FACE_2} is the quarantine bin"):
        replenish.set_bin(shop, LEAD, FACE_2, role="pick")
    with pytest.raises(NotAllowed, match="needs the lead role"):
        replenish.set_bin(shop, PICKER, FACE, role="pick")


def test_a_case_scanned_for_a_move_is_said_to_be_a_case_not_unknown(shop, settings) -> None:
    from picker.store.models import ProductPack

    number = planned(shop, settings, A_01_01_1=4, C_01_01_4=100)
    with shop.transaction() as s:
        pid = s.scalar(select(Product.id).where(Product.sku == "SKU-00001"))
        other = s.scalar(select(Product.id).where(Product.sku == "SKU-00002"))
        s.add(ProductPack(product_id=pid, barcode="10012345678902", units=12))
        s.add(ProductPack(product_id=other, barcode="20012345678909", units=6))
    replenish.start_move(shop, PICKER, NEAR, settings=settings, clock=clock)
    with pytest.raises(MoveRefused) as refused:
        replenish.check_item(shop, PICKER, number, "10012345678902", settings=settings,
                             clock=clock)  # fmt: skip
    assert str(refused.value) == (
        "10012345678902 is a case of 12 × SKU-00001: scan one unit's barcode (or SKU-00001), "
        "then key how many units you move"
    )
    with pytest.raises(MoveRefused, match="20012345678909 is a case of another product"):
        replenish.check_item(shop, PICKER, number, "20012345678909", settings=settings,
                             clock=clock)  # fmt: skip


def test_a_move_of_more_than_is_left_or_into_a_face_no_longer_picked_is_refused(
    shop, settings
) -> None:
    number = planned(shop, settings, A_01_01_1=4, C_01_01_4=100)  # 46 to move
    replenish.start_move(shop, PICKER, NEAR, settings=settings, clock=clock)
    with pytest.raises(MoveRefused) as refused:
        replenish.do_move(shop, PICKER, number, 47, FACE, settings=settings, clock=clock)
    assert str(refused.value) == (
        f"{number} has 46 × SKU-00001 left to move: key 46 or fewer, and put the rest back in "
        "the reserve bin"
    )
    replenish.do_move(shop, PICKER, number, 40, FACE, settings=settings, clock=clock)
    replenish.start_move(shop, PICKER, number, settings=settings, clock=clock)
    with pytest.raises(MoveRefused, match=f"{number} has 6 × SKU-00001 left to move"):
        replenish.do_move(shop, PICKER, number, 7, FACE, settings=settings, clock=clock)
    with shop.transaction() as s:  # the lead made the face a reserve bin meanwhile
        s.execute(update(Bin).where(Bin.code == FACE).values(role="reserve"))
    with pytest.raises(MoveRefused) as refused:
        replenish.do_move(shop, PICKER, number, 6, FACE, settings=settings, clock=clock)
    assert str(refused.value) == (
        f"{FACE} is a reserve bin now, no pick face: put the units back in {NEAR} and tell the "
        "shift lead (the move is re-planned)"
    )
    with shop.transaction() as s:
        s.execute(update(Bin).where(Bin.code == FACE).values(role="pick", active=False))
    with pytest.raises(MoveRefused, match=f"{FACE} is not in use any more, no pick face"):
        replenish.do_move(shop, PICKER, number, 6, FACE, settings=settings, clock=clock)
    assert on_hand(shop, "SKU-00001", NEAR) == (60, 0)
    assert on_hand(shop, "SKU-00001", FACE) == (44, 0)


def _while_the_bin_row_is_held(db: Database, code: str, during, then):  # type: ignore[no-untyped-def]
    """Hold ``code``'s row in an open transaction (as a count starting or a put-away does),
    run ``during(session)`` in it, start ``then()`` on another thread, and commit only after
    0.5 s: ``then`` must wait for the commit. Returns (waited, then's result or error)."""
    import threading
    import time

    out: list[object] = []

    def go() -> None:
        try:
            out.append(then())
        except Exception as exc:
            out.append(exc)

    with db.transaction() as s:
        bid = s.scalar(select(Bin.id).where(Bin.code == code).with_for_update())
        during(s, bid)
        worker = threading.Thread(target=go)
        worker.start()
        time.sleep(0.5)
        waited = worker.is_alive()
    worker.join(10)
    return waited, out[0]


def test_a_move_into_a_bin_whose_count_is_starting_waits_for_it_and_is_refused(
    shop, settings
) -> None:
    number = planned(shop, settings, A_01_01_1=0, C_01_01_4=100)
    replenish.start_move(shop, PICKER, NEAR, settings=settings, clock=clock)

    def count_starts(s, bid):  # type: ignore[no-untyped-def]
        s.add(CountTask(number="CNT-000091", bin_id=bid, status="counting", planned_at=NOW))
        s.flush()

    waited, result = _while_the_bin_row_is_held(
        shop, FACE, count_starts,
        lambda: replenish.do_move(shop, PICKER, number, 10, FACE, settings=settings, clock=clock),
    )  # fmt: skip
    assert waited
    assert isinstance(result, MoveRefused) and "CNT-000091" in str(result), result
    assert on_hand(shop, "SKU-00001", FACE) == (0, 0)
    assert on_hand(shop, "SKU-00001", NEAR) == (100, 0)


def test_a_count_starting_while_stock_comes_into_its_bin_waits_and_expects_it(
    shop, settings
) -> None:
    from picker.services import counts
    from tests.services.counts.helpers import counter

    stock(shop, "SKU-00001", A_01_01_1=3)
    with shop.transaction() as s:  # a lead planned the count (its row exists: no insert)
        bid = s.scalar(select(Bin.id).where(Bin.code == FACE))
        s.add(CountTask(number="CNT-000092", bin_id=bid, status="planned", planned_at=NOW))

    def stock_arrives(s, bid):  # type: ignore[no-untyped-def]
        # A new product put into the bin (its stock row new: no row for a count to wait on).
        pid = s.scalar(select(Product.id).where(Product.sku == "SKU-00002"))
        s.execute(text("DELETE FROM stock WHERE product_id = :p AND bin_id = :b"),
                  {"p": pid, "b": bid})  # fmt: skip
        s.add(Stock(product_id=pid, bin_id=bid, on_hand=7, reserved=0))
        s.flush()

    waited, view = _while_the_bin_row_is_held(
        shop, FACE, stock_arrives,
        lambda: counts.start_count(shop, counter(shop), FACE, settings=settings, clock=clock),
    )  # fmt: skip
    assert waited and isinstance(view, counts.CountView), view
    from picker.store.models import CountLine

    with shop.read() as s:
        expected = dict(
            s.execute(
                select(Product.sku, CountLine.expected)
                .join(Product, Product.id == CountLine.product_id)
                .join(CountTask, CountTask.id == CountLine.task_id)
                .where(CountTask.number == view.number)
            ).all()
        )
    assert (expected["SKU-00001"], expected.get("SKU-00002")) == (3, 7)
