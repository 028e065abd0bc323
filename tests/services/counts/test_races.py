"""Races on one bin between terminals, each thread with a Database of its own (a process of its
own, as on the floor): a put-away against a count starting, and two counts starting at once.
Afterwards stock is what the ledger says, never negative, reserved within on hand (``picker
check`` finds nothing), and the loser was told in words."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from picker.services import counts, inbound
from picker.services.check import check
from picker.store.engine import Database
from picker.store.models import Bin, CountTask, Stock
from tests.services.counts.helpers import bin_stock, clock, counter, ledger, put, second_counter
from tests.services.inbound.helpers import DOCK, notice

BIN = "A-01-01-1"
DOCK_BIN = "R-00-00-0"


def race(url: str, *calls: Callable[[Database], object], delays: tuple[float, ...] = ()) -> list:
    """Each call in a thread of its own with its own Database, released together (after its
    delay, if any); what each returned or raised."""
    results: list[object] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def one(i: int) -> None:
        db = Database(url)
        try:
            barrier.wait()
            if i < len(delays) and delays[i]:
                time.sleep(delays[i])
            results[i] = calls[i](db)
        except Exception as exc:
            results[i] = exc
        finally:
            db.dispose()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def assert_floor_holds(db: Database) -> None:
    """``picker check``'s invariants, and none of this floor's stock negative or over-reserved."""
    broken = [(f.name, f.examples) for f in check(db) if f.broken]
    assert not broken, broken
    with db.read() as s:
        bad = s.scalar(
            select(func.count())
            .select_from(Stock)
            .where((Stock.on_hand < 0) | (Stock.reserved < 0) | (Stock.reserved > Stock.on_hand))
        )
    assert bad == 0


@pytest.mark.parametrize(
    "delays", [(0, 0), (0.02, 0), (0, 0.02)], ids=["together", "count-first", "put-first"]
)
def test_a_put_away_racing_a_count_of_its_bin_lands_before_the_lock_or_is_refused(
    floor, settings, delays
) -> None:
    put(floor, "SKU-00007", A_01_01_1=4)
    notice(floor, "ASN-RACE-1", ("SKU-00007", 6))
    inbound.open_receipt(floor, DOCK, "ASN-RACE-1", settings=settings, clock=clock)
    inbound.receive(floor, DOCK, "ASN-RACE-1", "SKU-00007", units=6, settings=settings,
                    clock=clock)  # fmt: skip
    who = counter(floor)
    put_away, started = race(
        floor.url,
        lambda db: inbound.put_away(db, DOCK, "SKU-00007", BIN, settings=settings, clock=clock),
        lambda db: counts.start_count(db, who, BIN, settings=settings, clock=clock),
        delays=delays,
    )
    assert isinstance(started, counts.CountView), started
    if isinstance(put_away, inbound.PutAwayDone):  # it landed first: the count starts with it
        assert bin_stock(floor, "SKU-00007", BIN) == (10, 0)
        assert bin_stock(floor, "SKU-00007", DOCK_BIN) == (0, 0)
    else:  # the bin was locked first: refused, saying by which count; nothing moved
        assert isinstance(put_away, inbound.PutAwayRefused), put_away
        assert str(put_away) == f"{BIN} is being counted ({started.number}) — put it in another bin"
        assert bin_stock(floor, "SKU-00007", BIN) == (4, 0)
        assert bin_stock(floor, "SKU-00007", DOCK_BIN) == (6, 0)
    there = bin_stock(floor, "SKU-00007", BIN)[0]
    # What the count expects is the stock it locked: counting what lies there finds no difference.
    lead_view = counts.count_view(floor, started.number, blind=False)
    assert [(ln.sku, ln.expected) for ln in lead_view.lines] == [("SKU-00007", there)]
    counts.count_item(floor, who, started.number, "SKU-00007", settings=settings, clock=clock)
    counts.key_count(floor, who, started.number, there, settings=settings, clock=clock)
    result = counts.finish_count(floor, who, started.number, settings=settings, clock=clock)
    assert (result.status, result.adjusted) == ("done", False), result.words
    for code in (BIN, DOCK_BIN):
        assert bin_stock(floor, "SKU-00007", code)[0] == ledger(floor, "SKU-00007", code) >= 0
    assert_floor_holds(floor)


@pytest.mark.parametrize("stocked", [True, False], ids=["bin-with-stock", "empty-bin"])
def test_two_terminals_starting_a_new_count_of_one_bin_only_one_wins(
    floor, settings, stocked
) -> None:
    if stocked:
        put(floor, "SKU-00008", A_01_01_1=5)
    first, second = counter(floor), second_counter(floor)
    results = race(
        floor.url,
        lambda db: counts.start_count(db, first, BIN, settings=settings, clock=clock),
        lambda db: counts.start_count(db, second, BIN, settings=settings, clock=clock),
    )
    won = [r for r in results if isinstance(r, counts.CountView)]
    lost = [r for r in results if not isinstance(r, counts.CountView)]
    assert len(won) == 1 and len(lost) == 1, results
    # The loser is told in words which bin is taken (by whom, when it could see it).
    assert isinstance(lost[0], counts.CountRefused), lost[0]
    assert BIN in str(lost[0]), str(lost[0])
    winner = first if results[0] is won[0] else second
    with floor.read() as s:
        tasks = s.execute(
            select(CountTask.number, CountTask.status, CountTask.held_by_terminal)
            .join(Bin, Bin.id == CountTask.bin_id)
            .where(Bin.code == BIN)
        ).all()
    assert [tuple(t) for t in tasks] == [(won[0].number, "counting", winner.terminal_id)]
    if isinstance(lost[0], counts.CountBusy):
        assert lost[0].terminal == winner.terminal_id and won[0].number in str(lost[0])
    assert_floor_holds(floor)
