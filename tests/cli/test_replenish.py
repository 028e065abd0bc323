"""``picker bin set``, ``picker replenish plan|list|cancel``, ``picker stock show`` (levels,
last counted) and ``picker stock moves`` (the ledger), run as a user would, on both databases."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text, update

from picker.services import auth, replenish
from picker.services.actors import Actor
from picker.store.models import Bin
from tests.services.intake.test_order_import import stock

CONFIG = '[terminal]\nid = "T05"\n'
LEAD_BADGE, PIN = "EMP-0301", "2468"


@pytest.fixture
def run(cli, floor, monkeypatch):  # type: ignore[no-untyped-def]
    """The demo floor with no levels and nothing in reserve, and a lead for ``--as``."""
    with floor.transaction() as s:
        s.execute(update(Bin).values(min_qty=None, max_qty=None))
        s.execute(
            text("DELETE FROM stock WHERE bin_id IN (SELECT id FROM bins WHERE role = 'reserve')")
        )
    auth.add_operator(floor, Actor("T01"), LEAD_BADGE, "Lena Lead", "lead", PIN)
    monkeypatch.setenv("PICKER_PIN", PIN)
    go = cli(CONFIG)
    go.db = floor  # type: ignore[attr-defined]
    return go


def test_bin_set_then_plan_list_and_cancel(run) -> None:
    code, out, err = run("--as", LEAD_BADGE, "bin", "set", "A-01-01-1", "--role", "pickface",
                         "--min", "10", "--max", "50")  # fmt: skip
    assert (code, out, err) == (0, "A-01-01-1: pick face, min 10, max 50\n", "")
    stock(run.db, "SKU-00001", A_01_01_1=4, C_01_01_4=100)
    code, out, err = run("replenish", "plan")
    assert code == 2 and "replenish plan acts with a lead's authority" in err
    code, out, err = run("--as", LEAD_BADGE, "replenish", "plan", "--format", "json")
    assert code == 0, err
    [move] = json.loads(out)["moves"]
    assert {k: move[k] for k in ("number", "sku", "from_bin", "to_bin", "quantity", "reason")} == {
        "number": "MOV-000001", "sku": "SKU-00001", "from_bin": "C-01-01-4",
        "to_bin": "A-01-01-1", "quantity": 46, "reason": "below_min",
    }  # fmt: skip
    code, out, _ = run("--as", LEAD_BADGE, "replenish", "plan")
    assert code == 0
    assert "skipped (MOV-000001 is already planned for it): SKU-00001 in A-01-01-1" in out
    assert out.splitlines()[-1] == "0 moves planned, 1 skipped"
    code, out, _ = run("replenish", "list")
    assert code == 0 and out.splitlines()[1].split()[:6] == [
        "MOV-000001", "SKU-00001", "C-01-01-4", "A-01-01-1", "46", "0",
    ]  # fmt: skip
    code, out, err = run("--as", LEAD_BADGE, "replenish", "cancel", "mov-000001")
    assert (code, out) == (0, "MOV-000001 cancelled\n"), err
    code, out, _ = run("replenish", "list", "--format", "json")
    assert json.loads(out) == {"moves": []}


def test_bin_set_refusals_are_words_and_exit_codes(run) -> None:
    code, _, err = run("--as", LEAD_BADGE, "bin", "set", "A-01-01-1", "--min", "30", "--max", "20")
    assert code == 1 and err == (
        "picker: A-01-01-1: --min 30 is above --max 20; the face is refilled below min up to max\n"
    )
    code, _, err = run("--as", LEAD_BADGE, "bin", "set", "A-01-01-1")
    assert code == 2 and "say what to set" in err
    with pytest.raises(SystemExit) as usage:  # argparse's own refusal, with its usage line
        run("--as", LEAD_BADGE, "bin", "set", "A-01-01-1", "--min", "-1", "--max", "3")
    assert usage.value.code == 2
    code, _, err = run("bin", "set", "A-01-01-1", "--no-levels")
    assert code == 2 and "bin set acts with a lead's authority" in err


def test_stock_show_has_levels_and_last_counted_and_stock_moves_the_ledger(run, settings) -> None:
    run("--as", LEAD_BADGE, "bin", "set", "A-01-01-1", "--min", "10", "--max", "50")
    stock(run.db, "SKU-00001", A_01_01_1=4, C_01_01_4=100)
    [move] = replenish.plan_replenishment(run.db, Actor("T01"), settings=settings).moves
    replenish.start_move(run.db, Actor("T09"), "C-01-01-4", settings=settings)
    replenish.do_move(run.db, Actor("T09"), move.number, 46, "A-01-01-1", settings=settings)
    code, out, err = run("stock", "show", "SKU-00001", "--format", "json")
    assert code == 0, err
    face, reserve = json.loads(out)["bins"]
    assert {k: face[k] for k in ("bin", "role", "on_hand", "min_qty", "max_qty", "counted_at")} == {
        "bin": "A-01-01-1", "role": "pick", "on_hand": 50, "min_qty": 10, "max_qty": 50,
        "counted_at": None,
    }  # fmt: skip
    assert (reserve["bin"], reserve["role"], reserve["on_hand"], reserve["min_qty"]) == (
        "C-01-01-4", "reserve", 54, None,
    )  # fmt: skip
    code, out, _ = run("stock", "show", "SKU-00001")
    assert code == 0
    assert out.splitlines()[2].split() == ["A-01-01-1", "pick", "50", "0", "10", "50", "never"]
    code, out, err = run("stock", "moves", "SKU-00001", "--format", "json")
    assert code == 0, err
    rows = json.loads(out)["movements"]
    assert [
        (r["bin"], r["delta"], r["reason"], r["document"], r["terminal"]) for r in rows[:2]
    ] == [
        ("A-01-01-1", 46, "move", "MOV-000001", "T09"),
        ("C-01-01-4", -46, "move", "MOV-000001", "T09"),
    ]
    code, out, _ = run("stock", "moves", "SKU-00001", "--since", "1")
    assert code == 0 and out.splitlines()[-1] == "2 movements"  # the demo's receipts are older
    assert out.splitlines()[2].split()[2:6] == ["A-01-01-1", "+46", "move", "MOV-000001"]
    code, _, err = run("stock", "moves", "SKU-00001", "--since", "yesterday")
    assert code == 2 and "is neither a number of days nor a date (YYYY-MM-DD)" in err
    code, out, _ = run("stock", "moves", "SKU-00001", "--since", "2000-01-01", "--format", "json")
    assert len(json.loads(out)["movements"]) > 2
