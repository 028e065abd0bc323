"""`picker label preview` and `picker bench labels`, run as a user would."""

import json
import time
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from PIL import Image

from tests.cli.people import as_demo
from tests.cli.test_main import run
from tests.printing.test_labels import LABELS
from tests.printing.zpl_raster import rasterize


def labelled(config: Path) -> Path:
    """The CLI's test configuration, with the repository's layouts."""
    config.write_text(
        config.read_text(encoding="utf-8") + f'\n[labels]\ndir = "{LABELS.as_posix()}"\n',
        encoding="utf-8",
    )
    return config


def test_a_sample_preview_is_written_in_the_format_of_its_extension(capsys, config, tmp_path):
    labelled(config)
    for suffix in ("pdf", "png", "zpl"):
        out_file = tmp_path / f"sample.{suffix}"
        code, out, err = run(capsys, config, "label", "preview", "--sample", "--out",
                             str(out_file))  # fmt: skip
        assert code == 0, err
        assert out.strip() == f"label EE123456785PL (layout 4x6) written to {out_file}"
    doc = pypdfium2.PdfDocument(tmp_path / "sample.pdf")
    page = doc[0]
    text = " ".join(page.get_textpage().get_text_bounded().split())
    assert "Nguyễn Thị Phương Thảo" in text and "COD" in text
    image = page.render(scale=203 / 72).to_pil()
    doc.close()
    assert [r.text for r in zxingcpp.read_barcodes(image)] == ["EE123456785PL"]
    png = Image.open(tmp_path / "sample.png")
    assert [r.text for r in zxingcpp.read_barcodes(png.convert("L"))] == ["EE123456785PL"]
    [zpl] = rasterize((tmp_path / "sample.zpl").read_bytes())
    assert [r.text for r in zxingcpp.read_barcodes(zpl.convert("L"))] == ["EE123456785PL"]


def test_a_courier_preview_uses_its_layout_and_scheme(
    capsys, config, tmp_path, db_url, monkeypatch
):
    monkeypatch.setenv("PICKER_DATABASE_URL", db_url)
    labelled(config)
    assert run(capsys, config, "demo", "--orders", "5")[0] == 0
    out_file = tmp_path / "city.png"
    code, out, err = run(capsys, config, "label", "preview", "--courier", "city", "--out",
                         str(out_file))  # fmt: skip
    assert code == 0, err
    assert "(layout city-a6)" in out and "label CR999999" in out
    code, _, err = run(capsys, config, "label", "preview", "--courier", "NOPE", "--out",
                       str(out_file))  # fmt: skip
    assert code != 0 and "no courier NOPE (there are: CITY, POST, SWIFT)" in err


def test_a_broken_layout_or_a_wrong_file_type_is_refused_in_one_line(capsys, config, tmp_path):
    labelled(config)
    code, _, err = run(capsys, config, "label", "preview", "--layout", "letter", "--out",
                       str(tmp_path / "x.pdf"))  # fmt: skip
    assert code != 0 and "no layout 'letter'" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, config, "label", "preview", "--out", str(tmp_path / "x.txt"))
    assert code != 0 and "give a file ending in .pdf, .png or .zpl" in err
    assert not (tmp_path / "x.txt").exists() and not (tmp_path / "x.pdf").exists()


def broken_layouts(tmp_path: Path) -> Path:
    """A copy of the shipped layouts, two of them broken as a site might break them."""
    folder = tmp_path / "labels"
    folder.mkdir()
    for source in LABELS.glob("*.toml"):
        (folder / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    huge = folder / "4x6.toml"
    huge.write_text(huge.read_text(encoding="utf-8").replace("size = 14\n", "size = 1e9\n", 1))
    narrow = folder / "a6.toml"
    narrow.write_text(
        narrow.read_text(encoding="utf-8").replace("box = [5, 98, 95, 36]", "box = [5, 98, 30, 36]")
    )
    return folder


def test_label_check_says_ok_or_names_each_problem(capsys, config, tmp_path) -> None:
    labelled(config)
    code, out, err = run(capsys, config, "label", "check")
    assert code == 0, err
    assert out.splitlines() == [f"{LABELS / name}.toml: ok" for name in
                                ("4x6", "a6", "city-a6", "post-4x6", "swift-4x6")]  # fmt: skip
    folder = broken_layouts(tmp_path)
    code, out, _ = run(capsys, config, "label", "check", *(str(folder / f"{n}.toml") for n in
                       ("4x6", "a6", "post-4x6", "city-a6")))  # fmt: skip
    assert code == 1
    narrow = (
        "  barcode.box: is 30 mm wide, too narrow for a tracking number's barcode: "
        "EE123456785PL needs 44.0 mm with its quiet zones even at 2 dots a bar"
    )
    huge = "  blocks.recipient.size: must be at most 144 pt, not 1e+09"
    assert out.splitlines() == [
        f"{folder / '4x6.toml'}:", huge,
        f"{folder / 'a6.toml'}:", narrow,
        f"{folder / 'post-4x6.toml'}:", huge,  # it extends 4x6
        f"{folder / 'city-a6.toml'}:", narrow,
    ]  # fmt: skip
    code, out, _ = run(capsys, config, "label", "check", str(tmp_path / "nowhere.toml"))
    assert code == 1 and "no layout 'nowhere'" in out


def test_label_check_reads_the_file_given_not_the_configured_layout_of_its_name(
    capsys, config, tmp_path
) -> None:
    labelled(config)
    configured = LABELS / "4x6.toml"
    text = configured.read_text(encoding="utf-8")
    edited = tmp_path / "4x6.toml"  # a site's edit of the 4x6 layout, before it is put in place
    edited.write_text(text.replace("size = 14\n", "size = 1e9\n", 1), encoding="utf-8")
    code, out, _ = run(capsys, config, "label", "check", str(edited))
    assert code == 1
    assert out.splitlines() == [
        f"{edited}:", "  blocks.recipient.size: must be at most 144 pt, not 1e+09",
    ]  # fmt: skip
    code, out, _ = run(capsys, config, "label", "check", str(configured))
    assert (code, out) == (0, f"{configured}: ok\n")
    # A file that is not NAME.toml is named as such: the 4x6.toml beside it is not read instead.
    renamed = tmp_path / "4x6.txt"
    renamed.write_text(text, encoding="utf-8")
    code, out, _ = run(capsys, config, "label", "check", str(renamed))
    assert code == 1
    assert out.splitlines() == [
        f"{renamed}:",
        "  not a layout file: a layout is a NAME.toml file, and a close reads no other",
    ]


def test_label_check_draws_each_couriers_widest_tracking_number(
    capsys, config, tmp_path, db_url, monkeypatch
) -> None:
    monkeypatch.setenv("PICKER_DATABASE_URL", db_url)
    labelled(config)
    assert run(capsys, config, "demo", "--orders", "0", "--no-sheet")[0] == 0
    # CityRun gives the floor a new block: its first numbers have 12 characters, its last 16.
    floor_file = tmp_path / "floor.toml"
    assert run(capsys, config, "setup", "export", "--out", str(floor_file))[0] == 0
    old = 'tracking = { scheme = "range", prefix = "CR", first = 500000, last = 999999 }'
    new = 'tracking = { scheme = "range", prefix = "1Z999AA1", first = 1000, last = 99999999 }'
    text = floor_file.read_text(encoding="utf-8")
    assert old in text
    floor_file.write_text(text.replace(old, new), encoding="utf-8")
    code, _, err = run(capsys, config, "setup", "apply", str(floor_file))
    assert code == 0, err
    # CityRun's layout with a barcode box that holds the sample's number and CityRun's first
    # ones (1Z999AA11000: 46.8 mm at 2 dots a bar), not its later ones (1Z999AA199999999: 52.3).
    folder = tmp_path / "labels"
    folder.mkdir()
    for name in ("a6.toml", "city-a6.toml"):
        (folder / name).write_text((LABELS / name).read_text(encoding="utf-8"), encoding="utf-8")
    a6 = folder / "a6.toml"
    a6.write_text(
        a6.read_text(encoding="utf-8").replace("box = [5, 98, 95, 36]", "box = [5, 98, 48, 36]"),
        encoding="utf-8",
    )
    code, out, err = run(capsys, config, "label", "check", str(folder / "city-a6.toml"))
    assert code == 1
    assert out.splitlines() == [
        f"{folder / 'city-a6.toml'}:",
        "  with courier CITY's widest tracking number: the barcode box is 48 mm wide; tracking "
        "number 1Z999AA199999999 needs 52.3 mm for its bars with their quiet zones (widen "
        "[barcode] box)",
    ]
    assert "widest tracking numbers: CITY 1Z999AA199999999 (city-a6), POST " in err
    # The same layout under a name no courier uses is drawn with the sample alone, which fits.
    mine = folder / "mine.toml"
    mine.write_text((folder / "city-a6.toml").read_text(encoding="utf-8"), encoding="utf-8")
    code, out, _ = run(capsys, config, "label", "check", str(mine))
    assert (code, out) == (0, f"{mine}: ok\n")


def test_a_preview_with_a_broken_layout_says_what_is_wrong_at_once(capsys, config, tmp_path):
    folder = broken_layouts(tmp_path)
    config.write_text(
        config.read_text(encoding="utf-8") + f'\n[labels]\ndir = "{folder.as_posix()}"\n',
        encoding="utf-8",
    )
    out_file = tmp_path / "x.png"
    started = time.monotonic()
    code, _, err = run(capsys, config, "label", "preview", "--layout", "4x6", "--out",
                       str(out_file))  # fmt: skip
    assert time.monotonic() - started < 5  # it once drew 1e9 pt text for minutes
    assert code == 1 and err.strip() == (
        f"picker: Label layout 4x6: {folder / '4x6.toml'}: blocks.recipient.size: must be at "
        "most 144 pt, not 1e+09"
    )
    code, _, err = run(capsys, config, "label", "preview", "--layout", "a6", "--out",
                       str(out_file))  # fmt: skip
    assert code == 1 and err.startswith("picker: Label layout a6: ")
    assert "barcode.box: is 30 mm wide" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and not out_file.exists()


def test_a_preview_of_a_recipient_no_font_can_draw_says_what_the_close_says(
    capsys, config, tmp_path, floor, settings, db_url, monkeypatch
) -> None:
    from sqlalchemy import update

    from picker.services.floor import packing
    from picker.services.floor.parcels import close_parcel
    from picker.services.printjobs.labels import UndrawableRecipient
    from picker.store.models import Order
    from tests.services.floor.test_packing import PACKER, clock, opened, ready

    monkeypatch.setenv("PICKER_DATABASE_URL", db_url)
    labelled(config)
    v = opened(floor, settings, ("SKU-00001", 2))
    [line] = v.lines
    packing.verify(floor, PACKER, v.order_id, line.line_id, 1, clock=clock)
    ready(floor, settings, v, "BOX-S")
    first = close_parcel(floor, PACKER, settings, v.order_id, more_to_come=True, clock=clock)
    # The shop then corrects the name, into letters no label font has (Runic).
    with floor.transaction() as s:
        s.execute(update(Order).where(Order.id == v.order_id).values(ship_name="ᚠᚢ Smith"))
    packing.verify(floor, PACKER, v.order_id, line.line_id, 1, clock=clock)
    ready(floor, settings, v, "BOX-S")
    with pytest.raises(UndrawableRecipient) as refused:
        close_parcel(floor, PACKER, settings, v.order_id, more_to_come=False, clock=clock)
    said = str(refused.value)  # what the packer reads at the table
    assert said == (
        "The label cannot draw 'ᚠ' (U+16A0), 'ᚢ' (U+16A2) in the recipient's name: ask a lead"
    )
    out_file = tmp_path / "label.pdf"
    code, out, err = run(capsys, config, "label", "preview", "--parcel", first.tracking_no,
                         "--out", str(out_file))  # fmt: skip
    assert (code, out, err) == (1, "", f"picker: {said}\n")
    assert not out_file.exists()


def test_bench_labels_reports_rates_against_the_target(capsys, config) -> None:
    labelled(config)
    code, out, _ = run(capsys, config, "bench", "labels", "--labels", "20", "--json")
    assert code == 0
    report = json.loads(out)
    metrics = report["metrics"]
    assert report["bench"] == "labels"
    assert metrics["pdf_per_s"]["target"] == 200 and metrics["pdf_per_s"]["median"] > 0
    assert metrics["zpl_per_s"]["median"] > 0 and metrics["png_preview"]["unit"] == "ms"


def test_print_queue_run_reprint_and_retry(capsys, config, tmp_path, db_url, monkeypatch) -> None:
    from sqlalchemy import select

    from picker.services.printjobs import print_queue
    from picker.store.engine import Database
    from picker.store.models import Parcel

    monkeypatch.setenv("PICKER_DATABASE_URL", db_url)
    assert run(capsys, config, "demo", "--orders", "20")[0] == 0
    db = Database(db_url)
    with db.transaction() as s:
        parcel_id, tracking = s.execute(
            select(Parcel.id, Parcel.tracking_no).where(Parcel.tracking_no.is_not(None)).limit(1)
        ).one()
        job = print_queue.enqueue(
            s, kind="label", printer="T05", content=b"%PDF-1.4 label", terminal_id="T05",
            content_type="application/pdf", parcel_id=parcel_id,
        )  # fmt: skip
    db.dispose()
    code, out, _ = run(capsys, config, "print", "queue")
    assert code == 0 and f"{job:>6} " in out and "queued" in out and tracking in out
    code, out, _ = run(capsys, config, "print", "run")
    assert code == 0 and f"job {job} printed on T05" in out
    spooled = list((tmp_path / "var" / "spool").iterdir())
    assert [p.read_bytes() for p in spooled] == [b"%PDF-1.4 label"]
    code, _, err = run(capsys, config, "print", "reprint", tracking, "--reason", "label jammed")
    assert code == 2 and "print reprint acts with a packer's authority" in err
    packer = as_demo(monkeypatch, tmp_path / "var", "EMP-0004")
    code, out, err = run(capsys, config, *packer, "print", "reprint", tracking, "--reason",
                         "label jammed")  # fmt: skip
    assert code == 0 and f"label of {tracking} queued again as job" in out, err
    code, out, _ = run(capsys, config, "print", "queue", "--status", "queued", "--json")
    [again] = json.loads(out)["jobs"]
    assert again["reason"] == "label jammed" and again["tracking_no"] == tracking
    code, _, err = run(capsys, config, *packer, "print", "retry", str(job))
    assert code != 0 and "printed" in err  # a printed job is not sent again by retry
    code, _, err = run(capsys, config, *packer, "print", "reprint", tracking, "--reason", " ")
    assert code != 0 and "say why the label is printed again" in err


def test_a_lead_chooses_what_an_orders_labels_print_for_undrawable_letters(
    capsys, config, tmp_path, db_url, monkeypatch
) -> None:
    from sqlalchemy import select, update

    from picker.store.engine import Database
    from picker.store.models import Order

    monkeypatch.setenv("PICKER_DATABASE_URL", db_url)
    labelled(config)
    assert run(capsys, config, "demo", "--orders", "10", "--no-sheet")[0] == 0
    lead = as_demo(monkeypatch, tmp_path / "var")
    db = Database(db_url)
    try:
        with db.transaction() as s:
            number, other = s.scalars(
                select(Order.number).where(Order.status == "assigned").order_by(Order.id).limit(2)
            ).all()
            s.execute(update(Order).where(Order.number == number).values(ship_name="ᚠᚢ Smith"))
        code, _, err = run(capsys, config, "order", "label-text", number, "--transliterate")
        assert code == 2 and "lead" in err  # a lead's choice
        with pytest.raises(SystemExit) as usage:  # one of the two, named by argparse
            run(capsys, config, *lead, "order", "label-text", number)
        assert usage.value.code == 2 and "--transliterate --hand-write" in capsys.readouterr().err
        code, out, err = run(capsys, config, *lead, "order", "label-text", number,
                             "--transliterate")  # fmt: skip
        assert code == 0, err
        assert out.splitlines() == [
            f"{number}: its labels print recipient letters no font has written in Latin letters",
            "  the recipient's name: fu Smith",
        ]
        code, out, _ = run(capsys, config, *lead, "order", "label-text", other, "--hand-write")
        assert code == 0 and "the labels print it as written" in out
        with db.read() as s:
            chosen = dict(
                s.execute(
                    select(Order.number, Order.label_text).where(Order.number.in_((number, other)))
                ).all()
            )
        assert chosen == {number: "transliterate", other: "hand_write"}
        code, out, _ = run(capsys, config, "order", "show", number)
        assert "label text: written in Latin letters" in out
    finally:
        db.dispose()
