"""Stock counts on the real app, by scans alone: a bin counted blind with no difference, a
recount refused to the first counter and made by another picker, a count below what is reserved
putting the order on hold (named), the count's lock seen from the pick screen, a terminal that
died mid-count taking it up again, F7 from the picker queue. Snapshots at 80x24 and 40x16.

The floor is the demo catalogue and bins with no orders; what each test needs in a bin is set
by hand (``holds``), so nothing depends on the demo's random stock."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from picker.config import Threshold, load_settings
from picker.demo.builder import build_demo
from picker.services import auth, counts
from picker.services.actors import Actor
from picker.services.intake.catalogue import set_stock
from picker.services.orders import lead_actions
from picker.store.engine import Database
from picker.store.models import Bin, CountTask, Order, Product, Stock
from picker.tui.app import PickerApp
from picker.tui.screens.counting import CountingScreen
from picker.tui.screens.home import HomeScreen
from picker.tui.screens.pick import PickScreen
from picker.tui.screens.queue import QueueScreen
from tests.conftest import NOW, REPO
from tests.tui.conftest import LEAD, PICKER, PICKER2
from tests.tui.helpers import burst, feedback, feedback_text, scan, settle, text_of
from tests.tui.test_snapshots import SIZES, steady

BIN = "A-01-01-2"
#: Its name in the demo catalogue.
NAVY_XL = "T-shirt Navy XL"


@pytest.fixture(scope="session")
def count_floor(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("counting") / "floor.db"
    db = Database(f"sqlite:///{path}")
    build_demo(db, orders=0, seed=1, now=NOW)
    for badge, name, roles, pin in (PICKER, PICKER2, LEAD):
        auth.add_operator(db, Actor("T00"), badge, name, roles, pin)
    db.dispose()
    return path


@pytest.fixture
def floor_url(count_floor: Path, tmp_path: Path) -> str:
    path = tmp_path / "picker.db"
    shutil.copyfile(count_floor, path)
    return f"sqlite:///{path}"


def with_db(url: str, fn):  # type: ignore[no-untyped-def]
    db = Database(url)
    try:
        return fn(db)
    finally:
        db.dispose()


def config():  # type: ignore[no-untyped-def]
    return load_settings(REPO / "config.toml", environ={})


def holds(url: str, bin_code: str, *, only: bool = False, **skus: int) -> None:
    """Make ``bin_code`` hold exactly ``skus`` (SKU_00001=3), through the ledger as
    ``picker stock set`` does; ``only``: the SKUs given are taken out of every other bin."""
    pattern = config().scanner.patterns["bin"]

    def run(db: Database) -> None:
        with db.read() as s:
            rows = s.execute(
                select(Product.sku, Bin.code)
                .join(Stock, Stock.product_id == Product.id)
                .join(Bin, Bin.id == Stock.bin_id)
                .where(Stock.on_hand > 0)
            ).all()
        wanted = {sku.replace("_", "-"): qty for sku, qty in skus.items()}
        for sku, code in rows:
            if code == bin_code or (only and sku in wanted):
                set_stock(db, Actor("T00"), sku, code, 0, bin_pattern=pattern)
        for sku, qty in wanted.items():
            set_stock(db, Actor("T00"), sku, bin_code, qty, bin_pattern=pattern)

    with_db(url, run)


def on_hand(url: str, sku: str, bin_code: str) -> int:
    def read(db: Database) -> int:
        with db.read() as s:
            return s.scalar(
                select(Stock.on_hand).join(Bin, Bin.id == Stock.bin_id)
                .join(Product, Product.id == Stock.product_id)
                .where(Product.sku == sku, Bin.code == bin_code)
            ) or 0  # fmt: skip

    return with_db(url, read)


def count_status(url: str, bin_code: str) -> list[str]:
    def read(db: Database) -> list[str]:
        with db.read() as s:
            return list(
                s.scalars(
                    select(CountTask.status).join(Bin, Bin.id == CountTask.bin_id)
                    .where(Bin.code == bin_code).order_by(CountTask.id)
                )
            )  # fmt: skip

    return with_db(url, read)


def ordered(url: str, no: str, *lines: tuple[str, int]) -> str:
    """A paid shop order of ``lines``, imported (its stock reserved); its number."""
    from tests.services.intake.test_order_import import order, run

    def go(db: Database) -> str:
        run(db, config(), order(no, *lines))
        with db.read() as s:
            return s.scalar(select(Order.number).where(Order.shop_order_no == no))

    return with_db(url, go)


def order_status(url: str, number: str) -> tuple[str, list[str]]:
    def read(db: Database) -> tuple[str, list[str]]:
        with db.read() as s:
            row = s.execute(
                select(Order.status, Order.hold_reasons).where(Order.number == number)
            ).one()
            return row.status, list(row.hold_reasons)

    return with_db(url, read)


def login_as(url: str, terminal: str, who: tuple[str, str, str, str]) -> Actor:
    return with_db(url, lambda db: Actor(terminal, auth.login(db, terminal, who[0], who[3])))


def counting_app(app_factory, floor_url: str, **counting: Threshold) -> PickerApp:  # type: ignore[no-untyped-def]
    """A terminal at the counting station (``counting``: [counting] thresholds of its own)."""
    app = app_factory(floor_url, station="counting")
    if counting:
        app.settings = replace(app.settings, counting=replace(app.settings.counting, **counting))
    return app


async def to_counting(pilot, who=PICKER) -> CountingScreen:  # type: ignore[no-untyped-def]
    await scan(pilot, who[0])
    await scan(pilot, who[3])
    await pilot.press("enter")  # home: Enter opens this terminal's station, stock counts
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, CountingScreen)
    assert feedback(pilot)[0] != "error", feedback(pilot)  # opening it says nothing went wrong
    return screen


def bells(pilot) -> int:  # type: ignore[no-untyped-def]
    return pilot.app.bells  # type: ignore[no-any-return]


async def test_a_bin_counted_by_scans_with_no_difference_never_shows_what_was_expected(
    app_factory, floor_url
) -> None:
    holds(floor_url, BIN, SKU_00001=3)
    app = counting_app(app_factory, floor_url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_counting(pilot)
        assert "Scan a bin to count it" in text_of(pilot, "#prompt")
        await burst(pilot, BIN)
        kind, message = feedback(pilot)
        assert kind == "ok" and message.startswith(f"Counting {BIN}"), message
        assert "scan every item, key a number after a scan for many" in feedback_text(pilot)
        assert "Nothing counted yet" in text_of(pilot, "#lines")
        await burst(pilot, "SKU-00001")
        assert feedback(pilot) == ("ok", f"+1 SKU-00001 {NAVY_XL} · counted 1")
        assert app.focused is screen.query_one("#qty")  # a number keyed now: how many in all
        await burst(pilot, "3")  # a short number after a scan is the count, not a product
        assert feedback(pilot) == ("ok", "SKU-00001: 3 counted")
        assert "3 SKU-00001" in text_of(pilot, "#lines")
        everything = str(screen.query_one("#count-body").render()) + feedback_text(pilot)
        assert "expected" not in everything.lower()
        await burst(pilot, "CMD-EMPTY")
        kind, message = feedback(pilot)
        assert kind == "ok" and message == f"{BIN} counted: no difference", message
        assert screen.view is None and "no difference" in text_of(pilot, "#outcome")
    assert count_status(floor_url, BIN) == ["done"]
    assert on_hand(floor_url, "SKU-00001", BIN) == 3
    assert bells(pilot) == 0


async def test_a_recount_is_refused_to_the_first_counter_and_made_by_another_picker(
    app_factory, floor_url
) -> None:
    holds(floor_url, BIN, SKU_00001=3)
    app = counting_app(app_factory, floor_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await to_counting(pilot)
        await burst(pilot, BIN)
        await burst(pilot, "SKU-00001")
        await burst(pilot, "2")
        await burst(pilot, "CMD-CLOSE")
        kind, message = feedback(pilot)
        assert kind == "info" and f"another operator must recount {BIN}" in message, message
        assert "RECOUNT" in text_of(pilot, "#tasks")  # listed for whoever comes next
        await burst(pilot, BIN)
        kind, message = feedback(pilot)
        assert kind == "error" and "must be recounted by someone else" in message, message
        assert PICKER[1] in message and bells(pilot) == 1
    assert on_hand(floor_url, "SKU-00001", BIN) == 3  # nothing changed yet
    app = counting_app(app_factory, floor_url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_counting(pilot, PICKER2)
        await burst(pilot, BIN)
        kind, message = feedback(pilot)
        assert kind == "ok" and "recount" in message, message
        assert "RECOUNT" in text_of(pilot, "#head")
        assert "Nothing counted yet" in text_of(pilot, "#lines")  # blind: not the first count
        await burst(pilot, "SKU-00001")
        await burst(pilot, "SKU-00001")
        assert feedback(pilot)[1].endswith("counted 2")
        await burst(pilot, "CMD-EMPTY")
        kind, message = feedback(pilot)
        assert kind == "ok" and f"{BIN} adjusted: -1 SKU-00001" in message, message
        assert "-1 SKU-00001: 2 on hand now" in text_of(pilot, "#outcome")
        assert screen.view is None and bells(pilot) == 0
    assert on_hand(floor_url, "SKU-00001", BIN) == 2
    assert count_status(floor_url, BIN) == ["done"]


async def test_a_count_below_what_is_reserved_puts_the_order_on_hold_and_names_it(
    app_factory, floor_url
) -> None:
    holds(floor_url, BIN, only=True, SKU_00002=2)
    number = ordered(floor_url, "3001", ("SKU-00002", 2))  # both units reserved from BIN
    app = counting_app(app_factory, floor_url, recount_over=Threshold(units=5))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_counting(pilot)
        await burst(pilot, BIN)
        await burst(pilot, "CMD-EMPTY")  # nothing scanned: asked first
        kind, message = feedback(pilot)
        assert kind == "info" and message == f"Nothing counted in {BIN}", message
        assert f"Is {BIN} empty?" in feedback_text(pilot) and screen.view is not None
        await pilot.press("enter")  # yes, empty
        await settle(pilot)
        kind, message = feedback(pilot)
        assert kind == "ok" and f"{BIN} adjusted: -2 SKU-00002" in message, message
        assert f"held short: {number}" in message
        assert number in text_of(pilot, "#outcome")
    status, reasons = order_status(floor_url, number)
    assert status == "on_hold" and any("SKU-00002" in r for r in reasons), reasons
    assert on_hand(floor_url, "SKU-00002", BIN) == 0


async def test_a_terminal_that_died_mid_count_takes_it_up_again(app_factory, floor_url) -> None:
    holds(floor_url, BIN, SKU_00001=3)
    app = counting_app(app_factory, floor_url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_counting(pilot)
        await burst(pilot, BIN)
        number = screen.view.number
        await burst(pilot, "SKU-00001")  # counted one, then the terminal goes dark
    assert count_status(floor_url, BIN) == ["counting"]
    app = counting_app(app_factory, floor_url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_counting(pilot)
        assert screen.view is not None and screen.view.number == number
        assert feedback(pilot) == ("info", f"Back to {number} at {BIN}: what was counted is kept")
        assert "1 SKU-00001" in text_of(pilot, "#lines")
        await burst(pilot, "3")  # the keyed count still applies to the product scanned last
        assert feedback(pilot) == ("ok", "SKU-00001: 3 counted")


async def test_a_picker_scanning_a_bin_being_counted_is_told_to_go_on(
    app_factory, floor_url
) -> None:
    holds(floor_url, BIN, only=True, SKU_00001=3)
    holds(floor_url, "A-02-01-1", only=True, SKU_00003=4)
    number = ordered(floor_url, "4001", ("SKU-00001", 1), ("SKU-00003", 1))
    with_db(floor_url, lambda db: lead_actions.assign_order(
        db, Actor("T00"), number, PICKER[0], clock=lambda: NOW
    ))  # fmt: skip
    app = app_factory(floor_url)  # a terminal of the picking station
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, PICKER[0])
        await scan(pilot, PICKER[3])
        await pilot.press("enter")
        await settle(pilot)
        await burst(pilot, "T-0990")  # the only order: straight to the pick list
        screen = app.screen
        assert isinstance(screen, PickScreen) and screen.line.bin_code == BIN
        # Meanwhile a second picker starts counting that bin at another terminal.
        other = login_as(floor_url, "T09", PICKER2)
        count = with_db(floor_url, lambda db: counts.start_count(
            db, other, BIN, settings=config(), clock=lambda: NOW
        ))  # fmt: skip
        await burst(pilot, BIN)
        kind, message = feedback(pilot)
        assert kind == "error" and f"{BIN} is being counted ({count.number})" in message, message
        assert "go on to the next line" in message and bells(pilot) == 1
        assert screen.line is not None and screen.line.bin_code == "A-02-01-1"


async def test_a_picker_whose_last_line_is_in_a_counted_bin_is_told_to_wait_or_go_on(
    app_factory, floor_url
) -> None:
    holds(floor_url, BIN, only=True, SKU_00001=3)
    number = ordered(floor_url, "4002", ("SKU-00001", 1))
    with_db(floor_url, lambda db: lead_actions.assign_order(
        db, Actor("T00"), number, PICKER[0], clock=lambda: NOW
    ))  # fmt: skip
    app = app_factory(floor_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, PICKER[0])
        await scan(pilot, PICKER[3])
        await pilot.press("enter")
        await settle(pilot)
        await burst(pilot, "T-0990")
        screen = app.screen
        assert isinstance(screen, PickScreen) and screen.line.bin_code == BIN
        other = login_as(floor_url, "T09", PICKER2)
        count = with_db(floor_url, lambda db: counts.start_count(
            db, other, BIN, settings=config(), clock=lambda: NOW
        ))  # fmt: skip
        await burst(pilot, BIN)
        kind, message = feedback(pilot)
        # No next line to go on to: wait for the count, or another order.
        assert kind == "error" and message == (
            f"{BIN} is being counted ({count.number}) and no other line is left: wait for the "
            "count to close and scan the bin again, or go on with another order (Esc) and "
            "report it to the shift lead"
        ), message
        assert bells(pilot) == 1
        assert screen.line is not None and screen.line.bin_code == BIN  # still to pick


async def test_a_short_numeric_sku_scanned_is_an_item_and_a_number_not_a_product_a_count(
    app_factory, floor_url
) -> None:
    from sqlalchemy import text

    with_db(floor_url, lambda db: _numeric_sku(db, text))
    holds(floor_url, BIN, **{"SKU_00001": 3})
    app = counting_app(app_factory, floor_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await to_counting(pilot)
        await burst(pilot, BIN)
        await burst(pilot, "4711")  # the scanner reads a product whose SKU is 4711
        kind, message = feedback(pilot)
        assert kind == "ok" and message.startswith("+1 4711 "), message
        await burst(pilot, "4711")
        assert feedback(pilot)[1].endswith("counted 2"), feedback(pilot)
        await burst(pilot, "5")  # no product's code: how many in all
        assert feedback(pilot) == ("ok", "4711: 5 counted")
        # The quantity field takes no more digits than the largest count has.
        assert app.screen.query_one("#qty").max_length == len(str(counts.MAX_UNITS))


def _numeric_sku(db: Database, text) -> None:  # type: ignore[no-untyped-def]
    with db.transaction() as s:
        s.execute(text("UPDATE products SET sku = '4711' WHERE sku = 'SKU-00002'"))


async def test_scans_that_are_no_bin_or_item_are_refused_with_the_bell(
    app_factory, floor_url
) -> None:
    holds(floor_url, BIN, SKU_00001=3)
    app = counting_app(app_factory, floor_url)
    async with app.run_test(size=(40, 16)) as pilot:
        await to_counting(pilot)
        await burst(pilot, "SKU-00001")  # an item before any bin
        kind, message = feedback(pilot)
        assert kind == "error" and "is not a bin" in message and bells(pilot) == 1
        await burst(pilot, BIN)
        await burst(pilot, "7")  # a number before any item
        kind, message = feedback(pilot)
        assert kind == "error" and "Scan an item" in message and bells(pilot) == 2
        await burst(pilot, "A-01-01-3")  # another bin while this one is counted
        kind, message = feedback(pilot)
        assert kind == "error" and f"You are counting {BIN}" in message and bells(pilot) == 3
        await burst(pilot, "4006381333931")  # a barcode not in the catalogue
        assert feedback(pilot)[0] == "error" and bells(pilot) == 4


async def test_f7_on_the_picker_queue_opens_counting_and_f6_opens_the_moves(
    app_factory, floor_url
) -> None:
    holds(floor_url, BIN, SKU_00001=3)
    app = app_factory(floor_url)  # a terminal of the picking station
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, PICKER[0])
        await scan(pilot, PICKER[3])
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        await pilot.press("f7")
        await settle(pilot)
        assert isinstance(app.screen, CountingScreen)
        assert feedback(pilot)[0] != "error", feedback(pilot)
        await pilot.press("f6")
        await settle(pilot)
        assert type(app.screen).__name__ == "MovesScreen"
        await pilot.press("escape")  # back from the moves to the counts
        await settle(pilot)
        assert isinstance(app.screen, CountingScreen)
        await burst(pilot, BIN)
        await burst(pilot, "SKU-00001")
        await pilot.press("escape")  # back to the queue: the count stays here, its bin locked
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert "stays open here" in feedback(pilot)[1]
        await pilot.press("f7")
        await settle(pilot)
        assert app.screen.view is not None and app.screen.view.bin == BIN


async def test_home_opens_counting_for_a_receiver_too(app_factory, floor_url) -> None:
    from tests.tui.conftest import RECEIVER

    with_db(floor_url, lambda db: auth.add_operator(db, Actor("T00"), *RECEIVER))
    app = counting_app(app_factory, floor_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, RECEIVER[0])
        await scan(pilot, RECEIVER[3])
        assert isinstance(app.screen, HomeScreen)
        options = app.screen.query_one("#stations").options
        counting = next(o for o in options if o.id == "counting")
        assert not counting.disabled
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CountingScreen)


# --- snapshots ------------------------------------------------------------------------------


def planned(url: str) -> None:
    """Two bins planned for counting by a lead (those holding SKU-00001)."""
    holds(url, BIN, only=True, SKU_00001=3, SKU_00003=4)
    holds(url, "A-02-01-1", SKU_00001=5)
    lead = login_as(url, "T00", LEAD)
    with_db(url, lambda db: counts.plan_counts(db, lead, sku="SKU-00001", clock=lambda: NOW))


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_snapshot_idle(snap_compare, app_factory, floor_url, size) -> None:
    planned(floor_url)

    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await to_counting(pilot)
        await steady(pilot)

    assert snap_compare(counting_app(app_factory, floor_url), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_snapshot_counting(snap_compare, app_factory, floor_url, size) -> None:
    planned(floor_url)

    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await to_counting(pilot)
        await burst(pilot, BIN)
        await burst(pilot, "SKU-00003")
        await burst(pilot, "SKU-00001")
        await burst(pilot, "SKU-00001")
        await steady(pilot)

    assert snap_compare(counting_app(app_factory, floor_url), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_snapshot_result_with_an_order_held(snap_compare, app_factory, floor_url, size) -> None:
    holds(floor_url, BIN, only=True, SKU_00002=2)
    ordered(floor_url, "3001", ("SKU-00002", 2))

    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await to_counting(pilot)
        await burst(pilot, BIN)
        await burst(pilot, "CMD-EMPTY")
        await burst(pilot, "CMD-EMPTY")
        await steady(pilot)

    app = counting_app(app_factory, floor_url, recount_over=Threshold(units=5))
    assert snap_compare(app, terminal_size=size, run_before=run)
