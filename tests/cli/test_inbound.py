"""``picker inbound import|list|show|receive|close`` and ``picker product import``'s
``pack_sizes``, run as a user would, on both databases."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from picker.domain.ean import with_check_digit
from picker.services import auth
from picker.services.actors import Actor
from picker.store.models import Product, ProductPack

CONFIG = '[terminal]\nid = "T05"\n'
LEAD, RECEIVER = ("EMP-0401", "1357"), ("EMP-0402", "2468")
NOTICES = (
    "reference,supplier,expected_at,sku,qty,lot,expiry\n"
    "ASN-5001,Nordic Textiles,2026-11-23,SKU-00011,6,,\n"
    "ASN-5001,Nordic Textiles,2026-11-23,SKU-00012,4,L9,2027-05-31\n"
    "ASN-5002,Acme,2026-11-24,SKU-NOPE,1,,\n"
)


@pytest.fixture
def run(cli, floor, monkeypatch):  # type: ignore[no-untyped-def]
    """``run(*args, who=None)``: picker on the demo catalogue, as a lead or a receiver."""
    auth.add_operator(floor, Actor("T01"), LEAD[0], "Lena Lead", "lead", LEAD[1])
    auth.add_operator(floor, Actor("T01"), RECEIVER[0], "Rafał Rampa", "receiver", RECEIVER[1])
    picker = cli(CONFIG)

    def go(*args: str, who: tuple[str, str] | None = None):  # type: ignore[no-untyped-def]
        if who is None:
            return picker(*args)
        monkeypatch.setenv("PICKER_PIN", who[1])
        return picker("--as", who[0], *args)

    go.db = floor  # type: ignore[attr-defined]
    return go


def test_import_names_bad_lines_imports_the_rest_and_twice_changes_nothing(run, tmp_path) -> None:
    path = tmp_path / "asn.csv"
    path.write_text(NOTICES, encoding="utf-8")
    code, out, err = run("inbound", "import", str(path))
    assert code == 1
    assert "receipts 1 (2 lines), already imported 0, failed 1" in out
    assert "asn.csv:4: sku: unknown SKU SKU-NOPE" in err
    code, out, _ = run("inbound", "import", str(path))
    assert code == 1 and "receipts 0 (0 lines), already imported 1" in out
    code, out, _ = run("inbound", "list", "--format", "json")
    refs = [r["reference"] for r in json.loads(out)["receipts"]]
    assert code == 0 and refs.count("ASN-5001") == 1 and "ASN-5002" not in refs
    code, out, _ = run("inbound", "show", "ASN-5001", "--format", "json")
    data = json.loads(out)
    assert [(ln["sku"], ln["expected"], ln["lot"], ln["expiry"]) for ln in data["lines"]] == [
        ("SKU-00011", 6, None, None), ("SKU-00012", 4, "L9", "2027-05-31")]  # fmt: skip
    code, out, _ = run("inbound", "show", "ASN-5001")
    assert code == 0 and "received 0 of 10 units expected" in out
    code, _, err = run("inbound", "show", "ASN-404")
    assert code == 1 and "no receipt ASN-404" in err


def test_receive_puts_away_and_close_lists_the_discrepancies(run, tmp_path) -> None:
    path = tmp_path / "asn.csv"
    path.write_text(NOTICES, encoding="utf-8")
    run("inbound", "import", str(path))
    code, _, err = run("inbound", "receive", "ASN-5001", "--line", "SKU-00011:6")
    assert code == 2 and "--as BADGE" in err  # a receiver's authority
    code, out, err = run("inbound", "receive", "ASN-5001", "--line", "SKU-00011:7:B-01-01-1",
                         who=RECEIVER)  # fmt: skip
    assert code == 1 and "over the 0% tolerance" in err and "nothing changed" in err
    code, _, err = run("inbound", "receive", "ASN-5001", "--line", "SKU-00011:7:B-01-01-1",
                       "--accept", "one more came", who=RECEIVER)  # fmt: skip
    assert code == 1 and "needs the lead role" in err
    code, out, err = run("inbound", "receive", "ASN-5001", "--line", "SKU-00011:6:B-01-01-1",
                         "--line", "SKU-00012:1", who=RECEIVER)  # fmt: skip
    assert code == 0, err
    assert "ASN-5001: 7 units received and put away" in out and "→ B-01-01-1" in out
    code, out, _ = run("stock", "show", "SKU-00011", "--format", "json")
    assert {b["bin"]: b["on_hand"] for b in json.loads(out)["bins"]}.get("B-01-01-1", 0) >= 6
    code, out, err = run("inbound", "close", "ASN-5001", who=RECEIVER)
    assert code == 0, err
    assert "ASN-5001 closed: received 7 of 10 units expected" in out
    assert "SKU-00012" in out and "short" in out and "SKU-00011" not in out
    code, _, err = run("inbound", "close", "ASN-5001", who=RECEIVER)
    assert code == 1 and "ASN-5001 is closed already" in err


def test_receive_of_an_unknown_reference_creates_it(run) -> None:
    code, out, err = run("inbound", "receive", "PO-42", "--supplier", "Acme", "--line",
                         "SKU-00013:2", "--close", who=LEAD)  # fmt: skip
    assert code == 0, err
    assert "PO-42 (new receipt): 2 units received and put away" in out
    assert "everything as the notice said" in out
    code, out, _ = run("inbound", "list", "--status", "closed")
    assert "PO-42" in out and "Acme" in out


def test_product_import_takes_cases_and_refuses_clashes_by_name(run, tmp_path) -> None:
    case12 = with_check_digit("1" + "590000000001"[:12])
    case48 = with_check_digit("2" + "590000000001"[:12])
    path = tmp_path / "products.csv"
    path.write_text(
        "sku,name,barcodes,weight_g,fragile,pack_sizes\n"
        f"SKU-90001,Mug blue,5900000000015,300,true,12:{case12};48:{case48}\n"
        f"SKU-90002,Mug red,5900000000022,300,true,6:{case12}\n"
        "SKU-90003,Mug green,5900000000039,300,true,1:5900000000046\n"
        "SKU-90004,Mug grey,5900000000053,300,true,6:5900000000053\n",
        encoding="utf-8",
    )
    code, out, err = run("product", "import", str(path))
    assert code == 1
    assert f"{case12} already is a case of SKU-90001" in err
    assert "a case holds 2 units or more" in err
    assert "5900000000053 is this product's unit barcode, not a case" in err
    with run.db.read() as s:
        packs = s.execute(
            select(ProductPack.units, ProductPack.barcode)
            .join(Product, Product.id == ProductPack.product_id)
            .where(Product.sku == "SKU-90001")
            .order_by(ProductPack.units)
        ).all()
    assert [tuple(p) for p in packs] == [(12, case12), (48, case48)]
    path.write_text(
        "sku,name,barcodes,weight_g,fragile,pack_sizes\n"
        "SKU-90001,Mug blue,5900000000015,300,true,\n", encoding="utf-8"
    )  # fmt: skip
    code, out, _ = run("product", "import", str(path))
    assert code == 0 and "unchanged 1" in out  # no cases said: the cases are kept
