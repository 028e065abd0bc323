"""``picker product list|show`` on both databases: barcodes, bins with stock and reserved (pick
faces and the others), open orders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.people import as_demo

FIXTURES = Path(__file__).parents[1] / "fixtures" / "intake"


@pytest.fixture
def picker(cli, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """A demo floor without orders, the fixture catalogue and stock, a reserve bin holding
    mugs, and the fixture orders imported (reserved and assigned)."""
    run = cli('[terminal]\nid = "LEAD-1"\n')
    assert run("demo", "--orders", "0", "--no-sheet")[0] == 0
    lead = as_demo(monkeypatch, tmp_path / "var")
    assert run("product", "import", str(FIXTURES / "products.csv"))[0] == 0
    assert run("stock", "import", str(FIXTURES / "stock.csv"))[0] == 0
    bins = tmp_path / "bins.csv"
    bins.write_text("code,zone,role\nA-09-09-1,A,reserve\n", encoding="utf-8")
    assert run("bin", "import", str(bins))[0] == 0
    assert run(*lead, "stock", "set", "MUG-CER-350", "A-09-09-1", "15")[0] == 0
    assert run("import", str(FIXTURES / "orders.csv"))[0] == 0
    run.lead = lead  # type: ignore[attr-defined]
    return run


def _orders_with(picker, sku: str) -> list[dict]:  # type: ignore[no-untyped-def]
    listed = json.loads(picker("order", "list", "--format", "json")[1])["orders"]
    wanting = []
    for o in listed:
        detail = json.loads(picker("order", "show", o["number"], "--format", "json")[1])
        if any(ln["sku"] == sku for ln in detail["order_lines"]):
            wanting.append((o["number"], o["status"], detail))
    return wanting


def test_product_show_names_barcodes_bins_stock_and_open_orders(picker) -> None:
    wanting = _orders_with(picker, "MUG-CER-350")
    assert len(wanting) >= 2  # the fixture orders ask for mugs
    reserved = sum(
        ln["reserved"] for _, _, d in wanting for ln in d["order_lines"]
        if ln["sku"] == "MUG-CER-350"
    )  # fmt: skip
    assert reserved > 0
    # One of them cancelled: no longer open, its reservation gone.
    cancelled = wanting[0][0]
    assert picker(*picker.lead, "order", "cancel", cancelled, "--reason", "test")[0] == 0
    after = _orders_with(picker, "MUG-CER-350")
    still = [n for n, status, _ in after if status != "cancelled"]
    assert cancelled not in still and still
    left = sum(
        ln["reserved"] for _, _, d in after for ln in d["order_lines"] if ln["sku"] == "MUG-CER-350"
    )
    assert 0 < left < reserved  # the cancelled order's mugs are free again

    code, out, err = picker("product", "show", "MUG-CER-350")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "MUG-CER-350  Kubek ceramiczny 350 ml"
    assert lines[1] == "350 g; fragile"
    assert lines[2] == "barcodes: 5901234120012"
    assert lines[3] == "pick face:"
    assert lines[4] == f"  A-01-01-1      on hand    40  reserved {left:>5}"
    assert lines[5] == "other bins:"
    assert lines[6] == "  A-09-09-1      on hand    15  reserved     0  (reserve)"
    assert lines[7] == f"stock: 55 on hand, {left} reserved, {55 - left} free, in 2 bins"
    assert lines[8] == f"open orders: {len(still)} ({', '.join(sorted(still))})"

    data = json.loads(picker("product", "show", "MUG-CER-350", "--format", "json")[1])
    assert data["open_orders"] == len(still) and data["open_order_numbers"] == sorted(still)
    assert [(b["bin"], b["role"], b["on_hand"], b["reserved"]) for b in data["stock"]] == [
        ("A-01-01-1", "pick", 40, left), ("A-09-09-1", "reserve", 15, 0),
    ]  # fmt: skip


def test_a_product_is_found_by_any_of_its_barcodes_and_a_wrong_code_in_words(picker) -> None:
    for code in ("8936000000028", "08936000000028", "5901234120029", "tea-earl-100"):
        status, out, err = picker("product", "show", code)
        assert status == 0, err
        assert out.splitlines()[0] == "TEA-EARL-100  Herbata Earl Grey 100 g"
        assert "barcodes: 5901234120029, 8936000000028" in out
    status, out, err = picker("product", "show", "NO-SUCH")
    assert (status, out) == (1, "")
    assert err == "picker: no product with the SKU or barcode 'NO-SUCH'\n"


def test_product_list_searches_sku_name_and_barcode(picker) -> None:
    code, out, _ = picker("product", "list")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == [
        "sku", "name", "barcode", "on", "hand", "reserved", "bins", "open", "orders",
    ]  # fmt: skip
    assert lines[-1].endswith(" products") and int(lines[-1].split()[0]) == len(lines) - 2
    code, out, _ = picker("product", "list", "--search", "earl GREY")
    rows = out.splitlines()
    assert code == 0 and rows[-1] == "1 product" and len(rows) == 3
    assert rows[1].split()[:2] == ["TEA-EARL-100", "Herbata"]
    assert "5901234120029 +1" in rows[1]
    code, out, _ = picker("product", "list", "--search", "08936000000042", "--format", "json")
    assert [p["sku"] for p in json.loads(out)["products"]] == ["TEA-MATCHA-40"]
    code, out, _ = picker("product", "list", "--search", "100%_")  # LIKE wildcards are text
    assert code == 0 and out.splitlines()[-1] == "0 products"
