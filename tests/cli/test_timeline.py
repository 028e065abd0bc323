"""`picker order timeline`, run as a user would, on both databases."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from picker.domain.intake import IncomingLine
from picker.services.orders.timeline import order_timeline
from tests.cli.test_main import run as run_cli
from tests.services.intake.test_order_import import order, run, stock
from tests.services.orders.test_timeline import walk

CONFIG = '[terminal]\nid = "T05"\n'


def test_json_lists_every_entry_oldest_first_with_who_where_and_when(
    cli, floor, settings, tmp_path
) -> None:
    w = walk(floor, settings, tmp_path)
    code, out, err = cli(CONFIG)("order", "timeline", w.number, "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == {"order", "timeline"} and data["order"] == w.number
    entries = data["timeline"]
    assert all({"at", "kind", "what", "operator", "terminal"} <= set(e) for e in entries)
    moments = [datetime.fromisoformat(e["at"]) for e in entries]
    assert all(m.utcoffset() == timedelta(0) for m in moments)  # ISO 8601, UTC
    assert moments == sorted(moments)
    service = order_timeline(floor, w.number).entries
    assert [(e["kind"], e["what"], e["operator"], e["terminal"]) for e in entries] == [
        (e.kind, e.what, e.operator, e.terminal) for e in service
    ]
    assert [m.astimezone(UTC) for m in moments] == [e.at for e in service]
    voided = [e for e in entries if f"parcel {w.voided} voided: box crushed" in e["what"]]
    assert [(e["kind"], e["operator"], e["terminal"]) for e in voided] == [
        ("status", "EMP-0001", "T23")
    ]


def test_the_table_prints_utc_times_as_order_show_does(cli, floor, settings, tmp_path) -> None:
    w = walk(floor, settings, tmp_path)
    run_ = cli(CONFIG)
    code, out, err = run_("order", "timeline", w.number)
    assert code == 0, err
    lines = out.splitlines()
    service = order_timeline(floor, w.number).entries
    assert lines[0] == f"{w.number}  executed  Nguyễn Thị Hương"
    assert lines[-1] == f"{len(service)} entries"
    executed = next(e for e in service if e.what.startswith("packed → executed"))
    assert f"{executed.at:%Y-%m-%d %H:%M:%S} status  EMP-0001  T23       {executed.what}" in lines
    _, show, _ = run_("order", "show", w.number)
    assert f"  {executed.at:%Y-%m-%d %H:%M:%S}    packed → executed" in show


def test_an_unknown_order_is_named_with_the_exit_status_of_order_show(cli, floor) -> None:
    run_ = cli(CONFIG)
    code, out, err = run_("order", "timeline", "PO-0000099")
    assert (code, out, err.strip()) == (1, "", "picker: no order PO-0000099")
    assert run_("order", "show", "PO-0000099")[0] == code


def test_hostile_customer_text_is_shown_literally(cli, floor, settings) -> None:
    """Rich markup stays text; ESC, BEL and C1 controls are shown as escapes in the table and
    kept exactly in the JSON (escaped as JSON escapes them, so no terminal obeys them)."""
    name = "[bold red]Eve[/] \x1b]0;pwned\x07"
    email = "eve[/]\x1b[2J@example.com"
    sku = "SKU-[link=x]\x9b31m"
    stock(floor, "SKU-00001", A_01_01_1=5)
    run(floor, settings, order("7002", customer_name=name,
                               lines=(IncomingLine(sku, "item", 1, order().total),)))  # fmt: skip
    run(floor, settings, order("7003", customer_email=email))  # accepted: a mail queued
    run_ = cli(CONFIG)
    code, held, err = run_("order", "timeline", "PO-0000001")
    assert code == 0, err
    assert held.splitlines()[0] == "PO-0000001  on_hold  [bold red]Eve[/] \\x1b]0;pwned\\x07"
    assert "SKU-[link=x]\\x9b31m" in held  # the hold's reason names the unknown SKU
    code, mailed, err = run_("order", "timeline", "PO-0000002")
    assert code == 0, err
    assert "eve[/]\\x1b[2J@example.com" in mailed  # the mail's recipient, as the shop sent it
    assert not any(c in held + mailed for c in "\x1b\x07\x9b")
    code, out, err = run_("order", "timeline", "PO-0000001", "--format", "json")
    assert code == 0 and not any(c in out for c in "\x1b\x07\x9b")
    assert any(sku in e["what"] for e in json.loads(out)["timeline"])
    code, out, err = run_("order", "timeline", "PO-0000002", "--format", "json")
    assert code == 0 and not any(c in out for c in "\x1b\x07\x9b")
    assert any(email in e["what"] for e in json.loads(out)["timeline"])


def test_bench_timeline_times_an_order_of_200_entries(capsys, config, tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    code, out, err = run_cli(
        capsys, config, "bench", "timeline", "--orders", "300", "--calls", "20",
        "--database", url, "--json",
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    metrics = report["metrics"]
    assert (report["bench"], report["orders"]) == ("timeline", 300)
    assert metrics["entries"]["median"] == 200 and metrics["entries"]["pass"]
    timing = metrics["timeline"]
    assert timing["target"] == 100 and 0 < timing["median"] <= timing["p99"]
