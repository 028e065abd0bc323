"""``picker count plan|list|show|approve|reject|cancel`` run as a user would, on both databases:
a lead plans counts, sees what a counter found, decides; refusals in words."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from picker.config import Threshold
from picker.services import auth, counts
from picker.services.actors import Actor
from picker.store.models import Bin
from tests.services.counts.helpers import TEST_BINS, bin_stock, clear, clock, counter, put

CONFIG = '[terminal]\nid = "T05"\n[counting]\nrecount_over = 50\napprove_over = 2\n'
BADGE, PIN = "EMP-0302", "1357"


@pytest.fixture
def lead(cli, floor, monkeypatch):  # type: ignore[no-untyped-def]
    """The demo floor (the test bins emptied), a lead named with ``lead.as_``."""
    clear(floor, *TEST_BINS)
    auth.add_operator(floor, Actor("T01"), BADGE, "Lena Liderka", "lead", PIN)
    monkeypatch.setenv("PICKER_PIN", PIN)
    run = cli(CONFIG)
    run.as_ = ["--as", BADGE]  # type: ignore[attr-defined]
    run.db = floor  # type: ignore[attr-defined]
    return run


def waiting(settings):  # type: ignore[no-untyped-def]
    """Settings where a difference over 2 units waits for a lead, with no recount first."""
    c = replace(
        settings.counting, recount_over=Threshold(units=50), approve_over=Threshold(units=2)
    )
    return replace(settings, counting=c)


def usage_error(run, capsys, *args: str) -> str:  # type: ignore[no-untyped-def]
    """The words of an argparse refusal (exit status 2)."""
    with pytest.raises(SystemExit) as exited:
        run(*args)
    assert exited.value.code == 2
    return capsys.readouterr().err


def listed(run, *args: str) -> list[dict]:  # type: ignore[no-untyped-def]
    code, out, err = run("count", "list", "--format", "json", *args)
    assert code == 0, err
    return json.loads(out)["counts"]


def test_plan_needs_a_lead_and_one_filter(lead, capsys) -> None:
    code, _, err = lead("count", "plan", "--zone", "A")
    assert code == 2 and "--as BADGE" in err
    assert "one of the arguments" in usage_error(lead, capsys, *lead.as_, "count", "plan")
    err = usage_error(lead, capsys, *lead.as_, "count", "plan", "--zone", "A", "--bins", "3")
    assert "not allowed with" in err


def test_plan_by_bins_orders_least_recently_counted_first_and_skips_active(lead, settings):
    # A-01-01-1 was counted just now; every other bin never: the never-counted come first,
    # in walking order.
    who = counter(lead.db)
    view = counts.start_count(lead.db, who, "A-01-01-1", settings=settings, clock=clock)
    counts.finish_count(lead.db, who, view.number, settings=settings, clock=clock)
    code, out, err = lead(*lead.as_, "count", "plan", "--bins", "3", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert [c["bin"] for c in data["planned"]] == ["A-01-01-2", "A-01-01-3", "A-01-02-1"]
    assert {c["status"] for c in data["planned"]} == {"planned"}
    assert data["planned"][0]["plan_reason"] == "3 least recently counted"
    # Planned again: those three are active now, and said so.
    code, out, err = lead(*lead.as_, "count", "plan", "--zone", "A")
    assert code == 0, err
    assert "69 counts planned; 3 bins skipped (A-01-01-2 (CNT-" in out
    active = listed(lead)
    assert len(active) == 72  # zone A, every bin once
    assert [c["bin"] for c in active][:3] == ["A-01-01-1", "A-01-01-2", "A-01-01-3"]


def test_plan_by_sku_and_by_days(lead) -> None:
    put(lead.db, "SKU-00001", A_01_01_1=3, B_01_01_1=2)
    code, out, err = lead(*lead.as_, "count", "plan", "--sku", "SKU-00001", "--format", "json")
    assert code == 0, err
    assert sorted(c["bin"] for c in json.loads(out)["planned"]) == ["A-01-01-1", "B-01-01-1"]
    code, _, err = lead(*lead.as_, "count", "plan", "--sku", "SKU-NOPE")
    assert code == 1 and "There is no product SKU-NOPE" in err
    code, out, err = lead(*lead.as_, "count", "plan", "--since-days", "30")
    assert code == 0, err
    # never counted: every active pick face and reserve bin, but the two with a count already
    with lead.db.read() as s:
        countable = s.scalar(
            select(func.count()).select_from(Bin)
            .where(Bin.active.is_(True), Bin.role.in_(("pick", "reserve")))
        )  # fmt: skip
    assert f"{countable - 2} counts planned; 2 bins skipped" in out


def test_show_is_the_leads_view_and_approve_adjusts(lead, settings, capsys) -> None:
    put(lead.db, "SKU-00001", A_01_01_1=10)
    lenient = waiting(settings)
    who = counter(lead.db)
    view = counts.start_count(lead.db, who, "A-01-01-1", settings=lenient, clock=clock)
    counts.count_item(lead.db, who, view.number, "SKU-00001", settings=lenient, clock=clock)
    counts.key_count(lead.db, who, view.number, 6, settings=lenient, clock=clock)
    result = counts.finish_count(lead.db, who, view.number, settings=lenient, clock=clock)
    assert result.status == "approval"
    code, out, err = lead("count", "show", view.number.lower(), "--format", "json")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["status"] == "approval"
    assert [(ln["sku"], ln["expected"], ln["counted"], ln["difference"]) for ln in shown["lines"]
            ] == [("SKU-00001", 10, 6, -4)]  # fmt: skip
    code, out, _ = lead("count", "show", view.number)
    assert "SKU-00001" in out and "-4" in out
    assert [c["status"] for c in listed(lead, "--status", "approval")] == ["approval"]
    err = usage_error(lead, capsys, *lead.as_, "count", "approve", view.number)
    assert "--reason" in err
    code, out, err = lead(*lead.as_, "count", "approve", view.number, "--reason", "checked")
    assert code == 0, err
    assert out.strip() == "A-01-01-1 adjusted: -4 SKU-00001"
    assert bin_stock(lead.db, "SKU-00001", "A-01-01-1") == (6, 0)
    code, _, err = lead(*lead.as_, "count", "approve", view.number, "--reason", "again")
    assert code == 1 and f"{view.number} is done" in err and "Traceback" not in err
    code, out, _ = lead("check")
    assert code == 0, out


def test_reject_and_cancel_in_words(lead, settings) -> None:
    put(lead.db, "SKU-00001", A_01_01_1=10)
    lenient = waiting(settings)
    who = counter(lead.db)
    view = counts.start_count(lead.db, who, "A-01-01-1", settings=lenient, clock=clock)
    counts.finish_count(lead.db, who, view.number, settings=lenient, clock=clock)
    code, out, err = lead(*lead.as_, "count", "reject", view.number, "--reason", "bad count")
    assert code == 0, err
    assert out.strip() == f"{view.number} rejected: the stock of A-01-01-1 is unchanged"
    assert bin_stock(lead.db, "SKU-00001", "A-01-01-1") == (10, 0)
    code, out, err = lead(*lead.as_, "count", "plan", "--sku", "SKU-00001", "--format", "json")
    number = json.loads(out)["planned"][0]["number"]
    code, out, err = lead(*lead.as_, "count", "cancel", number)
    assert code == 0 and out.strip() == f"{number} cancelled"
    code, _, err = lead(*lead.as_, "count", "cancel", number)
    assert code == 1 and "only a planned count or one being counted" in err
    code, _, err = lead("count", "show", "CNT-999999")
    assert code == 1 and "There is no count CNT-999999" in err
