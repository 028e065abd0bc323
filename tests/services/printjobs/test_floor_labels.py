"""Label sheets of the floor in the database — on SQLite and PostgreSQL: what is selected, in
which order, and that every selected code scans back from the PDF."""

from pathlib import Path

import pytest
from sqlalchemy import select, update

from picker.demo.builder import build_demo
from picker.services import files as files_module
from picker.services.errors import NotFound, ServiceError
from picker.services.printjobs.floor_labels import floor_labels, write_floor_labels
from picker.store.engine import Database
from picker.store.models import Bin, Courier, Operator, PackagingType, Tote
from tests.conftest import NOW
from tests.printing.pdf_reading import read_pages


def _scanned(path: Path) -> list[str]:
    return [code for page in read_pages(path.read_bytes()) for code in page.codes]


def _text(path: Path) -> str:
    return "\n".join(page.text for page in read_pages(path.read_bytes()))


def test_bin_labels_are_the_active_bins_in_walking_order_and_all_scan_back(floor, tmp_path):
    with floor.transaction() as s:
        s.execute(update(Bin).where(Bin.code == "A-01-02-1").values(active=False))
        s.execute(update(Bin).where(Bin.code == "A-01-03-1").values(role="reserve"))
    with floor.read() as s:
        walk = s.scalars(select(Bin.code).where(Bin.active.is_(True)).order_by(Bin.pick_seq)).all()
    labels = floor_labels(floor, "bins")
    assert [label.code for label in labels] == walk
    assert "A-01-02-1" not in walk
    done = write_floor_labels(floor, "bins", tmp_path / "bins.pdf")
    assert (done.count, done.pages) == (len(walk), -(-len(walk) // 24))
    assert sorted(_scanned(done.path)) == sorted(walk)
    text = _text(done.path)
    assert "Zone A · aisle 1 · bay 3 · level 1 · reserve" in text
    assert "Zone C · aisle 4 · bay 1 · level 3" in text


def test_a_bin_range_is_by_place_from_and_to_inclusive(floor, tmp_path):
    done = write_floor_labels(
        floor, "bins", tmp_path / "b.pdf", first="A-02-05-2", last="A-03-01-3"
    )
    codes = [label.code for label in floor_labels(floor, "bins", first="A-02-05-2",
                                                  last="A-03-01-3")]  # fmt: skip
    # Selected as codes sort (bays 5 and 6 of aisle 2, bay 1 of aisle 3), printed in walking
    # order: aisle 2 is walked back down its bays, so bay 6 comes before bay 5.
    assert codes == [
        "A-02-06-1", "A-02-06-2", "A-02-06-3", "A-02-05-2", "A-02-05-3",
        "A-03-01-1", "A-03-01-2", "A-03-01-3",
    ]  # fmt: skip
    assert sorted(_scanned(done.path)) == sorted(codes)
    assert [label.code for label in floor_labels(floor, "bins", last="A-01-01-3")] == [
        "A-01-01-1", "A-01-01-2", "A-01-01-3",
    ]  # fmt: skip


def test_nothing_selected_is_refused_in_words_and_no_file_is_written(floor, tmp_path):
    path = tmp_path / "none.pdf"
    with pytest.raises(NotFound, match=r"^no bins from D-01-01-1 to D-02-01-1$"):
        write_floor_labels(floor, "bins", path, first="D-01-01-1", last="D-02-01-1")
    with pytest.raises(NotFound, match=r"^no totes from T-9000$"):
        write_floor_labels(floor, "totes", path, first="T-9000")
    with pytest.raises(ServiceError, match="'A-01' is not a bin code"):
        write_floor_labels(floor, "bins", path, first="A-01")
    assert not path.exists()


def test_a_refused_or_failed_write_leaves_the_old_file_whole(floor, tmp_path, monkeypatch):
    folder = tmp_path / "labels"
    folder.mkdir()
    path = folder / "totes.pdf"
    path.write_bytes(b"old sheet")
    with pytest.raises(NotFound):
        write_floor_labels(floor, "totes", path, first="X")
    assert path.read_bytes() == b"old sheet"

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files_module.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_floor_labels(floor, "totes", path)
    assert path.read_bytes() == b"old sheet"
    assert [p.name for p in folder.iterdir()] == ["totes.pdf"]
    monkeypatch.undo()
    write_floor_labels(floor, "totes", path, last="T-0003")
    assert _scanned(path) == ["T-0001", "T-0002", "T-0003"]
    assert [p.name for p in folder.iterdir()] == ["totes.pdf"]  # no temporary file left


def test_tote_labels_are_the_active_totes_on_4x6_pages(floor, tmp_path):
    with floor.transaction() as s:
        s.execute(update(Tote).where(Tote.code == "T-0002").values(active=False))
    done = write_floor_labels(floor, "totes", tmp_path / "t.pdf", sheet="4x6", last="T-0004")
    pages = read_pages(done.path.read_bytes())
    assert [(p.size_mm, p.codes) for p in pages] == [
        ((101.6, 152.4), ["T-0001"]),
        ((101.6, 152.4), ["T-0003"]),
        ((101.6, 152.4), ["T-0004"]),
    ]


def test_lane_and_packaging_labels_carry_their_names(floor, tmp_path):
    with floor.read() as s:
        lanes = s.execute(select(Courier.lane, Courier.name).where(Courier.active.is_(True))).all()
        packaging = s.execute(select(PackagingType.barcode, PackagingType.name)).all()
    for kind, rows in (("lanes", lanes), ("packaging", packaging)):
        done = write_floor_labels(floor, kind, tmp_path / f"{kind}.pdf")
        assert sorted(_scanned(done.path)) == sorted(code for code, _ in rows)
        text = _text(done.path)
        assert all(name in text for _, name in rows), kind


def test_badge_labels_show_badge_and_name_and_never_a_pin(db: Database, tmp_path):
    demo = build_demo(db, orders=0, seed=1, now=NOW)
    with db.transaction() as s:
        s.execute(update(Operator).where(Operator.badge == "EMP-0005").values(active=False))
    done = write_floor_labels(db, "badges", tmp_path / "badges.pdf")
    active = [o for o in demo.operators if o.badge != "EMP-0005"]
    assert sorted(_scanned(done.path)) == [o.badge for o in active]
    text = _text(done.path)
    assert all(o.name in text for o in active)
    assert "PIN" not in text
    words = set(text.split())
    assert not any(o.pin in words for o in demo.operators)
    with db.read() as s:
        hashes = s.scalars(select(Operator.pin_hash)).all()
    pdf = done.path.read_bytes()
    assert not any(h.encode() in pdf for h in hashes)
