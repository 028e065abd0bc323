"""The receiving dock on the real app, by scans alone: a delivery note opens its receipt, units,
cases (GTIN-14) and GS1-128 labels (lot, expiry) are received, a count keyed after a scan, an
over-receipt refused in red with the bell (a lead accepts it with a reason), the receipt closed
with its discrepancies; goods put away to the suggested bin or another, an order held short
released and named; a terminal that died mid-receipt takes it up again at the next login.
Snapshots at 80x24 and on a 40x16 handheld.

The floor is built from scratch: the demo catalogue, bins and couriers with no orders, a case
pack, and two inbound notices imported as ``picker inbound import`` does."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from picker.config import load_settings
from picker.demo.builder import build_demo
from picker.domain.ean import with_check_digit
from picker.services import auth, inbound
from picker.services.actors import Actor
from picker.store.engine import Database
from picker.store.models import Bin, Order, Product, ProductBarcode, ProductPack, Stock
from picker.tui.screens.receiving import ReceivingScreen
from picker.tui.widgets.big_text import BigText
from picker.tui.widgets.feedback import Feedback
from tests.conftest import NOW, REPO
from tests.services.intake.test_order_import import order, run, stock
from tests.tui.conftest import LEAD, RECEIVER
from tests.tui.helpers import burst, feedback, feedback_text, scan, settle, text_of
from tests.tui.test_snapshots import SIZES, steady

#: Not the demo's own notices (they are left as they are): a supplier's ASN, and a purchase
#: order number of bare digits (read as a reference here, never as a count).
ASN = "ASN-T-0042"
PO = "4500123456"
NOTICES = (
    "reference,supplier,expected_at,sku,qty,lot,expiry\n"
    f"{ASN},Acme Mugs,2026-11-22,SKU-00001,30,,\n"
    f"{ASN},Acme Mugs,2026-11-22,SKU-00002,10,L-77,2027-02-28\n"
    f"{ASN},Acme Mugs,2026-11-22,SKU-00003,4,,\n"
    f"{PO},Nordic Tea,2026-11-23,SKU-00004,6,,\n"
    f"{PO},Nordic Tea,2026-11-23,SKU-00005,3,,\n"
)
#: Units in a case of SKU-00001.
CASE = 12


def settings_of_repo():  # type: ignore[no-untyped-def]
    return load_settings(REPO / "config.toml", environ={})


def unit_barcode(db: Database, sku: str) -> str:
    with db.read() as s:
        return s.scalar(
            select(ProductBarcode.barcode).join(Product).where(Product.sku == sku).limit(1)
        )


@pytest.fixture(scope="session")
def receiving_floor(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The demo catalogue without orders, the tests' operators, a case of SKU-00001 and the
    notices of NOTICES imported."""
    path = tmp_path_factory.mktemp("receiving") / "floor.db"
    db = Database(f"sqlite:///{path}")
    build_demo(db, orders=0, seed=1, now=NOW)
    for badge, name, roles, pin in (RECEIVER, LEAD):
        auth.add_operator(db, Actor("T00"), badge, name, roles, pin)
    ean = unit_barcode(db, "SKU-00001")
    case = with_check_digit("1" + ean.zfill(13)[:12])
    with db.transaction() as s:
        pid = s.scalar(select(Product.id).where(Product.sku == "SKU-00001"))
        s.execute(delete(ProductPack).where(ProductPack.product_id == pid))  # the demo's own
        s.add(ProductPack(product_id=pid, barcode=case, units=CASE))
    lead = Actor("T00", auth.login(db, "T00", LEAD[0], LEAD[3]))
    report = inbound.import_notices(db, lead, NOTICES.encode(), "notices.csv")
    assert report.counts["receipts"] == 2 and not report.problems
    made = {"path": path, "case": case, "unit": ean, "gtin2": unit_barcode(db, "SKU-00002")}
    db.dispose()
    return made


@pytest.fixture
def floor_url(receiving_floor, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / "picker.db"
    shutil.copyfile(receiving_floor["path"], path)
    return f"sqlite:///{path}"


def with_db(url: str, fn):  # type: ignore[no-untyped-def]
    db = Database(url)
    try:
        return fn(db)
    finally:
        db.dispose()


def on_hand(url: str, sku: str, bin_code: str) -> int:
    def read(db: Database) -> int:
        with db.read() as s:
            return s.scalar(
                select(Stock.on_hand).join(Bin, Bin.id == Stock.bin_id)
                .join(Product, Product.id == Stock.product_id)
                .where(Product.sku == sku, Bin.code == bin_code)
            ) or 0  # fmt: skip

    return with_db(url, read)


def order_status(url: str, number: str) -> str:
    def read(db: Database) -> str:
        with db.read() as s:
            return s.scalar(select(Order.status).where(Order.number == number))

    return with_db(url, read)


def dock(app) -> str:  # type: ignore[no-untyped-def]
    return app.settings.receiving.dock_bin  # type: ignore[no-any-return]


def received_at_another_dock(url: str, reference: str, *lines: tuple[str, int]) -> None:
    """Goods received into the dock at terminal T09 and the receipt closed (waiting for
    put-away)."""
    settings = settings_of_repo()

    def go(db: Database) -> None:
        rita = Actor("T09", auth.login(db, "T09", RECEIVER[0], RECEIVER[3]))
        kw = {"settings": settings, "clock": lambda: NOW}
        inbound.open_receipt(db, rita, reference, **kw)
        for sku, units in lines:
            inbound.receive(db, rita, reference, sku, units=units, **kw)
        inbound.close_receipt(db, rita, reference, **kw)

    with_db(url, go)


async def to_dock(pilot, who=RECEIVER) -> ReceivingScreen:  # type: ignore[no-untyped-def]
    await scan(pilot, who[0])
    await scan(pilot, who[3])
    if not isinstance(pilot.app.screen, ReceivingScreen):
        await pilot.press("enter")  # home: Enter opens this terminal's station, the dock
        await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReceivingScreen)
    return screen


def bells(pilot) -> int:  # type: ignore[no-untyped-def]
    return pilot.app.bells  # type: ignore[no-any-return]


def gs1(gtin13: str, lot: str, expiry: str) -> str:
    """A GS1-128 label: (01) GTIN, (17) expiry YYMMDD, (10) lot."""
    return "]C101" + gtin13.zfill(14) + "17" + expiry + "10" + lot


async def test_a_receipt_received_by_scans_alone_units_a_case_a_gs1_label_and_a_keyed_count(
    app_factory, receiving_floor, floor_url
) -> None:
    app = app_factory(station="receiving")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_dock(pilot)
        assert "scan a delivery note" in text_of(pilot, "#prompt")
        assert "Scan a delivery note" in feedback_text(pilot)
        assert ASN in text_of(pilot, "#lines") and PO in text_of(pilot, "#lines")
        await burst(pilot, ASN)
        kind, message = feedback(pilot)
        assert kind == "ok" and f"{ASN} open" in message, message
        assert "0/30 SKU-00001" in text_of(pilot, "#lines")
        await burst(pilot, receiving_floor["unit"])
        kind, message = feedback(pilot)
        assert kind == "ok" and message.startswith("+1 SKU-00001") and "(1/30)" in message
        await burst(pilot, receiving_floor["case"])  # the case's GTIN-14: its pack size
        kind, message = feedback(pilot)
        assert kind == "ok" and message.startswith(f"+{CASE} SKU-00001"), message
        assert f"(13/30) case of {CASE}" in message, message
        await burst(pilot, "5")  # keyed after the case: that scan was 5 units, not 12
        kind, message = feedback(pilot)
        assert kind == "ok" and "(6/30)" in message, message
        assert "6/30 SKU-00001" in text_of(pilot, "#lines")
        await burst(pilot, gs1(receiving_floor["gtin2"], "L-77", "270200"))
        kind, message = feedback(pilot)
        assert kind == "ok" and "SKU-00002" in message and "lot L-77" in message, message
        assert "exp 2027-02-28" in message  # day 00: the month's last day
        assert screen.last is not None and screen.last.expiry == date(2027, 2, 28)
        await burst(pilot, "9")  # 9 of this label: the line is nearly full
        assert "9/10 SKU-00002" in text_of(pilot, "#lines")
        await burst(pilot, "SKU-00003")
        await burst(pilot, "4")
        assert "✓ 4/4 SKU-00003" in text_of(pilot, "#lines")
        assert bells(pilot) == 0
        await burst(pilot, "SKU-00003")  # a fifth: over the 0% tolerance
        kind, message = feedback(pilot)
        assert kind == "error" and "SKU-00003" in message and "tolerance" in message, message
        assert bells(pilot) == 1
        assert "lead" in feedback_text(pilot)  # the receiver is told to set it aside
        assert "✓ 4/4 SKU-00003" in text_of(pilot, "#lines")
    assert on_hand(floor_url, "SKU-00001", dock(app)) == 6
    assert on_hand(floor_url, "SKU-00002", dock(app)) == 9
    assert on_hand(floor_url, "SKU-00003", dock(app)) == 4


async def test_close_twice_shows_the_discrepancies_and_undo_takes_the_last_scan_back(
    app_factory, receiving_floor, floor_url
) -> None:
    app = app_factory(station="receiving")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_dock(pilot)
        await burst(pilot, PO)
        await burst(pilot, "SKU-00004")
        await burst(pilot, "SKU-00004")
        await burst(pilot, "CMD-UNDO")
        kind, message = feedback(pilot)
        assert kind == "ok" and message.startswith("Undone"), message
        assert "1/6 SKU-00004" in text_of(pilot, "#lines")
        assert on_hand(floor_url, "SKU-00004", dock(app)) == 1
        await burst(pilot, "SKU-00005")
        await burst(pilot, "3")
        await burst(pilot, "CMD-CLOSE")  # asks first
        kind, message = feedback(pilot)
        assert kind == "info" and f"Close {PO}?" in message and screen.view is not None
        await pilot.press("enter")  # Enter on the empty field: the second asking closes
        await settle(pilot)
        kind, message = feedback(pilot)
        assert kind == "info" and f"{PO} closed with 1 discrepancy" in message, message
        assert bells(pilot) == 0  # a discrepancy is news, not a refusal
        assert screen.view is None and screen.mode == "idle"
        outcome = text_of(pilot, "#outcome")
        assert "short 1/6 SKU-00004" in outcome, outcome
        assert "SKU-00005" not in outcome  # received exactly: not a discrepancy
        assert PO not in text_of(pilot, "#lines")  # closed: no longer expected


async def test_a_lead_accepts_an_over_receipt_with_a_keyed_reason(
    app_factory, receiving_floor, floor_url
) -> None:
    app = app_factory(station="receiving")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_dock(pilot, LEAD)
        await burst(pilot, PO)
        await burst(pilot, "SKU-00005")
        await burst(pilot, "3")
        await burst(pilot, "SKU-00005")
        assert feedback(pilot)[0] == "error" and bells(pilot) == 1
        assert "CMD-ACCEPT (F5)" in feedback_text(pilot)
        await pilot.press("f5")
        await settle(pilot)
        assert screen.entry == "reason"
        screen.query_one("#entry").value = "supplier sent a spare"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot)
        kind, message = feedback(pilot)
        assert kind == "ok" and message.startswith("Accepted: +1 SKU-00005"), message
        assert "4/3 SKU-00005" in text_of(pilot, "#lines")
    assert on_hand(floor_url, "SKU-00005", dock(app)) == 4


async def test_a_receiver_cannot_accept_and_is_told_to_fetch_a_lead(
    app_factory, receiving_floor, floor_url
) -> None:
    app = app_factory(station="receiving")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_dock(pilot)
        await burst(pilot, PO)
        await burst(pilot, "4006381333931")  # not in the catalogue
        kind, message = feedback(pilot)
        assert kind == "error" and "4006381333931" in message, message
        await burst(pilot, "CMD-ACCEPT")
        kind, message = feedback(pilot)
        assert kind == "error" and "needs a lead" in message and screen.entry is None
        assert bells(pilot) == 2


async def test_put_away_to_the_suggested_bin_then_the_rest_to_another_bin(
    app_factory, receiving_floor, floor_url
) -> None:
    received_at_another_dock(floor_url, PO, ("SKU-00004", 6))
    app = app_factory(station="receiving")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_dock(pilot)
        assert "SKU-00004" in text_of(pilot, "#lines")  # waiting in the dock
        await burst(pilot, "CMD-PUTAWAY")
        assert screen.mode == "putaway"
        await burst(pilot, "SKU-00004")
        s = screen.suggestion
        assert s is not None and s.units == 6 and s.bin
        assert screen.query_one("#put-bin", BigText).text == s.bin  # the bin, large
        assert f"Put 6 in BIN {s.bin}" in feedback_text(pilot)
        before = on_hand(floor_url, "SKU-00004", s.bin)
        await burst(pilot, "4")  # fewer than all
        assert f"Put 4 in BIN {s.bin}" in feedback_text(pilot)
        await burst(pilot, s.bin)
        kind, message = feedback(pilot)
        assert kind == "ok" and f"4 SKU-00004 → {s.bin}" in message, message
        assert "2 left in the dock" in message
        assert on_hand(floor_url, "SKU-00004", s.bin) == before + 4
        other = "A-01-01-2" if s.bin != "A-01-01-2" else "A-01-01-3"
        await burst(pilot, "SKU-00004")
        await burst(pilot, other)  # not the suggestion: accepted all the same
        kind, message = feedback(pilot)
        assert kind == "ok" and f"2 SKU-00004 → {other}" in message, message
        await burst(pilot, "SKU-00004")  # nothing left in the dock
        assert feedback(pilot)[0] == "error"
        await burst(pilot, "R-99-99-9")  # no bin of ours: the service says so
        await pilot.press("escape")
        await settle(pilot)
        assert screen.mode == "idle"
    assert on_hand(floor_url, "SKU-00004", dock(app)) == 0
    assert on_hand(floor_url, "SKU-00004", other) >= 2


async def test_put_away_releases_an_order_held_short_and_names_it(
    app_factory, receiving_floor, floor_url
) -> None:
    settings = settings_of_repo()

    def waiting(db: Database) -> str:
        stock(db, "SKU-00005")  # sold out: its next order waits, held short
        run(db, settings, order("2002", ("SKU-00005", 1)))
        with db.read() as s:
            return s.scalar(select(Order.number).where(Order.shop_order_no == "2002"))

    held = with_db(floor_url, waiting)
    assert order_status(floor_url, held) == "on_hold"
    received_at_another_dock(floor_url, PO, ("SKU-00005", 3))
    app = app_factory(station="receiving")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_dock(pilot)
        await pilot.press("f6")
        await settle(pilot)
        await burst(pilot, "SKU-00005")
        assert screen.suggestion is not None and screen.suggestion.bin
        await burst(pilot, screen.suggestion.bin)
        kind, message = feedback(pilot)
        assert kind == "ok" and f"Released {held}" in message, message
        assert "waiting for SKU-00005" in message
    assert order_status(floor_url, held) != "on_hold"


async def test_a_terminal_that_died_mid_receipt_takes_it_up_again_at_the_next_login(
    app_factory, receiving_floor, floor_url
) -> None:
    app = app_factory(station="receiving")
    async with app.run_test(size=(80, 24)) as pilot:
        await to_dock(pilot)
        await burst(pilot, ASN)
        await burst(pilot, "SKU-00003")
        await burst(pilot, "SKU-00003")  # the terminal goes dark
    app = app_factory(station="receiving")
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, RECEIVER[0])
        await scan(pilot, RECEIVER[3])  # no Enter: the login opens the receipt by itself
        screen = pilot.app.screen
        assert isinstance(screen, ReceivingScreen)
        assert screen.view is not None and screen.view.reference == ASN
        assert feedback(pilot)[1] == f"Back to {ASN}: what was received is kept"
        assert "2/4 SKU-00003" in text_of(pilot, "#lines")
        await burst(pilot, "SKU-00003")
        assert "3/4 SKU-00003" in text_of(pilot, "#lines")


async def test_esc_parks_the_receipt_and_a_scan_of_its_note_resumes_it(
    app_factory, receiving_floor, floor_url
) -> None:
    app = app_factory(station="receiving")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_dock(pilot)
        await burst(pilot, ASN)
        await burst(pilot, "SKU-00003")
        await burst(pilot, "CMD-PUTAWAY")  # a receipt open: park or close it first
        assert feedback(pilot)[0] == "error" and screen.mode == "receipt"
        await pilot.press("escape")
        await settle(pilot)
        kind, message = feedback(pilot)
        assert kind == "info" and f"{ASN} parked" in message and screen.view is None
        await burst(pilot, "ASN-9")  # no such notice: the dock does not invent receipts
        kind, message = feedback(pilot)
        assert kind == "error" and "ASN-9" in message and screen.view is None
        await burst(pilot, ASN)
        assert screen.view is not None and "1/4 SKU-00003" in text_of(pilot, "#lines")


async def test_a_lead_accepts_a_case_not_on_the_notice_as_the_whole_case(
    app_factory, receiving_floor, floor_url
) -> None:
    app = app_factory(station="receiving")
    async with app.run_test(size=(80, 24)) as pilot:
        await to_dock(pilot, LEAD)
        await burst(pilot, PO)
        await burst(pilot, receiving_floor["case"])  # a case of SKU-00001: not on the PO
        kind, message = feedback(pilot)
        assert kind == "error" and f"SKU-00001 is not on {PO}" in message, message
        await pilot.press("f5")
        await settle(pilot)
        pilot.app.screen.query_one("#entry").value = "came on the same pallet"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot)
        kind, message = feedback(pilot)
        assert kind == "ok" and message.startswith(f"Accepted: +{CASE} SKU-00001"), message
        assert f"{CASE}/0 SKU-00001" in text_of(pilot, "#lines")
    assert on_hand(floor_url, "SKU-00001", dock(app)) == CASE


async def test_a_gs1_lot_the_notice_does_not_list_is_said_with_the_line_it_went_on(
    app_factory, receiving_floor, floor_url
) -> None:
    app = app_factory(station="receiving")
    async with app.run_test(size=(40, 16)) as pilot:
        await to_dock(pilot)
        await burst(pilot, ASN)
        await burst(pilot, gs1(receiving_floor["gtin2"], "L9", "270200"))
        kind, message = feedback(pilot)
        assert kind == "ok" and message.startswith("+1 SKU-00002"), message
        assert "lot L9 is not on the notice: counted on SKU-00002 line 2" in message, message


@pytest.mark.parametrize(
    ("scans", "words"),
    [
        (("SKU-00003", "4", "SKU-00003"), "SKU-00003: 4/4 in — 1 more is over"),
        (("SKU-00009",), f"SKU-00009 is not on {ASN}"),
        (("4006381333931",), "4006381333931: unknown product"),
    ],
    ids=["over", "not-on-notice", "unknown"],
)
async def test_refusals_at_the_dock_fit_two_rows_of_a_40_column_handheld(
    app_factory, receiving_floor, floor_url, scans, words
) -> None:
    app = app_factory(station="receiving")
    async with app.run_test(size=(40, 16)) as pilot:
        await to_dock(pilot, LEAD)
        await burst(pilot, ASN)
        for text in scans:
            await burst(pilot, text)
        kind, message = feedback(pilot)
        assert kind == "error" and words in message, message
        bar = pilot.app.screen.query_one(Feedback)
        # The scan, the refusal in two rows, the next step: nothing wraps onto a third row.
        assert bar.size.height == 4, (bar.size.height, str(bar.render()))


# --- snapshots ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_snapshot_idle(snap_compare, app_factory, floor_url, size) -> None:
    received_at_another_dock(floor_url, PO, ("SKU-00004", 6), ("SKU-00005", 3))

    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await to_dock(pilot)
        await steady(pilot)

    assert snap_compare(app_factory(station="receiving"), terminal_size=size, run_before=run)


async def _receiving(pilot, receiving_floor) -> None:  # type: ignore[no-untyped-def]
    await to_dock(pilot)
    await burst(pilot, ASN)
    await burst(pilot, receiving_floor["case"])
    await burst(pilot, "SKU-00003")
    await burst(pilot, "4")


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_snapshot_receipt_open(snap_compare, app_factory, receiving_floor, size) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await _receiving(pilot, receiving_floor)
        await burst(pilot, receiving_floor["unit"])
        await steady(pilot)

    assert snap_compare(app_factory(station="receiving"), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_snapshot_refusal(snap_compare, app_factory, receiving_floor, size) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await _receiving(pilot, receiving_floor)
        await burst(pilot, "SKU-00003")  # over the notice
        await steady(pilot)

    assert snap_compare(app_factory(station="receiving"), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "40x16"])
def test_snapshot_put_away_with_suggestion(snap_compare, app_factory, floor_url, size) -> None:
    received_at_another_dock(floor_url, PO, ("SKU-00004", 6))

    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await to_dock(pilot)
        await burst(pilot, "CMD-PUTAWAY")
        await burst(pilot, "SKU-00004")
        await steady(pilot)

    assert snap_compare(app_factory(station="receiving"), terminal_size=size, run_before=run)
