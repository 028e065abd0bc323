"""`picker cod import / open / problems` run as a user would, on both databases."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from picker.config import load_settings
from picker.store.engine import Database
from tests.conftest import REPO
from tests.services.test_cod import HEADER, cod_order, deliver, shipped


@pytest.fixture
def cod_floor(cli, tmp_path, db_url):  # type: ignore[no-untyped-def]
    """(run, tracking numbers by order number, a writer of remittance files): a demo floor
    without orders, then three COD orders — JPY, VND and EUR — imported, packed, handed to POST
    and delivered (the JPY one first), and a fourth packed, still in the lane."""
    run = cli(f'[terminal]\nid = "T05"\n[labels]\ndir = "{REPO / "labels"}"\n')
    assert run("demo", "--orders", "0", "--no-sheet")[0] == 0
    settings = load_settings(tmp_path / "config.toml", environ={})
    db = Database(db_url)
    orders = [cod_order(db, settings, no, cur, total) for no, cur, total in (
        ("3001", "JPY", "1234"), ("3002", "VND", "250000"), ("3003", "EUR", "12.34"))]  # fmt: skip
    shipped(db, settings, *orders)
    for minutes, (number, _) in enumerate(orders, start=1):
        deliver(db, number, minutes)
    waiting = cod_order(db, settings, "3004", "EUR", "1.00")
    db.dispose()
    tracking = {number: t[0] for number, t in [*orders, waiting]}

    def remittance(text: str, name: str = "remit.csv") -> str:
        path = Path(tmp_path / name)
        path.write_text(HEADER + text, encoding="utf-8")
        return str(path)

    return run, tracking, remittance


def test_import_settles_reports_kept_lines_by_number_and_exits_1(cod_floor) -> None:
    run, t, remittance = cod_floor
    jpy, vnd, _, waiting = sorted(t)
    path = remittance(
        f"{t[jpy]},1234,JPY,2026-11-25,R-1\n{t[vnd]},249000,VND,2026-11-25,R-1\n"
        f"{t[waiting]},1.00,EUR,2026-11-25,R-1\nXX1,5,EUR,2026-11-25,R-1\n"
    )
    code, out, err = run("cod", "import", path, "--courier", "POST")
    assert code == 1, err
    assert out.splitlines()[-1] == "settled 1, kept for the lead 3, already imported 0"
    assert f"remit.csv:3: {t[vnd]}: short-paid: paid 249000 VND, order {vnd} owes 250000 VND: " \
           "1000 VND short" in err  # fmt: skip
    assert f"remit.csv:4: {t[waiting]}: not delivered yet: order {waiting} is not delivered " \
           "yet (it is packed)" in err  # fmt: skip
    assert "remit.csv:5: XX1: unknown tracking number" in err
    assert "picker cod problems" in err
    code, out, err = run("cod", "import", path, "--courier", "POST")
    assert code == 0, err
    assert out.strip() == (
        "settled 0, kept for the lead 0, already imported 4 (3 of them kept for the lead)"
    )
    code, out, _ = run("cod", "problems", "--format", "json")
    problems = json.loads(out)["problems"]
    assert [(p["line"], p["tracking_no"], p["problem"]) for p in problems] == [
        (3, t[vnd], "short_paid"),
        (4, t[waiting], "not_delivered"),
        (5, "XX1", "unknown"),
    ]
    code, out, _ = run("cod", "problems")
    assert code == 0 and out.splitlines()[-1] == "3 remittance lines kept for the lead"


def test_open_lists_what_is_owed_oldest_first_with_totals_in_each_format(cod_floor) -> None:
    run, t, remittance = cod_floor
    jpy, vnd, eur, _ = sorted(t)
    code, out, err = run("cod", "open")
    assert code == 0, err
    lines = out.splitlines()
    assert [line.split()[2] for line in lines[1:4]] == [jpy, vnd, eur]
    assert lines[4:] == [
        "3 parcels not paid yet",
        "totals:",
        "  POST    EUR            12.34  (1 parcel)",
        "  POST    JPY             1234  (1 parcel)",
        "  POST    VND           250000  (1 parcel)",
    ]
    code, out, _ = run("cod", "open", "--format", "json")
    data = json.loads(out)
    assert [(p["order"], p["tracking_no"], p["amount"], p["amount_minor"], p["currency"])
            for p in data["open"]] == [(jpy, t[jpy], "1234", 1234, "JPY"),
                                       (vnd, t[vnd], "250000", 250000, "VND"),
                                       (eur, t[eur], "12.34", 1234, "EUR")]  # fmt: skip
    assert data["totals"][0] == {"courier": "POST", "currency": "EUR", "parcels": 1,
                                 "amount": "12.34", "amount_minor": 1234}  # fmt: skip
    assert data["problems"] == 0
    code, out, _ = run("cod", "open", "--format", "csv", "--courier", "post")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["order"], r["amount"], r["currency"]) for r in rows] == [
        (jpy, "1234", "JPY"), (vnd, "250000", "VND"), (eur, "12.34", "EUR")]  # fmt: skip
    run("cod", "import", remittance(f"{t[vnd]},250000,VND,2026-11-25,R-1\nXX,1,EUR,2026-11-25,"
                                    "R-1\n"), "--courier", "POST")  # fmt: skip
    code, out, _ = run("cod", "open", "--format", "json")
    assert [p["order"] for p in json.loads(out)["open"]] == [jpy, eur]
    assert json.loads(out)["problems"] == 1
    code, out, _ = run("cod", "open", "--courier", "SWIFT")
    assert out.splitlines()[1:] == ["0 parcels not paid yet"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("tracking_no,amount,currency,reference\nEE1,5,JPY,R\n",
         "picker: remit.csv has no column remitted_at: the first line must name the columns "
         "tracking_no, amount, currency, remitted_at, reference; nothing imported"),
        (HEADER + "EE1,12.345,EUR,2026-11-25,R-1\n",
         "picker: remit.csv:2: amount: '12.345' is not exact in EUR (2 decimals); nothing "
         "imported"),
        (HEADER + "EE1,5,JPY,25/11/2026,R-1\n",
         "picker: remit.csv:2: remitted_at: '25/11/2026' is not an ISO 8601 date or time "
         "(2026-11-25 or 2026-11-25T14:30:00+01:00); nothing imported"),
    ],
)  # fmt: skip
def test_a_malformed_file_is_refused_in_words_and_imports_nothing(
    cod_floor, tmp_path, text: str, words: str
) -> None:
    run = cod_floor[0]
    path = tmp_path / "remit.csv"
    path.write_text(text, encoding="utf-8")
    code, out, err = run("cod", "import", str(path), "--courier", "POST")
    assert (code, out, err.strip()) == (1, "", words)
    code, out, _ = run("cod", "problems", "--format", "json")
    assert json.loads(out) == {"problems": []}
    assert len(json.loads(run("cod", "open", "--format", "json")[1])["open"]) == 3


def test_an_unknown_courier_and_a_missing_file_are_named(cod_floor, tmp_path) -> None:
    run, _, remittance = cod_floor
    code, _, err = run("cod", "import", remittance(""), "--courier", "DHL")
    assert code == 1 and err.startswith("picker: no courier 'DHL' (known: ")
    code, _, err = run("cod", "import", str(tmp_path / "nope.csv"), "--courier", "POST")
    assert code == 1 and "nope.csv: No such file or directory" in err
