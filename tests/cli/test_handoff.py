"""`picker manifest` and `picker bench handoff`, run as a user would."""

import json
from zoneinfo import ZoneInfo

import pypdfium2
import pytest
from sqlalchemy import select

from picker.store.engine import Database
from picker.store.models import CourierPickup, Order, PrintJob
from tests.cli.people import as_demo
from tests.cli.test_labels import labelled
from tests.cli.test_main import run


def test_a_days_manifests_are_printed_again_or_written_out(
    capsys, config, db_url, monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv("PICKER_DATABASE_URL", db_url)
    assert run(capsys, config, "demo", "--orders", "60")[0] == 0
    lead = as_demo(monkeypatch, tmp_path / "var")
    db = Database(db_url)
    try:
        with db.read() as s:
            number, closed_at = s.execute(
                select(CourierPickup.number, CourierPickup.closed_at)
                .where(CourierPickup.status == "closed")
                .order_by(CourierPickup.closed_at.desc())
                .limit(1)
            ).one()
        day = closed_at.astimezone(ZoneInfo("Europe/Warsaw")).date()
        code, out, err = run(capsys, config, "manifest", "--date", day.isoformat())
        assert code == 2 and "manifest acts with a lead's authority" in err  # printing: a lead's
        code, out, err = run(capsys, config, *lead, "manifest", "--date", day.isoformat())
        assert code == 0, err
        assert f"{number} queued as job" in out
        with db.read() as s:
            job = s.scalar(select(PrintJob).where(PrintJob.title == number))
        assert job is not None and job.kind == "manifest"
        folder = tmp_path / "manifests"
        code, out, err = run(
            capsys, config, "manifest", "--date", day.isoformat(), "--out", str(folder)
        )
        assert code == 0, err
        pdf = folder / f"{number}.pdf"
        assert (
            pdf.exists() and number in pypdfium2.PdfDocument(pdf)[0].get_textpage().get_text_range()
        )
        code, _, err = run(capsys, config, *lead, "manifest", "--date", "1999-01-01")
        assert code != 0 and "no pickup was closed on 1999-01-01" in err
        with pytest.raises(SystemExit) as exit_:  # argparse: usage error, exit status 2
            run(capsys, config, "manifest", "--date", "yesterday")
        assert exit_.value.code == 2
        assert "'yesterday' is not a date" in capsys.readouterr().err
    finally:
        db.dispose()


def test_bench_handoff_hands_a_pickup_over_through_the_app(capsys, config, tmp_path) -> None:
    labelled(config)
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    code, out, err = run(
        capsys, config, "bench", "handoff", "--orders", "200", "--lanes", "12", "--pickup", "5",
        "--database", url, "--json",
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    metrics = report["metrics"]
    assert report["bench"] == "handoff"
    assert metrics["parcels_on_pickup"]["median"] == 5 and metrics["parcels_on_pickup"]["pass"]
    assert metrics["parcel_scan"]["target"] == 50 and metrics["close_pickup"]["target"] == 2000
    db = Database(url)
    try:
        with db.read() as s:
            pickup = s.scalar(
                select(CourierPickup.id)
                .where(CourierPickup.status == "closed")
                .order_by(CourierPickup.id.desc())
                .limit(1)
            )
            manifest = s.scalar(select(PrintJob.id).where(PrintJob.pickup_id == pickup))
            executed = s.scalar(
                select(Order.id).where(Order.status == "executed").order_by(Order.id.desc())
            )
        assert manifest is not None and executed is not None
    finally:
        db.dispose()


def test_picker_check_reports_every_invariant_and_fails_when_one_breaks(
    capsys, config, db_url, monkeypatch
) -> None:
    from sqlalchemy import text

    from picker.services.check import INVARIANTS

    monkeypatch.setenv("PICKER_DATABASE_URL", db_url)
    assert run(capsys, config, "demo", "--orders", "40")[0] == 0
    code, out, _ = run(capsys, config, "check")
    n = len(INVARIANTS)
    assert code == 0 and f"{n} of {n} invariants hold" in out
    db = Database(db_url)
    try:
        with db.transaction() as s:
            s.execute(text("UPDATE stock SET on_hand = on_hand + 5 WHERE id = 1"))
    finally:
        db.dispose()
    code, out, _ = run(capsys, config, "check")
    assert code == 1 and "BROKEN stock on hand is what the ledger says" in out
    assert f"{n - 1} of {n} invariants hold" in out


def test_bench_all_runs_every_benchmark_on_one_floor_and_writes_the_table(
    capsys, config, tmp_path
) -> None:
    labelled(config)
    out_file = tmp_path / "all.json"
    url = f"sqlite:///{tmp_path / 'all.db'}"
    code, out, err = run(
        capsys, config, "bench", "all", "--orders", "100", "--database", url, "--out",
        str(out_file), "--floor-terminals", "3", "--floor-minutes", "0.1",
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(out_file.read_text(encoding="utf-8"))
    benches = [r["bench"] for r in report["runs"]]
    assert benches == ["pick", "pack", "handoff", "terminal", "floor", "labels", "scan", "import"]
    floor = next(r for r in report["runs"] if r["bench"] == "floor")["metrics"]
    assert floor["scans_lost"]["median"] == 0 and floor["violations"]["median"] == 0
    terminal = next(r for r in report["runs"] if r["bench"] == "terminal")["metrics"]
    assert 0 < terminal["startup"]["median"] < 60_000 and terminal["peak_memory"]["median"] > 10
    assert "terminal  startup" in out and "handoff   close_pickup" in out
