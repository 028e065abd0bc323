"""`picker parcel void` and `picker bench pack`, run as a user would."""

import json

from sqlalchemy import select

from picker.store.engine import Database
from picker.store.models import Operator, Order, Parcel, PrintJob
from tests.cli.people import as_demo
from tests.cli.test_labels import labelled
from tests.cli.test_main import run
from tests.services.floor.test_packing import a_packed_parcel


def test_a_lead_voids_a_closed_parcel_from_the_command_line(
    capsys, config, db_url, monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv("PICKER_DATABASE_URL", db_url)
    assert run(capsys, config, "demo", "--orders", "40")[0] == 0
    db = Database(db_url)
    try:
        tracking, number = a_packed_parcel(db)
        code, _, err = run(capsys, config, "parcel", "void", tracking, "--reason", "box wet")
        assert code == 2 and "parcel void acts with a lead's authority: name yourself" in err
        lead = as_demo(monkeypatch, tmp_path / "var")
        code, _, err = run(capsys, config, *lead, "parcel", "void", tracking, "--reason", " ")
        assert code != 0 and "say why the parcel is voided" in err
        code, out, err = run(capsys, config, *lead, "parcel", "void", tracking, "--reason",
                             "box wet")  # fmt: skip
        assert code == 0, err
        assert f"parcel {tracking} of {number} voided" in out and f"{number} is packing" in out
        with db.read() as s:
            status = s.scalar(select(Order.status).where(Order.number == number))
            parcel = s.scalar(select(Parcel.status).where(Parcel.tracking_no == tracking))
        assert (status, parcel) == ("packing", "voided")
        code, _, err = run(capsys, config, *lead, "parcel", "void", tracking, "--reason", "again")
        assert code != 0 and "only a closed parcel is voided" in err
        code, _, err = run(capsys, config, *lead, "parcel", "void", "NOPE123", "--reason", "x")
        assert code != 0 and "there is no parcel 'NOPE123'" in err
    finally:
        db.dispose()


def test_bench_pack_packs_picked_orders_through_the_app_and_reports_latency(
    capsys, config, tmp_path
) -> None:
    labelled(config)
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    code, out, err = run(
        capsys, config, "bench", "pack", "--orders", "200", "--packs", "3", "--database", url,
        "--json",
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    metrics = report["metrics"]
    assert report["bench"] == "pack" and report["database"] == "sqlite"
    assert metrics["orders_packed"]["median"] == 3 and metrics["orders_packed"]["pass"]
    assert metrics["verify_scan"]["target"] == 50 and metrics["close_scan"]["target"] == 150
    assert metrics["verifies"]["median"] >= 3 and metrics["close_scan"]["median"] > 0
    db = Database(url)
    try:
        with db.read() as s:
            packed = s.scalars(
                select(Order.number)
                .join(Operator, Operator.id == Order.packer_id)
                .where(Operator.name == "Bench Packer", Order.status == "packed")
            ).all()
            labels = s.scalars(select(PrintJob.id).where(PrintJob.kind == "label")).all()
        assert len(packed) == 3 and len(labels) == 3
    finally:
        db.dispose()
