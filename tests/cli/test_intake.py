"""Intake from the command line, end to end, on real export files and both databases."""

import json
import re
from pathlib import Path

import pytest

from tests.cli.people import as_demo

FIXTURES = Path(__file__).parents[1] / "fixtures" / "intake"
#: The demo floor's lead, whose PIN the ``picker`` fixture puts in PICKER_PIN.
LEAD = ("--as", "EMP-0001")


@pytest.fixture
def picker(cli, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """``picker(*args)`` → (exit code, stdout, stderr), on a demo floor without orders whose
    catalogue and stock were loaded from the fixture files; ``picker(*LEAD, …)`` acts as its
    lead."""
    run = cli('[terminal]\nid = "LEAD-1"\n')

    assert run("demo", "--orders", "0", "--no-sheet")[0] == 0
    assert as_demo(monkeypatch, tmp_path / "var") == list(LEAD)
    code, out, err = run("product", "import", str(FIXTURES / "products.csv"))
    assert code == 0 and out.startswith("created 8, updated 0"), err
    code, out, _ = run("stock", "import", str(FIXTURES / "stock.csv"))
    assert code == 0 and "changed 12" in out
    return run


def orders(picker, *args: str) -> list[dict]:  # type: ignore[no-untyped-def]
    code, out, _ = picker("order", "list", "--format", "json", *args)
    assert code == 0
    return json.loads(out)["orders"]


def test_the_four_export_formats_import_with_the_right_outcomes(picker) -> None:
    code, out, err = picker("import", str(FIXTURES / "shopify_orders.json"))
    assert code == 0, err
    assert "imported 4, on hold 1, already imported 0, failed 0" in out
    code, out, _ = picker("import", str(FIXTURES / "shopify_orders.jsonl"))
    assert "imported 2, on hold 1" in out
    code, out, _ = picker("import", str(FIXTURES / "woocommerce_orders.json"))
    # 5123 is "completed": fulfilled in the shop already, no work for the floor.
    assert "imported 2, on hold 1, already imported 0, fulfilled in the shop 1, failed 0" in out
    code, out, _ = picker("import", str(FIXTURES / "orders.csv"), "--channel", "wholesale")
    assert "imported 3, on hold 1" in out
    held = {o["shop_order_no"]: o["hold_reasons"] for o in orders(picker, "--status", "on_hold")}
    assert held == {
        "1004": ["not paid (refunded)"],
        "2003": ["not paid (authorized)"],
        "5122": ["unknown SKU: SPOON-SET-6", "not paid (refunded)"],
        "PL-3003": ["not paid (pending)"],
    }
    assigned = orders(picker, "--status", "assigned")
    assert len(assigned) == 11  # the completed WooCommerce order never reached the floor
    by_shop = {o["shop_order_no"]: o for o in assigned}
    assert "5123" not in by_shop
    assert by_shop["1002"]["currency"] == "JPY" and by_shop["1002"]["total"] == "12800"
    assert by_shop["1003"]["cod"] == "1250000"  # VND cash on delivery, whole units
    assert by_shop["1001"]["total"] == "148.29"
    assert by_shop["PL-3004"]["courier"] == "SWIFT"


def test_importing_a_file_twice_changes_nothing(picker) -> None:
    picker("import", str(FIXTURES / "shopify_orders.json"))
    before = orders(picker)
    code, out, _ = picker("import", str(FIXTURES / "shopify_orders.json"))
    assert code == 0 and "imported 0, on hold 0, already imported 5, failed 0" in out
    assert orders(picker) == before


def test_order_show_and_its_stable_json(picker) -> None:
    picker("import", str(FIXTURES / "shopify_orders.json"))
    number = next(o["number"] for o in orders(picker) if o["shop_order_no"] == "1001")
    code, out, _ = picker("order", "show", number, "--format", "json")
    detail = json.loads(out)
    assert code == 0 and detail["number"] == number and detail["status"] == "assigned"
    assert {"ship_address", "order_lines", "events", "hold_reasons", "intake_problems"} <= set(
        detail
    )
    assert [(ln["sku"], ln["quantity"], ln["reserved"]) for ln in detail["order_lines"]] == [
        ("MUG-CER-350", 2, 2),
        ("TEA-EARL-100", 1, 1),
        ("SPOON-SS", 4, 4),
    ]
    assert [e["to"] for e in detail["events"]] == ["unhandled", "assigned"]
    code, out, _ = picker("order", "show", number)
    assert code == 0 and "MUG-CER-350" in out and "events:" in out


def test_money_in_tables_has_the_currencys_own_digits(picker) -> None:
    """Stored to 1/10,000; shown as the currency writes it: 121.70 PLN, 899.00 CZK, 11100 JPY."""
    assert picker("import", str(FIXTURES / "orders.csv"))[0] == 0
    code, table, _ = picker("order", "list")
    assert code == 0
    for shown in ("121.70 PLN", "899.00 CZK", "11100 JPY"):
        assert shown in table
    assert not re.search(r"\.\d{3,} [A-Z]{3}", table) and ".00 JPY" not in table
    number = next(o["number"] for o in orders(picker) if o["shop_order_no"] == "PL-3004")
    code, detail, _ = picker("order", "show", number)
    assert code == 0 and "total 11100 JPY" in detail and ".0000" not in detail


def test_import_names_orders_with_nothing_to_ship_and_show_lists_what_is_not_shipped(
    picker,
) -> None:
    code, out, _ = picker("import", str(FIXTURES / "shopify_refunds_and_gift_cards.json"))
    assert code == 0 and "nothing to ship 2" in out
    number = next(o["number"] for o in orders(picker) if o["shop_order_no"] == "3001")
    code, out, _ = picker("order", "show", number)
    assert code == 0
    assert "customer: Anna Nowak <anna@example.pl> (pl)" in out  # the buyer, not the recipient
    assert "ship to: Piotr Nowak" in out
    assert "not shipped (recorded, not picked):" in out
    assert "GIFT-50" in out and "does not ship (requires_shipping: false)" in out


def test_a_release_that_cannot_work_says_why_and_changes_nothing(picker) -> None:
    picker("import", str(FIXTURES / "shopify_orders.json"))
    number = orders(picker, "--status", "on_hold")[0]["number"]
    code, _, err = picker(*LEAD, "order", "release", number)
    assert code == 1 and err.strip().endswith("stays on hold: not paid (refunded)")
    assert orders(picker, "--status", "on_hold")[0]["number"] == number


def test_stock_arriving_releases_orders_held_for_it(picker) -> None:
    code, out, _ = picker(*LEAD, "stock", "set", "CAFE-PHIN-500", "A-02-05-1", "1")
    assert code == 0 and "40 → 1" in out
    picker("import", str(FIXTURES / "shopify_orders.json"))  # 1003 wants 2 CAFE-PHIN-500
    held = {o["shop_order_no"]: o["hold_reasons"] for o in orders(picker, "--status", "on_hold")}
    assert held["1003"] == ["short: CAFE-PHIN-500"]
    code, out, _ = picker(*LEAD, "stock", "set", "CAFE-PHIN-500", "B-03-01-1", "5")
    assert code == 0 and "orders held for stock: 1 of 1 released" in out
    assert "1003" not in {o["shop_order_no"] for o in orders(picker, "--status", "on_hold")}


def test_bad_files_are_refused_whole_in_one_line(picker, tmp_path) -> None:
    truncated = tmp_path / "cut.json"
    truncated.write_bytes((FIXTURES / "shopify_orders.json").read_bytes()[:700])
    code, _, err = picker("import", str(truncated))
    assert code == 1 and "not valid JSON" in err and "nothing imported" in err
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("sku,name,barcodes,weight_g,fragile\nX-1,Łódź,,1,no\n".encode("cp1250"))
    code, _, err = picker("product", "import", str(latin1))
    assert code == 1 and "UTF-8" in err and "nothing imported" in err
    missing = tmp_path / "missing.csv"
    missing.write_text("order_number,placed_at\n1,2026-11-20T10:00:00Z\n", encoding="utf-8")
    code, _, err = picker("import", str(missing))
    assert code == 1 and "missing" in err.lower()
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert orders(picker) == []


def test_a_file_with_some_bad_records_imports_the_rest_and_exits_1(picker, tmp_path) -> None:
    data = json.loads((FIXTURES / "shopify_orders.json").read_text(encoding="utf-8"))
    data["orders"][1]["line_items"][0]["quantity"] = "two"
    del data["orders"][2]["currency"]
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    code, out, err = picker("import", str(path))
    assert code == 1 and "imported 2, on hold 1, already imported 0, failed 2" in out
    assert "mixed.json:2: line_items[0].quantity:" in err
    assert "mixed.json:3: currency:" in err


def test_a_dry_run_reports_what_would_happen_and_writes_nothing(picker) -> None:
    code, out, _ = picker("import", str(FIXTURES / "woocommerce_orders.json"), "--dry-run")
    assert code == 0 and "Dry run" in out and "imported 2, on hold 1" in out
    assert "fulfilled in the shop 1" in out
    assert orders(picker) == []


def test_cancel_and_assign_by_hand(picker) -> None:
    picker("import", str(FIXTURES / "shopify_orders.json"))
    number = orders(picker, "--status", "assigned")[0]["number"]
    code, out, _ = picker(*LEAD, "order", "assign", number, "--to", "EMP-0003")
    assert code == 0 and orders(picker, "--status", "assigned")[0]["assignee"] == "EMP-0003"
    code, out, _ = picker(*LEAD, "order", "cancel", number, "--reason", "customer called")
    assert code == 0 and "cancelled" in out
    code, _, err = picker(*LEAD, "order", "cancel", number, "--reason", "again")
    assert code == 1 and "cannot go from cancelled to cancelled" in err


def test_a_lead_chooses_what_a_cancelled_orders_customer_is_told(picker) -> None:
    picker("import", str(FIXTURES / "shopify_orders.json"))
    paid = [o["number"] for o in orders(picker, "--status", "assigned")]
    fraud, plain = paid[0], paid[1]
    with pytest.raises(SystemExit) as refused:  # argparse: only the reasons there are
        picker(*LEAD, "order", "cancel", fraud, "--reason", "x", "--customer-reason", "fraud")
    assert refused.value.code == 2
    code, _, err = picker(
        *LEAD,
        "order",
        "cancel",
        fraud,
        "--reason",
        "fraud suspected, customer unreachable",
        "--customer-reason",
        "payment",
    )
    assert code == 0, err
    code, _, err = picker(*LEAD, "order", "cancel", plain, "--reason", "customer asked, ticket 9")
    assert code == 0, err

    def mail_text(number: str) -> str:
        out = picker("notify", "list", "--order", number, "--format", "json")[1]
        [mail] = [m for m in json.loads(out)["messages"] if m["event"] == "cancelled"]
        return picker("notify", "show", str(mail["id"]))[1]

    told = mail_text(fraud)
    assert "because of a problem with its payment. We are sorry." in told
    assert "as you asked" not in told and "fraud" not in told
    told = mail_text(plain)  # no reason chosen: none given, the lead's words not guessed at
    assert re.search(r"we have cancelled your order \S+ of [^.]+\. We are sorry\.", told)
    assert "as you asked" not in told and "ticket" not in told


def test_order_list_csv_keeps_formulas_in_customer_text_as_text(picker, tmp_path) -> None:
    """Spreadsheet formula injection: a customer named =HYPERLINK(…) or +cmd|… must not become
    a live formula when the lead opens the CSV; the JSON keeps the names exactly."""
    import csv
    import io

    evil = ['=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0"]
    path = tmp_path / "formulas.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        for i, row in enumerate(csv.reader((FIXTURES / "orders.csv").open(encoding="utf-8-sig"))):
            if i and row[0] == "PL-3001":
                row[2] = evil[0]
            elif i and row[0] == "PL-3003":
                row[2] = evil[1]
            out.writerow(row)
    assert picker("import", str(path))[0] == 0
    code, out_text, _ = picker("order", "list", "--format", "csv")
    customers = [row["customer"] for row in csv.DictReader(io.StringIO(out_text))]
    assert code == 0 and {"'" + evil[0], "'" + evil[1]} <= set(customers)
    assert not any(c.startswith(("=", "+", "-", "@")) for c in customers)
    exported = json.loads(picker("order", "list", "--format", "json")[1])["orders"]
    assert set(evil) <= {o["customer"] for o in exported}  # stored exactly, made safe on export


def test_control_characters_in_customer_text_never_reach_the_terminal(picker, tmp_path) -> None:
    rows = (FIXTURES / "orders.csv").read_text(encoding="utf-8-sig").splitlines()
    rows[1] = rows[1].replace("Katarzyna Wójcik,kasia", "Kasia \x1b]0;pwned\x07\x9b31m,kasia")
    path = tmp_path / "evil.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert picker("import", str(path))[0] == 0
    for fmt in ("table", "csv", "json"):
        code, out, _ = picker("order", "list", "--format", fmt)
        assert code == 0 and "Kasia" in out
        assert not any(c in out for c in ("\x1b", "\x07", "\x9b")), fmt
    assert (
        json.loads(picker("order", "list", "--format", "json")[1])["orders"][0]["customer"]
        == "Kasia \x1b]0;pwned\x07\x9b31m"
    )  # stored and exported exactly, escaped on the way
