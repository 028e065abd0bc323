"""`picker tracking import` and `picker tracking stale`, run as a user would, on both
databases."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from picker.store.models import TrackingEvent
from tests.services.tracking.test_events import csv, shipped


def test_import_names_skipped_lines_exits_1_and_imports_the_rest(
    cli, floor, settings, tmp_path
) -> None:
    number, [t] = shipped(floor, settings, ("SKU-00001", 1), tote="T-0901")
    run = cli('[terminal]\nid = "T05"\n')
    file = tmp_path / "post.csv"
    file.write_bytes(csv(f"{t},delivered,2026-11-23T10:00:00Z,Łódź,left at the door",
                         "XX000000000XX,delivered,2026-11-23T10:00:00Z,,",
                         f"{t},\x1b[31mgone,2026-11-23T11:00:00Z,,"))  # fmt: skip
    code, out, err = run("tracking", "import", str(file))
    assert code == 1
    assert "post.csv:line 3 XX000000000XX: no parcel of ours has this tracking number" in err
    assert f"post.csv:line 4 {t}: unknown status '\\x1b[31mgone'" in err and "\x1b" not in err
    assert "imported 1, already imported 0, skipped 2" in out
    assert f"1 order delivered: {number}" in out
    file.write_bytes(csv(f"{t},delivered,2026-11-23T10:00:00Z,Łódź,left at the door"))
    code, out, err = run("tracking", "import", str(file))
    assert code == 0 and "imported 0, already imported 1, skipped 0" in out, err
    code, out, _ = run("order", "show", number)
    assert code == 0 and "delivered 2026-11-23" in out


def test_import_refuses_a_file_it_cannot_read_and_an_unknown_courier(cli, floor, tmp_path) -> None:
    run = cli('[terminal]\nid = "T05"\n')
    file = tmp_path / "post.csv"
    file.write_bytes(b"number;state\n1;2\n")
    code, _, err = run("tracking", "import", str(file))
    assert code == 1 and "must name the columns tracking_no,status,at,location,detail" in err
    assert "nothing imported" in err
    file.write_bytes(csv())
    code, _, err = run("tracking", "import", str(file), "--courier", "NOPE")
    assert code == 1 and "no courier NOPE; nothing imported" in err
    code, _, err = run("tracking", "import", str(tmp_path / "missing.csv"))
    assert code == 1 and "missing.csv: No such file or directory" in err


def test_a_big_file_imports_with_a_progress_bar(cli, floor, settings, tmp_path) -> None:
    _, [a] = shipped(floor, settings, ("SKU-00001", 1), tote="T-0901")
    _, [b] = shipped(floor, settings, ("SKU-00001", 1), tote="T-0902")
    start = datetime(2026, 11, 23, tzinfo=UTC)
    rows = (f"{(a, b)[i % 2]},in_transit,{(start + timedelta(seconds=i)).isoformat()},Hub,"
            for i in range(100_000))  # fmt: skip
    file = tmp_path / "big.csv"
    file.write_bytes(csv(*rows))
    run = cli('[terminal]\nid = "T05"\n')
    code, out, err = run("tracking", "import", str(file), "--courier", "POST")
    assert code == 0, err
    assert "imported 100,000, already imported 0, skipped 0" in out
    assert "events" in err and "100,000/100,000" in err  # the bar's last line
    with floor.read() as s:
        assert s.scalar(select(func.count()).select_from(TrackingEvent)) == 100_000


def test_stale_lists_quiet_parcels_as_a_table_and_as_json(cli, floor, settings) -> None:
    number, [t] = shipped(floor, settings, ("SKU-00001", 1), tote="T-0901")  # in 2026-11
    run = cli('[terminal]\nid = "T05"\n[couriers.POST]\nstale_days = 2\n')
    code, out, _ = run("tracking", "stale")
    assert code == 0
    assert "1 stale parcel (no courier event for days):" in out
    assert t in out and number in out and "no event" in out
    assert "No order delivered late in the last 30 days." in out
    code, out, _ = run("tracking", "stale", "--courier", "SWIFT", "--format", "json")
    assert code == 0 and json.loads(out) == {"stale": [], "late": []}
    code, _, err = run("tracking", "stale", "--courier", "NOPE")
    assert code == 1 and "no courier NOPE" in err
    code, out, _ = run("tracking", "stale", "--format", "json")
    [p] = json.loads(out)["stale"]
    assert (p["tracking_no"], p["order"], p["courier"], p["last_status"]) == (
        t,
        number,
        "POST",
        None,
    )


def test_bench_tracking_imports_a_status_file_into_a_demo_floor(capsys, config, tmp_path) -> None:
    from tests.cli.test_main import run as picker

    url = f"sqlite:///{tmp_path / 'bench.db'}"
    code, out, err = picker(capsys, config, "bench", "tracking", "--orders", "200",
                            "--events", "300", "--database", url, "--json")  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    metrics = report["metrics"]
    assert report["bench"] == "tracking" and report["orders"] == 200
    assert metrics["imported"]["median"] == 300 and metrics["skipped"]["median"] == 0
    assert metrics["events_per_s"]["target"] == 5000 and metrics["events_per_s"]["unit"] == "per_s"
    assert metrics["orders_delivered"]["median"] > 0
