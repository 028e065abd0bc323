"""The packing table on the real app, driven by scans (the weight keyed, as a scale would)."""

from __future__ import annotations

from sqlalchemy import func, select

from picker.store.engine import Database
from picker.store.models import Order, OrderLine, Parcel, PrintJob, Tote
from picker.tui.screens.pack import PackScreen
from picker.tui.widgets.big_text import BigText
from picker.tui.widgets.key_bar import KeyBar
from tests.services.floor.test_packing import a_packed_parcel
from tests.tui.conftest import PACKER
from tests.tui.helpers import burst, feedback, scan, settle, text_of


def picked_order(url: str, *, units: int) -> tuple[str, str]:
    """A picked order of the demo floor with exactly ``units`` units: (number, tote)."""
    db = Database(url)
    try:
        with db.read() as s:
            total = (
                select(func.sum(OrderLine.quantity))
                .where(OrderLine.order_id == Order.id)
                .scalar_subquery()
            )
            row = s.execute(
                select(Order.number, Tote.code)
                .join(Tote, Tote.order_id == Order.id)
                .where(Order.status == "picked", total == units)
                .order_by(Order.id)
                .limit(1)
            ).one()
        return row.number, row.code
    finally:
        db.dispose()


def order_state(url: str, number: str) -> tuple[str, list[tuple[int, str, str | None]], int]:
    """(status, parcels as (seq, status, tracking), label jobs) of an order."""
    db = Database(url)
    try:
        with db.read() as s:
            oid = s.scalar(select(Order.id).where(Order.number == number))
            status = s.scalar(select(Order.status).where(Order.id == oid))
            parcels = s.execute(
                select(Parcel.seq, Parcel.status, Parcel.tracking_no)
                .where(Parcel.order_id == oid)
                .order_by(Parcel.seq)
            ).all()
            jobs = s.scalar(
                select(func.count())
                .select_from(PrintJob)
                .where(PrintJob.order_id == oid, PrintJob.kind == "label")
            )
        return status, [tuple(p) for p in parcels], jobs or 0  # type: ignore[misc]
    finally:
        db.dispose()


async def to_table(pilot, tote: str | None = None) -> PackScreen:  # type: ignore[no-untyped-def]
    """Log the packer in, open the packing table and, given a tote, scan it."""
    await scan(pilot, PACKER[0])
    await scan(pilot, PACKER[3])
    await pilot.press("enter")  # home: Enter opens the packing table
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, PackScreen)
    if tote is not None:
        await burst(pilot, tote)
    return screen


def keys_shown(pilot) -> str:  # type: ignore[no-untyped-def]
    """The key bar's lines (spaces collapsed), checked to be whole on screen: every line within
    the width, every line inside the terminal."""
    bar = pilot.app.screen.query_one(KeyBar)
    width, height = pilot.app.size
    text = bar.lines(bar.region.width).plain
    lines = text.split("\n")
    assert bar.region.width == width and all(len(line) <= width for line in lines), lines
    assert bar.region.height == len(lines) and bar.region.bottom == height
    return "\n".join(" ".join(line.split()) for line in lines)


async def verify_units(pilot, screen: PackScreen, units: int) -> None:  # type: ignore[no-untyped-def]
    """Scan ``units`` items of the checklist, each line's first barcode, in line order."""
    for _ in range(units):
        line = next(ln for ln in screen.view.lines if ln.left)  # type: ignore[union-attr]
        await burst(pilot, sorted(line.barcodes)[0] if line.barcodes else line.sku)
        assert feedback(pilot)[0] == "ok", feedback(pilot)


async def weigh(pilot, screen: PackScreen) -> None:  # type: ignore[no-untyped-def]
    """Key the open parcel's weight: its units and its box."""
    view = screen.view
    assert view is not None and view.open_parcel is not None
    grams = sum(ln.weight_g * ln.in_open for ln in view.lines) + view.open_parcel.tare_g
    await pilot.press(*str(grams), "enter")
    await settle(pilot)
    assert feedback(pilot)[0] == "ok", feedback(pilot)


async def test_a_single_parcel_order_from_tote_to_lane(app_factory, floor_url) -> None:
    number, tote = picked_order(floor_url, units=1)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_table(pilot, tote)
        assert screen.view is not None and screen.view.number == number
        assert feedback(pilot) == ("ok", f"{number} open")
        await verify_units(pilot, screen, 1)
        await burst(pilot, "BOX-S")
        await weigh(pilot, screen)
        await burst(pilot, "CMD-OK")  # the address: everything done, it closes by itself
        kind, message = feedback(pilot)
        assert kind == "ok", message
        assert f"{number} packed" in message and "lane LANE-" in message
        lane = message.rsplit("lane ", 1)[1]
        assert screen.query_one("#lane-code", BigText).text == lane
        assert screen.query_one("#lane").display
        assert f"lane {lane}" in text_of(pilot, "#lane-courier")
        assert "Scan a tote" in str(screen.feedback.render())
    status, parcels, jobs = order_state(floor_url, number)
    assert status == "packed" and [p[:2] for p in parcels] == [(1, "closed")] and jobs == 1


async def test_a_two_parcel_order_by_scans(app_factory, floor_url) -> None:
    number, tote = picked_order(floor_url, units=2)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_table(pilot, tote)
        await burst(pilot, "CMD-OK")
        await verify_units(pilot, screen, 1)
        await burst(pilot, "BOX-S")
        await weigh(pilot, screen)
        await burst(pilot, "CMD-NEWPARCEL")
        kind, message = feedback(pilot)
        assert kind == "ok" and "Parcel 1 closed" in message and "Parcel 2 open" in message
        await verify_units(pilot, screen, 1)
        await burst(pilot, "BOX-S")
        await weigh(pilot, screen)  # the last unit, box, weight, address: closes by itself
        assert f"{number} packed" in feedback(pilot)[1]
    status, parcels, jobs = order_state(floor_url, number)
    assert status == "packed" and jobs == 2
    assert [p[:2] for p in parcels] == [(1, "closed"), (2, "closed")]
    assert parcels[0][2] != parcels[1][2]


async def test_a_wrong_item_is_refused_red_with_the_bell_and_changes_nothing(
    app_factory, floor_url
) -> None:
    number, tote = picked_order(floor_url, units=2)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_table(pilot, tote)
        bells = app.bells  # type: ignore[attr-defined]
        await burst(pilot, "4006381333931")
        kind, message = feedback(pilot)
        assert kind == "error" and f"4006381333931 is not in {number}" in message
        assert app.bells == bells + 1  # type: ignore[attr-defined]
        assert screen.view is not None and screen.view.verified == 0
        await burst(pilot, "CMD-CLOSE")
        assert feedback(pilot)[0] == "error" and "still to verify" in feedback(pilot)[1]
    assert order_state(floor_url, number)[:2] == ("packing", [])


async def test_a_packer_logging_in_again_is_back_in_the_same_order(app_factory, floor_url) -> None:
    number, tote = picked_order(floor_url, units=2)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_table(pilot, tote)
        await verify_units(pilot, screen, 1)
    again = app_factory()  # another run of the terminal: a crash, a power cut
    async with again.run_test(size=(80, 24)) as pilot:
        await scan(pilot, PACKER[0])
        await scan(pilot, PACKER[3])
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, PackScreen) and screen.view is not None
        assert screen.view.number == number and screen.view.verified == 1


async def test_the_packer_sends_an_order_to_the_lead_with_a_reason(app_factory, floor_url) -> None:
    number, tote = picked_order(floor_url, units=1)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await to_table(pilot, tote)
        await burst(pilot, "CMD-CANCEL")
        await pilot.press("2", "enter")
        await settle(pilot)
        kind, message = feedback(pilot)
        assert kind == "error" and "on hold for the lead (address wrong or incomplete)" in message
        assert f"Take tote {tote} to the problem shelf" in message
    assert order_state(floor_url, number)[0] == "on_hold"


async def test_leaving_the_table_and_coming_back_keeps_the_order(app_factory, floor_url) -> None:
    number, tote = picked_order(floor_url, units=2)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_table(pilot, tote)
        await verify_units(pilot, screen, 1)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(pilot.app.screen, PackScreen)
        await pilot.press("enter")
        await settle(pilot)
        back = pilot.app.screen
        assert isinstance(back, PackScreen) and back.view is not None
        assert back.view.number == number and back.view.verified == 1
        assert "verified so far is kept" in feedback(pilot)[1]


async def test_box_first_then_items_then_a_keyed_weight_is_never_taken_for_a_count(
    app_factory, floor_url
) -> None:
    _, tote = picked_order(floor_url, units=2)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_table(pilot, tote)
        await burst(pilot, "BOX-M")
        await verify_units(pilot, screen, 1)
        assert screen.entry == "weight"  # the box is there: a keyed number is the weight
        await weigh(pilot, screen)
        assert screen.view is not None and screen.view.verified == 1
        assert screen.view.open_parcel.weight_g  # type: ignore[union-attr]


def picked_with_a_line_of(url: str, units: int) -> tuple[str, str]:
    """(number, tote) of a picked order with a line of at least ``units`` units."""
    db = Database(url)
    try:
        with db.read() as s:
            row = s.execute(
                select(Order.number, Tote.code)
                .join(Tote, Tote.order_id == Order.id)
                .join(OrderLine, OrderLine.order_id == Order.id)
                .where(Order.status == "picked", OrderLine.quantity >= units)
                .order_by(Order.id)
                .limit(1)
            ).one()
        return row.number, row.code
    finally:
        db.dispose()


async def test_a_gs1_count_verifies_that_many_units(app_factory, floor_url) -> None:
    _, tote = picked_with_a_line_of(floor_url, 2)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_table(pilot, tote)
        line = next(ln for ln in screen.view.lines if ln.quantity >= 2)  # type: ignore[union-attr]
        ean = next(c for c in sorted(line.barcodes) if len(c) == 13)
        await burst(pilot, f"]C1010{ean}30{line.quantity + 1}")  # one more than ordered
        assert feedback(pilot)[0] == "error" and "too many" in feedback(pilot)[1]
        await burst(pilot, f"]C1010{ean}30{line.quantity}")
        assert feedback(pilot)[0] == "ok", feedback(pilot)
        now = next(ln for ln in screen.view.lines if ln.line_id == line.line_id)  # type: ignore[union-attr]
        assert now.verified == line.quantity


async def test_after_the_first_unit_the_rest_of_a_line_may_be_keyed(app_factory, floor_url) -> None:
    number, tote = picked_with_a_line_of(floor_url, 2)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_table(pilot, tote)
        line = next(ln for ln in screen.view.lines if ln.quantity >= 2)  # type: ignore[union-attr]
        await burst(pilot, sorted(line.barcodes)[0])
        assert screen.entry == "qty"
        await pilot.press(*str(line.quantity), "enter")  # one too many: refused
        await settle(pilot)
        assert feedback(pilot)[0] == "error" and "too many" in feedback(pilot)[1]
        await pilot.press(*str(line.quantity - 1), "enter")
        await settle(pilot)
        assert feedback(pilot)[0] == "ok", feedback(pilot)
        now = next(ln for ln in screen.view.lines if ln.line_id == line.line_id)  # type: ignore[union-attr]
        assert now.verified == line.quantity and screen.entry != "qty"
    assert order_state(floor_url, number)[0] == "packing"


async def test_a_voided_parcels_label_brings_its_order_back_to_the_table(
    app_factory, floor_url
) -> None:
    from picker.services.actors import Actor
    from picker.services.floor.parcels import void_parcel

    db = Database(floor_url)
    try:
        tracking, number = a_packed_parcel(db)
        void_parcel(db, Actor("T00"), tracking, "label torn")
    finally:
        db.dispose()
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_table(pilot)
        await burst(pilot, "4006381333931")  # a product with no order open: refused, named
        assert feedback(pilot)[0] == "error" and "4006381333931" in feedback(pilot)[1]
        await burst(pilot, tracking)
        assert feedback(pilot)[0] == "ok", feedback(pilot)
        assert screen.view is not None and screen.view.number == number


async def test_every_key_of_the_table_and_ctrl_q_are_shown_on_a_handheld(
    app_factory, floor_url
) -> None:
    _, tote = picked_order(floor_url, units=1)
    app = app_factory()
    async with app.run_test(size=(40, 16)) as pilot:
        assert "^Q Quit" in keys_shown(pilot)  # the login screen
        await scan(pilot, PACKER[0])
        await scan(pilot, PACKER[3])
        assert "^Q Quit" in keys_shown(pilot)  # home
        await to_table(pilot, tote)
        shown = keys_shown(pilot)
        for key in ("F3 Box", "F4 Undo", "F5 Addr OK", "F7 New parcel", "F8 Close",
                    "F9 To lead", "Esc Back", "^Q Quit"):  # fmt: skip
            assert key in shown, shown
        assert len(shown.split("\n")) == 2  # wrapped onto a second line, not cut
    async with app_factory().run_test(size=(80, 24)) as pilot:
        assert "^Q Quit" in keys_shown(pilot)
        assert " ^Q  Quit" in pilot.app.screen.query_one(KeyBar).lines(80).plain  # roomy
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not pilot.app.is_running


def screen_text(pilot) -> list[str]:  # type: ignore[no-untyped-def]
    """The terminal's lines as the packer sees them (what is scrolled away or covered is not
    there)."""
    import io

    from rich.console import Console

    app = pilot.app
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True)
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text().split("\n")[:height]


def on_screen(pilot, *texts: str) -> None:  # type: ignore[no-untyped-def]
    """Each of ``texts`` is on one line of the screen, whole."""
    lines = screen_text(pilot)
    for text in texts:
        assert any(text in line for line in lines), f"{text!r} not on screen:\n" + "\n".join(lines)


def picked_with_most_lines(url: str) -> tuple[str, str]:
    """(number, tote) of the picked order with the most lines."""
    db = Database(url)
    try:
        with db.read() as s:
            lines = (
                select(func.count())
                .where(OrderLine.order_id == Order.id)
                .correlate(Order)
                .scalar_subquery()
            )
            row = s.execute(
                select(Order.number, Tote.code)
                .join(Tote, Tote.order_id == Order.id)
                .where(Order.status == "picked")
                .order_by(lines.desc(), Order.id)
                .limit(1)
            ).one()
        return row.number, row.code
    finally:
        db.dispose()


async def test_on_a_handheld_the_address_stays_in_sight_and_the_checklist_follows_the_scans(
    app_factory, floor_url
) -> None:
    number, tote = picked_with_most_lines(floor_url)
    app = app_factory()
    async with app.run_test(size=(40, 16)) as pilot:
        screen = await to_table(pilot, tote)
        view = screen.view
        assert view is not None and len(view.lines) >= 3, "a checklist longer than the room"
        address = [line[:30] for line in view.ship_to]
        on_screen(pilot, number, *address, "? confirm: F5")
        for _ in range(view.units):
            nxt = next(ln for ln in screen.view.lines if ln.left)  # type: ignore[union-attr]
            mark = "!" if nxt.fragile else ""  # a fragile line is marked
            on_screen(pilot, f"{nxt.verified}/{nxt.quantity} {mark}{nxt.sku}", *address)
            await verify_units(pilot, screen, 1)
        await pilot.press("f3")  # the boxes listed by the barcode on the floor sheet, numbered
        await settle(pilot)
        on_screen(pilot, "1 BOX-ENVM Bubble envelope M 20 g", "3 BOX-M Carton M 250 g")
        await pilot.press("3", "enter")
        await settle(pilot)
        assert feedback(pilot) == ("ok", "Parcel 1: Carton M (250 g)")
        await weigh(pilot, screen)
        on_screen(pilot, *address, "? confirm: F5", "Parcel 1:")
        assert screen.feedback.next_step.startswith("Confirm the address")
    assert order_state(floor_url, number)[0] == "packing"


async def test_f9_names_the_order_and_lists_the_reasons_on_a_handheld(
    app_factory, floor_url
) -> None:
    from picker.tui.screens.pack import REASONS

    number, tote = picked_order(floor_url, units=2)
    app = app_factory()
    async with app.run_test(size=(40, 16)) as pilot:
        screen = await to_table(pilot, tote)
        await pilot.press("f9")
        await settle(pilot)
        on_screen(pilot, f"Send {number} to the lead?")
        on_screen(pilot, *(f"{i} {reason}" for i, reason in enumerate(REASONS, 1)))
        keys = screen_text(pilot)[-2:]
        assert "Esc Back" in " ".join(" ".join(keys).split())  # how to go on packing instead
        await pilot.press("escape")  # not after all: the order as it was, address in sight
        await settle(pilot)
        assert screen.entry is None and order_state(floor_url, number)[0] == "packing"
        on_screen(pilot, screen.view.ship_to[0][:30])  # type: ignore[union-attr]
        await pilot.press("f9")
        await pilot.press("3", "enter")
        await settle(pilot)
        kind, message = feedback(pilot)
        assert kind == "error" and f"{number} is on hold for the lead (item damaged)" in message
    db = Database(floor_url)
    try:
        with db.read() as s:
            reasons = s.scalar(select(Order.hold_reasons).where(Order.number == number))
    finally:
        db.dispose()
    assert order_state(floor_url, number)[0] == "on_hold" and "item damaged" in str(reasons)


async def test_the_lane_is_drawn_big_when_the_order_is_packed(app_factory, floor_url) -> None:
    from picker.tui.widgets.big_text import big_lines

    number, tote = picked_order(floor_url, units=1)
    app = app_factory()
    async with app.run_test(size=(40, 16)) as pilot:
        screen = await to_table(pilot, tote)
        lane, courier = screen.view.lane, screen.view.courier_name  # type: ignore[union-attr]
        await verify_units(pilot, screen, 1)
        await burst(pilot, "BOX-S")
        await weigh(pilot, screen)
        await burst(pilot, "CMD-OK")  # everything done: it closes by itself
        assert f"{number} packed" in feedback(pilot)[1]
        on_screen(pilot, *big_lines(lane), f"{courier} · lane {lane}")
        await burst(pilot, "CMD-UNDO")  # a refusal keeps the lane in sight
        on_screen(pilot, *big_lines(lane))


async def test_on_a_handheld_a_cod_fragile_order_with_a_long_address_keeps_its_checklist(
    app_factory, floor_url
) -> None:
    """COD, fragile items and an address of five lines, two of them wrapping: the address and
    at least the next line to verify are both in sight at 40x16."""
    from decimal import Decimal

    from sqlalchemy import update

    from picker.store.models import Product

    number, tote = picked_with_most_lines(floor_url)
    db = Database(floor_url)
    try:
        with db.transaction() as s:
            order_id = s.scalar(select(Order.id).where(Order.number == number))
            s.execute(
                update(Order)
                .where(Order.id == order_id)
                .values(
                    cod_amount=Decimal("149.90"),
                    ship_name="Maximiliane Oberhauser-Schwarzenberger",
                    ship_street="Hauptstraße des Gewerbeparks Nord 144, Halle 7",
                    ship_street2="Warenannahme, Tor 3 (nur werktags)",
                    ship_region="Niederösterreich",
                )
            )
            s.execute(
                update(Product)
                .where(Product.id.in_(select(OrderLine.product_id).where(
                    OrderLine.order_id == order_id)))
                .values(fragile=True)
            )  # fmt: skip
    finally:
        db.dispose()
    app = app_factory()
    async with app.run_test(size=(40, 16)) as pilot:
        screen = await to_table(pilot, tote)
        view = screen.view
        assert view is not None and view.cod is not None and view.fragile
        nxt = next(ln for ln in view.lines if ln.left)
        on_screen(pilot, number, "COD", "FRAGILE", "? confirm: F5")
        on_screen(pilot, f"{nxt.verified}/{nxt.quantity} !{nxt.sku}")  # ! marks fragile
