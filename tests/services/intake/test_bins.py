"""Bin import: a real floor's shelves from a file — on SQLite and PostgreSQL."""

import re

import pytest
from sqlalchemy import select, update

from picker.channels.files import FileRefused
from picker.domain.pickpath import BinAddress, pick_sequence
from picker.domain.roles import NotAllowed
from picker.services import auth
from picker.services.actors import Actor
from picker.services.intake import catalogue
from picker.store.engine import Database
from picker.store.models import Bin, Zone

CLI = Actor(terminal_id="T01")
BINS = re.compile(r"^[A-Z]-\d{2}-\d{2}-\d$")
HEADER = "code,zone,role\n"


def _import(db: Database, *lines: str, header: str = HEADER, actor: Actor = CLI):  # type: ignore[no-untyped-def]
    data = (header + "".join(line + "\n" for line in lines)).encode()
    return catalogue.import_bins(db, actor, data, file_name="bins.csv", bin_pattern=BINS)


def _bins(db: Database) -> list[tuple[str, str, str, bool, int]]:
    """(code, zone, role, active, pick_seq) of every bin, in walking order."""
    with db.read() as s:
        rows = s.execute(
            select(Bin.code, Bin.zone, Bin.role, Bin.active, Bin.pick_seq).order_by(Bin.pick_seq)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def _declare_zones(db: Database, **zones: bool) -> None:
    with db.transaction() as s:
        s.add_all(
            Zone(code=code, name=f"Zone {code}", active=active) for code, active in zones.items()
        )


def test_bins_are_added_in_walking_order_with_their_roles(db) -> None:
    report = _import(db, "B-01-01-1,B,", "A-02-01-1,A,reserve", "A-02-05-1,A,pick", "A-01-03-2,A,")
    assert report.counts == {"added": 4}
    assert report.problems == []
    seq = {c: pick_sequence(BinAddress(c[0], int(c[2:4]), int(c[5:7]), int(c[8]))) for c in
           ("A-01-03-2", "A-02-05-1", "A-02-01-1", "B-01-01-1")}  # fmt: skip
    # Odd aisles up the bays, even aisles back down; a row with no role is a pick face.
    assert _bins(db) == [
        ("A-01-03-2", "A", "pick", True, seq["A-01-03-2"]),
        ("A-02-05-1", "A", "pick", True, seq["A-02-05-1"]),
        ("A-02-01-1", "A", "reserve", True, seq["A-02-01-1"]),
        ("B-01-01-1", "B", "pick", True, seq["B-01-01-1"]),
    ]


def test_importing_the_same_file_twice_adds_and_changes_nothing(db) -> None:
    lines = ("A-01-01-1,A,pick", "A-01-02-1,A,reserve", "B-01-01-1,B,")
    assert _import(db, *lines).counts == {"added": 3}
    before = _bins(db)
    again = _import(db, *lines)
    assert again.counts == {"unchanged": 3}
    assert again.counts["added"] == 0
    assert _bins(db) == before


def test_a_bin_counted_before_its_file_came_is_the_same_bin_in_the_same_place(db) -> None:
    """Stock import and bin import place a bin by one function: the walk does not depend on
    which file came first."""
    catalogue.import_products(db, CLI, b"sku,name,barcodes,weight_g,fragile\nSKU-1,Mug,,1,\n",
                              file_name="p.csv")  # fmt: skip
    catalogue.set_stock(db, CLI, "SKU-1", "A-02-04-1", 3, bin_pattern=BINS)
    counted = _bins(db)
    assert _import(db, "A-02-04-1,A,").counts == {"unchanged": 1}
    assert _bins(db) == counted
    assert _import(db, "A-02-04-1,A,reserve").counts == {"changed": 1}
    assert _bins(db) == [(*counted[0][:2], "reserve", True, counted[0][4])]


def test_role_zone_and_retirement_are_updated_and_reported_changed(db) -> None:
    _import(db, "A-01-01-1,A,", "A-01-02-1,A,reserve", "A-01-03-1,A,", "A-01-04-1,A,")
    with db.transaction() as s:
        s.execute(update(Bin).where(Bin.code == "A-01-03-1").values(zone="X"))
        s.execute(update(Bin).where(Bin.code == "A-01-04-1").values(active=False))
    report = _import(db, "A-01-01-1,A,reserve", "A-01-02-1,A,pick", "A-01-03-1,A,", "A-01-04-1,a,")
    assert report.counts == {"changed": 4}
    assert [(b[0], b[1], b[2], b[3]) for b in _bins(db)] == [
        ("A-01-01-1", "A", "reserve", True),
        ("A-01-02-1", "A", "pick", True),
        ("A-01-03-1", "A", "pick", True),
        ("A-01-04-1", "A", "pick", True),
    ]


def test_a_file_without_roles_keeps_the_roles_bins_have(db) -> None:
    _import(db, "A-01-01-1,A,reserve")
    report = _import(db, "A-01-01-1,A", "A-01-02-1,A", header="code,zone\n")
    assert report.counts == {"unchanged": 1, "added": 1}
    assert [b[2] for b in _bins(db)] == ["reserve", "pick"]


def test_bad_lines_are_reported_by_number_and_the_rest_import(db) -> None:
    report = _import(
        db,
        "A-01-01-1,A,",  # line 2
        "A-1-1-1,A,",  # 3: not the pattern
        "B-01-01-1,A,",  # 4: the code's zone is B
        "A-01-02-1,,",  # 5: no zone
        "A-01-03-1,A,shelf",  # 6: no such role
        "A-01-04-1,A,pick,extra",  # 7: too many fields
        ",,bogus",  # 8: every problem at once
        "A-01-05-1,A,RESERVE",  # 9
    )
    assert report.counts == {"added": 2, "failed": 6}
    assert [(p.record, p.field) for p in report.problems] == [
        (3, "code"),
        (4, "zone"),
        (5, "zone"),
        (6, "role"),
        (7, ""),
        (8, "code"),
        (8, "zone"),
        (8, "role"),
    ]
    reasons = {(p.record, p.field): p.reason for p in report.problems}
    assert reasons[3, "code"] == (
        r"bin code 'A-1-1-1' does not match the bin pattern ^[A-Z]-\d{2}-\d{2}-\d$"
    )
    assert reasons[4, "zone"] == (
        "bin B-01-01-1 is in zone B by its code, not A: correct the code or the zone"
    )
    assert reasons[5, "zone"] == "the zone is missing"
    assert (
        reasons[6, "role"] == "'shelf' is not a bin role (pick, reserve, quarantine or receiving)"
    )
    assert reasons[7, ""].startswith("the row has 4 fields and the header 3")
    assert str(report.problems[0]) == f"bins.csv:3: code: {reasons[3, 'code']}"
    assert [(b[0], b[2]) for b in _bins(db)] == [("A-01-01-1", "pick"), ("A-01-05-1", "reserve")]


def test_a_floor_that_declares_its_zones_takes_bins_only_in_its_active_zones(db) -> None:
    _declare_zones(db, A=True, B=True, C=False)
    report = _import(db, "A-01-01-1,A,", "D-01-01-1,D,", "C-01-01-1,C,", "B-01-01-1,B,")
    assert report.counts == {"added": 2, "failed": 2}
    assert [(p.record, p.field, p.reason) for p in report.problems] == [
        (3, "zone", "zone D is not one of the floor's zones (A, B): "
                    "declare it in the floor's set-up first"),
        (4, "zone", "zone C is retired: its bins are no longer used"),
    ]  # fmt: skip
    assert [b[0] for b in _bins(db)] == ["A-01-01-1", "B-01-01-1"]


def test_a_floor_without_declared_zones_takes_any_zone(db) -> None:
    assert _import(db, "Q-01-01-1,Q,", "Z-09-09-9,Z,reserve").counts == {"added": 2}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"code,role\nA-01-01-1,pick\n", "bins.csv has no column zone"),
        (b"A-01-01-1,A,pick\n", "bins.csv has no column code, zone"),
        (b"code,zone\nA-01-01-1,\xe4\n", "bins.csv is not UTF-8 text (line 2)"),
        (b'code,zone\n"A-01-01-1,A\n', "bins.csv: not a readable CSV"),
        (b"", "bins.csv is empty"),
    ],
    ids=["missing-column", "no-header", "not-utf8", "broken-quotes", "empty"],
)
def test_a_malformed_file_is_refused_whole_and_nothing_is_written(db, data, message) -> None:
    with pytest.raises(FileRefused, match=re.escape(message)) as refused:
        catalogue.import_bins(db, CLI, data, file_name="bins.csv", bin_pattern=BINS)
    assert "\n" not in str(refused.value)
    assert _bins(db) == []


def test_a_picker_may_not_import_bins_and_nothing_is_written(db) -> None:
    op = auth.add_operator(db, CLI, "EMP-0002", "Pat Picker", "picker,packer", "2222")
    with pytest.raises(NotAllowed, match="importing bins needs the lead role"):
        _import(db, "A-01-01-1,A,", actor=Actor("T02", op))
    assert _bins(db) == []


def test_a_bin_file_never_makes_reserved_stock_quarantine_nor_quarantined_goods_sellable(
    db,
) -> None:
    from picker.store.models import Product, Stock

    _import(db, "A-01-01-1,A,pick", "Q-00-00-0,Q,quarantine")
    with db.transaction() as s:
        product = Product(sku="SKU-1", name="Mug", weight_g=300)
        s.add(product)
        s.flush()
        ids = dict(s.execute(select(Bin.code, Bin.id)).all())
        s.add(Stock(product_id=product.id, bin_id=ids["A-01-01-1"], on_hand=5, reserved=2))
        s.add(Stock(product_id=product.id, bin_id=ids["Q-00-00-0"], on_hand=1, reserved=0))
    report = _import(db, "A-01-01-1,A,quarantine", "Q-00-00-0,Q,pick")
    reasons = {(p.record, p.field): p.reason for p in report.problems}
    assert reasons[2, "role"] == (
        "bin A-01-01-1 has 2 unit(s) reserved for orders: it can become quarantine once they "
        "are picked"
    )
    assert reasons[3, "role"] == (
        "quarantine bin Q-00-00-0 holds 1 unit(s): move or write them off before it becomes "
        "a pick bin"
    )
    assert [(b[0], b[2]) for b in _bins(db)] == [("A-01-01-1", "pick"), ("Q-00-00-0", "quarantine")]
    with db.transaction() as s:
        s.execute(update(Stock).values(reserved=0, on_hand=0))
    report = _import(db, "A-01-01-1,A,reserve", "Q-00-00-0,Q,reserve")
    assert report.counts == {"changed": 2}  # an empty quarantine bin may serve again
