"""Product and stock imports, and stock set — on SQLite and PostgreSQL."""

import csv
import io
import re
import threading
import time

import pytest
from sqlalchemy import func, select, update

from picker.channels.files import FileRefused
from picker.domain.pickpath import BinAddress, walking_order
from picker.domain.roles import NotAllowed
from picker.services import auth
from picker.services.actors import Actor
from picker.services.intake import catalogue
from picker.store.engine import Database
from picker.store.models import Bin, Product, Stock, StockMovement
from tests.conftest import NOW

CLI = Actor(terminal_id="T01")
BINS = re.compile(r"^[A-Z]-\d{2}-\d{2}-\d$")
HEADER = "sku,name,barcodes,weight_g,fragile\n"
EAN_A = "4006381333931"
EAN_B = "5901234123457"
EAN_C = "96385074"  # EAN-8
UPC = "036000291452"  # UPC-A; as EAN-13 it is 0036000291452


def _now():  # type: ignore[no-untyped-def]
    return NOW


def _csv(*lines: str, header: str = HEADER) -> bytes:
    return (header + "".join(line + "\n" for line in lines)).encode()


def _products(db: Database, actor: Actor = CLI, *lines: str) -> catalogue.ImportReport:
    return catalogue.import_products(db, actor, _csv(*lines), file_name="products.csv")


def _catalogue(db: Database) -> dict[str, tuple[str, int, bool, set[str]]]:
    """sku → (name, weight, fragile, barcodes), as stored."""
    with db.read() as s:
        return {
            p.sku: (p.name, p.weight_g, p.fragile, {b.barcode for b in p.barcodes})
            for p in s.scalars(select(Product))
        }


def _stock(db: Database, actor: Actor = CLI, *lines: str) -> catalogue.StockReport:
    data = ("sku,bin,on_hand\n" + "".join(line + "\n" for line in lines)).encode()
    return catalogue.import_stock(
        db, actor, data, file_name="stock.csv", bin_pattern=BINS, clock=lambda: NOW
    )


def _on_hand(db: Database, sku: str, code: str) -> int | None:
    with db.read() as s:
        return s.scalar(
            select(Stock.on_hand)
            .join(Product, Product.id == Stock.product_id)
            .join(Bin, Bin.id == Stock.bin_id)
            .where(Product.sku == sku, Bin.code == code)
        )


def _movements(db: Database) -> list[tuple[str, str, int, str, int | None, str | None]]:
    with db.read() as s:
        rows = s.execute(
            select(
                Product.sku,
                Bin.code,
                StockMovement.delta,
                StockMovement.reason,
                StockMovement.operator_id,
                StockMovement.terminal_id,
            )
            .join(Product, Product.id == StockMovement.product_id)
            .join(Bin, Bin.id == StockMovement.bin_id)
            .order_by(StockMovement.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def _reserve(db: Database, sku: str, code: str, n: int) -> None:
    # No reservation service yet: set reserved directly, as allocation will.
    with db.transaction() as s:
        product_id = s.scalar(select(Product.id).where(Product.sku == sku))
        bin_id = s.scalar(select(Bin.id).where(Bin.code == code))
        s.execute(
            update(Stock)
            .where(Stock.product_id == product_id, Stock.bin_id == bin_id)
            .values(reserved=n)
        )


@pytest.fixture
def lead(db: Database) -> Actor:
    op = auth.add_operator(db, CLI, "EMP-0001", "Lea Lead", "lead", "1111")
    return Actor("T09", op)


@pytest.fixture
def picker(db: Database) -> Actor:
    op = auth.add_operator(db, CLI, "EMP-0002", "Pat Picker", "picker,packer", "2222")
    return Actor("T02", op)


# --- products --------------------------------------------------------------------------------


def test_products_are_created_then_updated_with_the_barcode_set_replaced(db) -> None:
    report = _products(
        db,
        CLI,
        f"SKU-1,Mug,{EAN_A}|{EAN_B},350,yes",
        f"SKU-2,Plate,{EAN_C},500,",
    )
    assert report.counts == {"created": 2}
    assert report.problems == []
    assert _catalogue(db) == {
        "SKU-1": ("Mug", 350, True, {EAN_A, EAN_B}),
        "SKU-2": ("Plate", 500, False, {EAN_C}),
    }

    report = _products(db, CLI, f"SKU-1,Mug (blue),{EAN_B}|{UPC},360,false", "SKU-3,Bowl,,0,0")
    assert report.counts == {"updated": 1, "created": 1}
    assert _catalogue(db)["SKU-1"] == ("Mug (blue)", 360, False, {EAN_B, UPC})
    assert _catalogue(db)["SKU-3"] == ("Bowl", 0, False, set())
    # The barcode dropped from SKU-1 is free for another product now.
    assert _products(db, CLI, f"SKU-2,Plate,{EAN_C}|{EAN_A},500,no").counts == {"updated": 1}


def test_reimporting_the_same_file_leaves_every_product_unchanged(db) -> None:
    lines = (f"SKU-1,Mug,{EAN_A}|{EAN_B},350,true", f"SKU-2,Plate,{EAN_C},500,false")
    _products(db, CLI, *lines)
    # Same values spelt differently (order of barcodes, YES for true, spaces) are no change.
    again = _products(db, CLI, f" SKU-1 , Mug ,{EAN_B} | {EAN_A},350,YES", lines[1])
    assert again.counts == {"unchanged": 2}
    assert again.problems == []


def test_a_wrong_check_digit_is_named_and_the_row_skipped(db) -> None:
    report = _products(
        db,
        CLI,
        "SKU-1,Mug,4006381333932,350,",
        "SKU-2,Plate,12345|ABCDEFGH,500,",
        f"SKU-3,Bowl,{EAN_A},200,",
    )
    assert report.counts == {"failed": 2, "created": 1}
    assert [str(p) for p in report.problems] == [
        "products.csv:2: barcodes: 4006381333932: check digit wrong: scan again or check the file",
        "products.csv:3: barcodes: 12345: not a barcode (8, 12, 13 or 14 digits); "
        "ABCDEFGH: not a barcode (8, 12, 13 or 14 digits)",
    ]
    assert set(_catalogue(db)) == {"SKU-3"}


def test_a_barcode_clash_names_both_skus_and_changes_nothing_for_that_row(db) -> None:
    _products(db, CLI, f"SKU-00001,Mug,{EAN_A},350,", f"SKU-00002,Plate,{EAN_B},500,")
    report = _products(
        db,
        CLI,
        f"SKU-00002,Plate (new name),{EAN_B}|{EAN_A},510,yes",
        f"SKU-00003,Bowl,{EAN_A},200,",
        f"SKU-00004,Cup,{EAN_C},100,",
    )
    assert report.counts == {"failed": 2, "created": 1}
    assert [(p.record, p.field, p.reason) for p in report.problems] == [
        (2, "barcodes", f"{EAN_A} already belongs to SKU-00001"),
        (3, "barcodes", f"{EAN_A} already belongs to SKU-00001"),
    ]
    assert str(report.problems[0]).startswith("products.csv:2: barcodes: ")
    catalogue_now = _catalogue(db)
    assert catalogue_now["SKU-00002"] == ("Plate", 500, False, {EAN_B})
    assert "SKU-00003" not in catalogue_now
    assert catalogue_now["SKU-00001"] == ("Mug", 350, False, {EAN_A})


def test_a_upc_and_its_ean13_spelling_are_one_barcode(db) -> None:
    _products(db, CLI, f"SKU-1,Mug,{UPC},350,")
    report = _products(db, CLI, f"SKU-2,Plate,0{UPC},500,", f"SKU-3,Bowl,{UPC}|0{UPC},1,")
    assert [p.reason for p in report.problems] == [
        f"0{UPC} already belongs to SKU-1 (as {UPC})",
        f"0{UPC} and {UPC} are the same barcode",
    ]
    # The owner may change its own spelling.
    assert _products(db, CLI, f"SKU-1,Mug,0{UPC},350,").counts == {"updated": 1}
    assert _catalogue(db)["SKU-1"][3] == {f"0{UPC}"}


def test_malformed_rows_are_reported_with_line_and_column_while_good_rows_import(db) -> None:
    data = (
        HEADER
        + f"SKU-1,Mug,{EAN_A},350,yes\n"
        + ",No SKU,,1,\n"  # line 3
        + "SKU-2,,,1,\n"  # 4
        + "SKU-3,Heavy,,12.5,\n"  # 5
        + "SKU-4,Negative,,-1,\n"  # 6
        + "SKU-5,Unsure,,1,maybe\n"  # 7
        + "SKU-\x1b[31m,Escape,,1,\n"  # 8
        + "\n"  # 9: blank lines are skipped
        + 'SKU-6,"Two\nlines",,1,\n'  # 10-11: one record over two lines
        + "SKU-7,Comma, unquoted,,1,no\n"  # 12
        + "SKU-8,Short,,1\n"  # 13
        + ",,,x,y\n"  # 14: every problem of a row at once
        + f"SKU-9,Plate,{EAN_B},500,no\n"  # 15
    ).encode()
    report = catalogue.import_products(db, CLI, data, file_name="p.csv")
    assert report.counts == {"created": 3, "failed": 9}
    found = [(p.record, p.field) for p in report.problems]
    assert found == [
        (3, "sku"),
        (4, "name"),
        (5, "weight_g"),
        (6, "weight_g"),
        (7, "fragile"),
        (8, "sku"),
        (12, ""),
        (13, ""),
        (14, "sku"),
        (14, "name"),
        (14, "weight_g"),
        (14, "fragile"),
    ]
    reasons = {(p.record, p.field): p.reason for p in report.problems}
    assert reasons[5, "weight_g"] == "'12.5' is not a whole number of grams from 0 to 1,000,000"
    assert reasons[7, "fragile"] == "'maybe' is not one of true/false, yes/no, 1/0 (or empty)"
    assert reasons[8, "sku"] == "the SKU contains a control or invisible character ('\\x1b')"
    assert reasons[12, ""].startswith("the row has 6 fields and the header 5")
    assert set(_catalogue(db)) == {"SKU-1", "SKU-6", "SKU-9"}
    assert _catalogue(db)["SKU-6"][0] == "Two\nlines"


GOOD_ROW = f"SKU-0,Good row,{EAN_A},1,\n"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            (HEADER + GOOD_ROW).encode() + "SKU-1,Kaffeebecher für 2 €,,1,\n".encode("cp1252"),
            "p.csv is not UTF-8 text (line 3)",
        ),
        (f"sku,name,weight_g\n{GOOD_ROW}".encode(), "p.csv has no column barcodes, fragile"),
        ((HEADER + GOOD_ROW + 'SKU-1,"Mug,,1,\n').encode(), "p.csv: not a readable CSV"),
        (b"", "p.csv is empty"),
    ],
    ids=["not-utf8", "missing-column", "broken-quotes", "empty"],
)
def test_an_unreadable_file_is_refused_whole_and_nothing_is_written(db, data, message) -> None:
    with pytest.raises(FileRefused, match=re.escape(message)) as refused:
        catalogue.import_products(db, CLI, data, file_name="p.csv")
    assert "\n" not in str(refused.value)
    assert _catalogue(db) == {}


def test_sku_and_name_with_sql_and_markup_are_stored_verbatim(db) -> None:
    sku = "X'); DROP TABLE products;--"
    name = '<b>[bold red]Mug[/]</b> "quoted" Łódź 東京 Việt'
    text = io.StringIO()
    csv.writer(text).writerows([HEADER.strip().split(","), [f"  {sku} ", name, "", "1", ""]])
    data = "\ufeff" + text.getvalue()  # a byte-order mark, as spreadsheets write
    report = catalogue.import_products(db, CLI, data.encode(), file_name="p.csv")
    assert report.counts == {"created": 1}
    assert _catalogue(db) == {sku: (name, 1, False, set())}


def test_a_spreadsheet_semicolon_file_is_read(db) -> None:
    data = f"SKU;Name;Barcodes;Weight_g;Fragile\r\nSKU-1;Mug, blue;{EAN_A};350;1\r\n"
    report = catalogue.import_products(db, CLI, data.encode(), file_name="p.csv")
    assert report.counts == {"created": 1}
    assert _catalogue(db) == {"SKU-1": ("Mug, blue", 350, True, {EAN_A})}


def test_progress_is_reported_while_importing(db, monkeypatch) -> None:
    monkeypatch.setattr(catalogue, "PROGRESS_EVERY", 2)
    calls: list[tuple[int, int]] = []
    lines = [f"SKU-{i},Item {i},,1," for i in range(5)]
    catalogue.import_products(
        db, CLI, _csv(*lines), file_name="p.csv", progress=lambda *call: calls.append(call)
    )
    assert calls == [(2, 5), (4, 5), (5, 5)]


def test_a_picker_may_not_import_and_nothing_is_written(db, picker, lead) -> None:
    with pytest.raises(NotAllowed, match="importing products needs the lead role"):
        _products(db, picker, f"SKU-1,Mug,{EAN_A},350,")
    assert _products(db, lead, f"SKU-1,Mug,{EAN_A},350,").counts == {"created": 1}
    with pytest.raises(NotAllowed, match="importing stock needs the lead role"):
        _stock(db, picker, "SKU-1,A-01-01-1,5")
    with pytest.raises(NotAllowed, match="setting stock needs the lead role"):
        catalogue.set_stock(db, picker, "SKU-1", "A-01-01-1", 5, bin_pattern=BINS)
    assert _movements(db) == []
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Bin)) == 0


# --- stock -----------------------------------------------------------------------------------


def test_stock_import_creates_bins_from_their_codes_in_walking_order(db) -> None:
    _products(db, CLI, "SKU-1,Mug,,1,")
    codes = ["B-01-01-1", "A-02-01-1", "A-01-02-1", "A-02-05-2", "A-01-01-1", "A-02-05-1"]
    report = _stock(db, CLI, *(f"SKU-1,{c},1" for c in codes))
    assert report.counts == {"changed": 6}
    assert report.bins_created == codes
    with db.read() as s:
        bins = s.scalars(select(Bin).order_by(Bin.pick_seq)).all()
        got = [(b.code, b.zone, b.aisle, b.bay, b.level) for b in bins]
    walk = walking_order([BinAddress(z, a, b, lv) for _, z, a, b, lv in got])
    assert got == [(a.code, a.zone, a.aisle, a.bay, a.level) for a in walk]
    # Odd aisles are walked up the bays, even aisles back down; then the next zone.
    assert [g[0] for g in got] == [
        "A-01-01-1",
        "A-01-02-1",
        "A-02-05-1",
        "A-02-05-2",
        "A-02-01-1",
        "B-01-01-1",
    ]
    # Seen again, the bin is reused, not created.
    assert _stock(db, CLI, "SKU-1,A-01-01-1,2").bins_created == []


def test_a_bin_code_not_matching_the_pattern_is_refused_and_names_it(db) -> None:
    _products(db, CLI, "SKU-1,Mug,,1,")
    report = _stock(db, CLI, "SKU-1,A-1-1-1,5", "SKU-1,Shelf 4,5", "SKU-1,,5", "SKU-1,A-01-01-1,5")
    assert report.counts == {"failed": 3, "changed": 1}
    assert [(p.record, p.field) for p in report.problems] == [(2, "bin"), (3, "bin"), (4, "bin")]
    assert report.problems[0].reason == (
        r"bin code 'A-1-1-1' does not match the bin pattern ^[A-Z]-\d{2}-\d{2}-\d$"
    )
    with db.read() as s:
        assert s.scalars(select(Bin.code)).all() == ["A-01-01-1"]


def test_each_count_writes_one_movement_so_on_hand_is_the_sum_of_movements(db, lead) -> None:
    _products(db, CLI, "SKU-1,Mug,,1,", "SKU-2,Plate,,1,")
    first = _stock(db, lead, "SKU-1,A-01-01-1,10", "SKU-2,A-01-01-1,0", "SKU-2,A-01-02-1,3")
    assert first.counts == {"changed": 2, "unchanged": 1}
    second = _stock(db, lead, "SKU-1,A-01-01-1,7", "SKU-2,A-01-02-1,3")
    assert second.counts == {"changed": 1, "unchanged": 1}
    change = catalogue.set_stock(db, lead, "SKU-1", "A-01-01-1", 12, bin_pattern=BINS, clock=_now)
    assert change == catalogue.StockChange("SKU-1", "A-01-01-1", 7, 12)
    same = catalogue.set_stock(db, lead, " SKU-1 ", "A-01-01-1", 12, bin_pattern=BINS, clock=_now)
    assert (same.before, same.after) == (12, 12)

    who = (lead.operator_id, "T09")
    assert _movements(db) == [
        ("SKU-1", "A-01-01-1", 10, "count", *who),
        ("SKU-2", "A-01-02-1", 3, "count", *who),
        ("SKU-1", "A-01-01-1", -3, "count", *who),
        ("SKU-1", "A-01-01-1", 5, "count", *who),
    ]
    with db.read() as s:
        assert set(s.scalars(select(StockMovement.at))) == {NOW}
        ledger = dict(
            s.execute(
                select(StockMovement.product_id, func.sum(StockMovement.delta)).group_by(
                    StockMovement.product_id
                )
            ).all()
        )
        on_hand = dict(
            s.execute(
                select(Stock.product_id, func.sum(Stock.on_hand)).group_by(Stock.product_id)
            ).all()
        )
    assert ledger == on_hand
    assert _on_hand(db, "SKU-1", "A-01-01-1") == 12
    # Counting zero where nothing lay writes no row and no movement.
    assert _on_hand(db, "SKU-2", "A-01-01-1") is None


def test_a_count_below_what_is_reserved_is_refused_for_that_row(db) -> None:
    _products(db, CLI, "SKU-1,Mug,,1,", "SKU-2,Plate,,1,")
    _stock(db, CLI, "SKU-1,A-01-01-1,10", "SKU-2,A-01-01-1,10")
    _reserve(db, "SKU-1", "A-01-01-1", 4)
    report = _stock(db, CLI, "SKU-1,A-01-01-1,3", "SKU-2,A-01-01-1,3")
    assert report.counts == {"failed": 1, "changed": 1}
    assert [str(p) for p in report.problems] == [
        "stock.csv:2: on_hand: 4 of SKU-1 in A-01-01-1 are reserved for orders: "
        "the count cannot go below that (counted 3)"
    ]
    assert _on_hand(db, "SKU-1", "A-01-01-1") == 10
    # Down to exactly the reserved amount is a count like any other.
    assert _stock(db, CLI, "SKU-1,A-01-01-1,4").counts == {"changed": 1}


def test_increased_names_the_products_whose_available_stock_went_up(db) -> None:
    _products(db, CLI, "SKU-1,Mug,,1,", "SKU-2,Plate,,1,", "SKU-3,Bowl,,1,", "SKU-4,Cup,,1,")
    _stock(db, CLI, "SKU-2,A-01-01-1,5", "SKU-3,A-01-01-1,5")
    with db.read() as s:
        ids = dict(s.execute(select(Product.sku, Product.id)).all())
    report = _stock(
        db,
        CLI,
        "SKU-1,A-01-01-1,2",  # new stock
        "SKU-2,A-01-01-1,3",  # down
        "SKU-3,A-01-01-1,5",  # same
        "SKU-4,A-01-01-1,0",  # nothing, as before
        "SKU-2,A-02-01-1,1",  # up in another bin
    )
    assert report.increased == {ids["SKU-1"], ids["SKU-2"]}


def test_unknown_sku_and_bad_counts_are_problems_and_the_rest_import(db) -> None:
    _products(db, CLI, "SKU-1,Mug,,1,")
    report = _stock(
        db,
        CLI,
        "SKU-404,A-01-01-1,5",
        "SKU-1,A-01-01-1,-2",
        "SKU-1,A-01-01-1,2.5",
        "SKU-1,A-01-01-1,99999999999",
        "SKU-1,A-01-01-1,",
        ",A-01-01-1,1",
        "SKU-1,A-01-01-1,5",
    )
    assert report.counts == {"failed": 6, "changed": 1}
    assert [(p.record, p.field) for p in report.problems] == [
        (2, "sku"),
        (3, "on_hand"),
        (4, "on_hand"),
        (5, "on_hand"),
        (6, "on_hand"),
        (7, "sku"),
    ]
    assert report.problems[0].reason == "unknown SKU SKU-404: import the product first"
    # The unknown SKU created no bin of its own before being refused.
    assert _movements(db) == [("SKU-1", "A-01-01-1", 5, "count", None, "T01")]


def test_a_stock_file_without_the_on_hand_column_is_refused(db) -> None:
    with pytest.raises(FileRefused, match="has no column on_hand"):
        catalogue.import_stock(
            db, CLI, b"sku,bin,qty\nSKU-1,A-01-01-1,1\n", file_name="s.csv", bin_pattern=BINS
        )


def test_set_stock_refuses_with_a_clear_message_and_changes_nothing(db) -> None:
    _products(db, CLI, "SKU-1,Mug,,1,")
    catalogue.set_stock(db, CLI, "SKU-1", "A-01-01-1", 6, bin_pattern=BINS, clock=lambda: NOW)
    _reserve(db, "SKU-1", "A-01-01-1", 5)
    cases = [
        ("SKU-9", "A-01-01-1", 1, catalogue.UnknownSku, "unknown SKU SKU-9"),
        ("SKU-1", "A-1-1-1", 1, catalogue.BadBin, "does not match the bin pattern"),
        ("SKU-1", "A-01-01-1", -1, catalogue.BadValue, "on_hand must be a whole number"),
        ("SKU-1", "A-01-01-1", 4, catalogue.BelowReserved, "5 of SKU-1 in A-01-01-1 are reserved"),
    ]
    for sku, code, on_hand, error, message in cases:
        with pytest.raises(error, match=message):
            catalogue.set_stock(db, CLI, sku, code, on_hand, bin_pattern=BINS)
    assert _on_hand(db, "SKU-1", "A-01-01-1") == 6
    assert len(_movements(db)) == 1


def test_set_stock_creates_a_new_bin_and_says_so(db) -> None:
    _products(db, CLI, "SKU-1,Mug,,1,")
    change = catalogue.set_stock(db, CLI, "SKU-1", "C-09-03-4", 2, bin_pattern=BINS)
    assert change == catalogue.StockChange("SKU-1", "C-09-03-4", 0, 2, bin_created=True)
    with db.read() as s:
        b = s.scalars(select(Bin)).one()
        assert (b.zone, b.aisle, b.bay, b.level, b.active) == ("C", 9, 3, 4, True)


def test_a_stock_row_created_meanwhile_on_another_terminal_is_counted_not_doubled(
    db, db_url
) -> None:
    # Another terminal inserts the same new bin and stock row and commits while this count is
    # under way: the count must end on that one row (PostgreSQL: a unique-key race retried;
    # SQLite: the count waits for the other writer).
    _products(db, CLI, "SKU-1,Mug,,1,")
    other = Database(db_url)
    outcome: list[object] = []

    def count() -> None:
        try:
            outcome.append(catalogue.set_stock(db, CLI, "SKU-1", "A-01-01-1", 10, bin_pattern=BINS))
        except Exception as exc:  # pragma: no cover - reported by the assert below
            outcome.append(exc)

    try:
        with other.transaction() as s:
            product_id = s.scalar(select(Product.id).where(Product.sku == "SKU-1"))
            b = Bin(code="A-01-01-1", zone="A", aisle=1, bay=1, level=1, pick_seq=1, active=True)
            s.add(b)
            s.flush()
            s.add(Stock(product_id=product_id, bin_id=b.id, on_hand=4, reserved=0))
            s.add(StockMovement(product_id=product_id, bin_id=b.id, delta=4, reason="count"))
            s.flush()
            worker = threading.Thread(target=count)
            worker.start()
            time.sleep(0.5)  # the count is now blocked on our uncommitted rows
        worker.join(10)
    finally:
        other.dispose()
    assert outcome == [catalogue.StockChange("SKU-1", "A-01-01-1", 4, 10)]
    assert [m[2] for m in _movements(db)] == [4, 6]
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Stock)) == 1
        assert s.scalar(select(func.count()).select_from(Bin)) == 1
