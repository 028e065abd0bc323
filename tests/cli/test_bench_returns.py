"""``picker bench returns`` on a tiny demo floor, on both databases: its JSON has the metrics."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_main import run as picker


@pytest.mark.parametrize("driver", [(), ("--services",)], ids=["default", "services"])
def test_bench_returns_receives_parcels_and_reports_scan_and_close_latency(
    capsys, config, db_url, driver
) -> None:
    code, out, err = picker(capsys, config, "bench", "returns", "--orders", "300", "--returns",
                            "6", "--database", db_url, "--json", *driver)  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    assert (report["bench"], report["orders"]) == ("returns", 300)
    assert report["database"] == ("sqlite" if db_url.startswith("sqlite") else "postgresql")
    metrics = report["metrics"]
    for row in ("scan_to_feedback", "open_scan", "item_scan", "condition_scan", "close"):
        m = metrics[row]
        assert m["unit"] == "ms" and m["count"] > 0, row
        assert 0 < m["median"] <= m["p99"] <= m["p99_9"] <= m["max"], row
    assert metrics["scan_to_feedback"]["target"] == 50.0 and metrics["close"]["target"] == 150.0
    # Through the app a scan typed 1-3 ms a key may reach the screen split on a starved machine
    # (counted, and its refusal named on stderr); the desk's own calls have no such excuse.
    if metrics["scans_not_whole"]["median"] == 0:
        assert metrics["returns_closed"]["median"] == 6 and metrics["refused"]["median"] == 0, err
        assert metrics["units"]["median"] >= 6
    else:
        assert not driver and "not whole: " in err
    if driver:  # the desk's calls, whether or not this Picker has the returns screen
        assert metrics["headless_app"]["median"] == 0
