"""A floor set up from a file, on both databases: apply, apply again, change, refuse, export,
and a warehouse made only by `setup apply` and imports working the whole floor."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from picker.domain.floor_setup import FloorSpec, Rules, read_spec, to_toml
from picker.domain.roles import Role
from picker.domain.tracking import is_valid_s10
from picker.printing.layouts import layout_names
from picker.services import auth
from picker.services.actors import Actor, OperatorInfo
from picker.services.floor import handoff, packing, picking
from picker.services.floor.parcels import close_parcel
from picker.services.intake import catalogue
from picker.services.setup import SetupRefused, apply_setup, export_setup
from picker.store.engine import Database
from picker.store.models import (
    Courier,
    CourierService,
    Operator,
    Order,
    OrderEvent,
    PackagingType,
    SetupLog,
    Tote,
    Zone,
)
from tests.conftest import NOW, REPO
from tests.services.floor.test_picking import clock
from tests.services.intake.test_order_import import import_export, shopify_order

CLI = Actor("T00", source="ops@floor")
EXAMPLE = REPO / "warehouse.example.toml"


def rules(settings) -> Rules:  # type: ignore[no-untyped-def]
    patterns = settings.scanner.patterns
    return Rules(frozenset(layout_names(REPO / "labels")), patterns["packaging"], patterns["tote"])


def example(settings) -> FloorSpec:  # type: ignore[no-untyped-def]
    return read_spec(tomllib.loads(EXAMPLE.read_text(encoding="utf-8")), rules(settings))


def apply(db: Database, spec: FloorSpec, settings, **kw):  # type: ignore[no-untyped-def]
    return apply_setup(db, CLI, spec, shipping=settings.intake.shipping, **kw)


def said(report) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(c) for c in report.changes]


def fingerprint(db: Database) -> tuple[object, ...]:
    """Everything a set-up can touch."""
    with db.read() as s:
        return (
            s.execute(select(Zone.code, Zone.name, Zone.active).order_by(Zone.code)).all(),
            s.execute(
                select(Courier.code, Courier.name, Courier.lane, Courier.active,
                       Courier.tracking_scheme, Courier.range_start, Courier.range_end,
                       Courier.next_number, Courier.tracking_url).order_by(Courier.code)
            ).all(),
            s.execute(
                select(CourierService.courier_id, CourierService.code, CourierService.cutoffs,
                       CourierService.active).order_by(CourierService.id)
            ).all(),
            s.execute(
                select(PackagingType.code, PackagingType.tare_g, PackagingType.active)
                .order_by(PackagingType.code)
            ).all(),
            s.execute(select(Tote.code, Tote.active).order_by(Tote.code)).all(),
            s.scalar(select(func.count()).select_from(SetupLog)),
        )  # fmt: skip


# --- apply, again, change --------------------------------------------------------------------


def test_the_example_sets_up_an_empty_floor_and_a_second_apply_changes_nothing(
    db, settings
) -> None:
    spec = example(settings)
    dry = apply(db, spec, settings, dry_run=True)
    assert fingerprint(db)[1] == [] and dry.dry_run and not dry.applied  # nothing written
    first = apply(db, spec, settings)
    assert said(first) == said(dry)  # a dry run says exactly what a real one does
    assert (
        "add courier POST: Poczta Polska, lane LANE-1, numbers s10 RR000000014PL to "
        "RR999999995PL" in said(first)
    )
    assert "add service POST/standard: Priority parcel, cutoffs 11:00, 16:30" in said(first)
    assert "add 200 totes: T-0001..T-0200" in said(first)
    assert first.warnings == []  # every shipping method of config.toml has its service
    before = fingerprint(db)
    again = apply(db, spec, settings)
    assert again.changes == [] and fingerprint(db) == before  # no log line for no change
    with db.read() as s:
        log = s.execute(select(SetupLog.source, SetupLog.summary)).one()
    assert log.source == "ops@floor" and "add zone A: Fast movers" in log.summary


def test_a_changed_file_says_what_changes_and_retires_what_it_no_longer_names(db, settings) -> None:
    spec = example(settings)
    apply(db, spec, settings)
    post, swift, _city = spec.couriers  # type: ignore[misc]
    standard, _ems = post.services
    post = replace(post, lane="LANE-9", services=(replace(standard, cutoffs=("10:00", "16:30")),))
    changed = replace(
        spec,
        couriers=(post, swift),  # CITY goes
        totes=tuple(f"T-{n:04d}" for n in range(1, 151)),  # the last 50 go
        zones=(*spec.zones, replace(spec.zones[0], code="C", name="Cold room")),  # type: ignore[index]
    )
    report = apply(db, changed, settings)
    assert said(report) == [
        "add zone C: Cold room",
        "change courier POST: lane LANE-1 → LANE-9",
        "change service POST/standard: cutoffs 11:00, 16:30 → 10:00, 16:30",
        "retire service POST/ems",
        "retire courier CITY: CityRun Couriers",
        "retire 50 totes: T-0151..T-0200",
    ]
    assert report.warnings == [  # config.toml still maps shop methods to what retired
        "shipping method 'city_nextday' maps to CITY/nextday, which is not set up: "
        "its orders will be held",
        "shipping method 'city_sameday' maps to CITY/sameday, which is not set up: "
        "its orders will be held",
        "shipping method 'post_ems' maps to POST/ems, which is not set up: its orders will be held",
        "shipping method 'same day' maps to CITY/sameday, which is not set up: "
        "its orders will be held",
    ]
    with db.read() as s:  # retired, never deleted
        assert s.execute(select(Courier.active).where(Courier.code == "CITY")).scalar() is False
        assert s.scalar(select(func.count()).select_from(Tote)) == 200
    back = apply(db, spec, settings)  # the old file brings them back
    assert "bring back courier CITY" in said(back)
    assert "bring back 50 totes: T-0151..T-0200" in said(back)
    assert "retire zone C" in said(back)


def test_two_couriers_swap_lanes_in_one_apply(db, settings) -> None:
    spec = example(settings)
    apply(db, spec, settings)
    post, swift, city = spec.couriers  # type: ignore[misc]
    report = apply(
        db, replace(spec, couriers=(replace(post, lane="LANE-2"), replace(swift, lane="LANE-1"),
                                    city)), settings)  # fmt: skip
    assert said(report) == [
        "change courier POST: lane LANE-1 → LANE-2",
        "change courier SWIFT: lane LANE-2 → LANE-1",
    ]


def test_a_new_block_of_numbers_starts_again_and_a_longer_one_keeps_counting(db, settings) -> None:
    spec = example(settings)
    apply(db, spec, settings)
    with db.transaction() as s:
        s.execute(update(Courier).where(Courier.code == "POST").values(next_number=40))
    post, swift, city = spec.couriers  # type: ignore[misc]
    longer = replace(post, tracking=replace(post.tracking, first=1, last=99999999))
    assert apply(db, replace(spec, couriers=(longer, swift, city)), settings).changes == []
    shorter = replace(post, tracking=replace(post.tracking, last=30))
    with pytest.raises(SetupRefused, match="but 40 numbers are already used"):
        apply(db, replace(spec, couriers=(shorter, swift, city)), settings)
    block = replace(post, tracking=replace(post.tracking, first=5000, last=5999))
    report = apply(db, replace(spec, couriers=(block, swift, city)), settings)
    assert said(report) == [
        # check digits: 0·8+0·6+0·4+0·2+5·3+0·5+0·9+0·7 = 15, 11 - 15 mod 11 = 7; and 5
        "change courier POST: numbers now s10 RR000050007PL to RR000059995PL "
        "(starting again at RR000050007PL; 40 used before)"
    ]
    with db.read() as s:
        assert s.scalar(select(Courier.next_number).where(Courier.code == "POST")) == 0


# --- refusals --------------------------------------------------------------------------------


def test_breaking_live_work_is_refused_with_every_reason_and_changes_nothing(db, settings) -> None:
    spec = example(settings)
    apply(db, spec, settings)
    number, tracking = _one_order_packed(db, settings)  # a parcel waits in LANE-1
    shop = shopify_order(5002, line_items=[{"sku": "MUG-01", "quantity": 1, "price": "30.00"}])
    import_export(db, settings, json.dumps({"orders": [shop]}).encode())
    with db.read() as s:
        second = s.execute(
            select(Order.id, Order.number, Order.assignee_id).where(Order.shop_order_no == "5002")
        ).one()
    picker = Actor("T12", OperatorInfo(second.assignee_id, "EMP-0102", "Piotr Picker",
                                       frozenset({Role.PICKER})))  # fmt: skip
    picking.start_order(db, picker, second.id, "T-0002", batch_size=4, clock=clock)
    with db.transaction() as s:  # and a second order waits for POST/ems
        s.execute(
            update(Order).where(Order.number == number).values(
                service_id=select(CourierService.id).where(CourierService.code == "ems")
                .scalar_subquery()
            )
        )  # fmt: skip
    before = fingerprint(db)
    post, swift, city = spec.couriers  # type: ignore[misc]
    breaking = replace(
        spec,
        couriers=(replace(post, lane="LANE-7", services=post.services[:1]), city),
        totes=tuple(f"T-{n:04d}" for n in range(3, 201)),
        zones=(),
    )
    with pytest.raises(SetupRefused) as refused:
        apply(db, breaking, settings)
    assert refused.value.problems == [
        "zone A cannot retire: 2 active bins are in it (move their stock and retire them "
        "first, or keep the zone)",
        "zone R cannot retire: 1 active bin is in it (move their stock and retire them "
        "first, or keep the zone)",
        "courier POST cannot move from LANE-1 to LANE-7: 1 parcel waits in LANE-1 (hand "
        "it over first)",
        f"totes in use cannot retire: T-0002 carries {second.number}",
    ]
    assert fingerprint(db) == before
    # A service its orders still go with cannot retire either; a courier with none can.
    with pytest.raises(SetupRefused) as refused:
        apply(db, replace(spec, couriers=(replace(post, services=post.services[:1]), city)),
              settings)  # fmt: skip
    assert refused.value.problems == [
        "service POST/ems cannot retire: 1 order on the floor goes with it (ship or move it first)",
    ]
    assert fingerprint(db) == before
    with pytest.raises(SetupRefused, match=r"^courier POST cannot retire: 1 parcel waits "
                       r"in its lane; 2 orders on the floor go with it$"):  # fmt: skip
        apply(db, replace(spec, couriers=(swift, city)), settings)
    assert fingerprint(db) == before and tracking


# --- export ----------------------------------------------------------------------------------


def test_export_then_apply_is_a_round_trip_from_the_demo_floor(db, settings, tmp_path) -> None:
    from picker.demo.builder import build_demo

    demo = Database(f"sqlite:///{tmp_path / 'demo.db'}")
    from picker.store import migrate

    migrate.upgrade(demo.engine)
    build_demo(demo, orders=0, seed=1, now=NOW)
    text = to_toml(export_setup(demo))
    demo.dispose()
    spec = read_spec(tomllib.loads(text), rules(settings))
    assert [c.code for c in spec.couriers or ()] == ["POST", "SWIFT", "CITY"]
    assert apply(db, spec, settings).changes  # a fresh database of each kind takes it
    assert to_toml(export_setup(db)) == text
    assert apply(db, read_spec(tomllib.loads(text), rules(settings)), settings).changes == []


# --- a warehouse from scratch works the whole floor ------------------------------------------


PRODUCTS = b"""sku,name,barcodes,weight_g,fragile
MUG-01,Enamel mug,5901234123457,350,false
SOCK-02,Wool socks,4006381333931,120,false
"""
STOCK = b"""sku,bin,on_hand
MUG-01,A-01-01-1,20
SOCK-02,A-01-02-1,30
"""


def _team(db: Database, settings) -> tuple[Actor, Actor, Actor]:  # type: ignore[no-untyped-def]
    """A lead, a picker and a packer added as on a new floor: operators of the floor's own."""
    made = []
    for badge, name, roles, pin in (
        ("EMP-0101", "Lena Lead", "lead", "2580"),
        ("EMP-0102", "Piotr Picker", "picker", "1470"),
        ("EMP-0103", "Pola Packer", "packer", "3690"),
    ):
        info = auth.add_operator(db, CLI, badge, name, roles, pin)
        made.append(Actor(f"T1{len(made)}", info))
    return made[0], made[1], made[2]


def _one_order_packed(db: Database, settings) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """On a floor set up by file: bins, products, stock, a team, one Shopify order "standard"
    shipping, picked into T-0001 and packed in a BOX-S. Returns (order, tracking number)."""
    bins = b"code,zone,role\nA-01-01-1,A,pick\nA-01-02-1,A,pick\nR-01-01-1,R,reserve\n"
    pattern = re.compile(settings.scanner.patterns["bin"])
    added = catalogue.import_bins(db, CLI, bins, file_name="bins.csv", bin_pattern=pattern)
    assert (added.counts["added"], added.failed) == (3, 0)
    assert catalogue.import_products(db, CLI, PRODUCTS, file_name="products.csv").failed == 0
    report = catalogue.import_stock(
        db, CLI, STOCK, file_name="stock.csv",
        bin_pattern=re.compile(settings.scanner.patterns["bin"]),
    )  # fmt: skip
    assert report.failed == 0
    _lead, picker, packer = _team(db, settings)
    shop = shopify_order(
        5001,
        line_items=[
            {"sku": "MUG-01", "quantity": 2, "price": "30.00"},
            {"sku": "SOCK-02", "quantity": 1, "price": "15.00"},
        ],
    )
    result = import_export(db, settings, json.dumps({"orders": [shop]}).encode())
    assert (result.counts["imported"], result.counts["assigned"]) == (1, 1)
    with db.read() as s:
        order = s.execute(
            select(Order.id, Order.number, Order.status, Operator.badge, CourierService.code)
            .join(Operator, Operator.id == Order.assignee_id)
            .join(CourierService, CourierService.id == Order.service_id)
        ).one()
    assert (order.status, order.badge, order.code) == ("assigned", "EMP-0102", "standard")
    picking.start_order(db, picker, order.id, "T-0001", batch_size=4, clock=clock)
    for line in picking.pick_list(db, picker.operator_id):  # type: ignore[arg-type]
        picking.pick(db, picker, line.task_id, line.left, clock=clock)
    opened = packing.open_order(db, packer, settings, "T-0001", by="tote", clock=clock)
    view = packing.view(db, opened.order_id)
    for line in view.lines:
        packing.verify(db, packer, view.order_id, line.line_id, line.quantity, clock=clock)
    packing.set_packaging(db, packer, view.order_id, "BOX-S", clock=clock)
    packing.set_weight(db, packer, settings, view.order_id, 2 * 350 + 120 + 120, clock=clock)
    packing.confirm_address(db, packer, view.order_id, clock=clock)
    closed = close_parcel(db, packer, settings, view.order_id, more_to_come=False, clock=clock)
    return order.number, closed.tracking_no


def test_a_floor_set_up_only_by_file_and_imports_picks_packs_labels_and_hands_over(
    db, settings
) -> None:
    apply(db, example(settings), settings)
    number, tracking = _one_order_packed(db, settings)
    assert tracking == "RR000000014PL" and is_valid_s10(tracking)  # the block's first number
    with db.read() as s:
        lead = Actor(
            "T19",
            OperatorInfo(
                s.scalar(select(Operator.id).where(Operator.badge == "EMP-0101")),
                "EMP-0101", "Lena Lead", frozenset({Role.LEAD}),
            ),
        )  # fmt: skip
    lane = next(ln for ln in handoff.lanes(db, settings, now=clock()) if ln.courier == "POST")
    assert (lane.lane, lane.parcels) == ("LANE-1", 1)
    pickup = handoff.open_pickup(db, lead, "POST", clock=clock)
    handoff.hand_over_parcel(db, lead, pickup.id, tracking, clock=clock)
    handoff.close_pickup(db, lead, settings, pickup.id, clock=clock)
    with db.read() as s:
        assert s.scalar(select(Order.status).where(Order.number == number)) == "executed"
        walk = s.scalars(
            select(OrderEvent.to_status)
            .join(Order, Order.id == OrderEvent.order_id)
            .where(Order.number == number)
            .order_by(OrderEvent.id)
        ).all()
    assert walk == ["unhandled", "assigned", "picking", "picked", "packing", "packed",
                    "executed"]  # fmt: skip


def test_a_retired_tote_and_box_are_refused_on_the_floor(db, settings) -> None:
    spec = example(settings)
    apply(db, spec, settings)
    apply(db, replace(spec, totes=spec.totes[1:], packaging=spec.packaging[1:]), settings)  # type: ignore[index]
    with pytest.raises(picking.PickRefused, match=r"Tote T-0001 is retired\. Take another tote"):
        _one_order_packed(db, settings)


def test_the_example_file_is_valid_toml_the_readme_names(settings) -> None:
    spec = example(settings)
    assert spec.totes is not None and len(spec.totes) == 200
    assert Path(EXAMPLE).name in (REPO / "README.md").read_text(encoding="utf-8")


def test_a_stock_count_makes_no_bin_outside_the_declared_zones(db, settings) -> None:
    apply(db, example(settings), settings)
    catalogue.import_products(db, CLI, PRODUCTS, file_name="products.csv")
    report = catalogue.import_stock(
        db, CLI, b"sku,bin,on_hand\nMUG-01,A-01-01-1,5\nMUG-01,Q-01-01-1,5\n",
        file_name="stock.csv", bin_pattern=re.compile(r"^[A-Z]-\d{2}-\d{2}-\d$"),
    )  # fmt: skip
    assert (report.counts["changed"], report.failed) == (1, 1)
    assert (
        "bin Q-01-01-1 would be new, in zone Q, which is not one of the floor's zones "
        "(A, B, D, R)" in str(report.problems[0])
    )


def test_a_block_or_a_new_courier_that_would_give_a_used_number_again_is_refused(
    db, settings
) -> None:
    spec = example(settings)
    apply(db, spec, settings)
    _number, tracking = _one_order_packed(db, settings)  # RR000000014PL, serial 1
    post, swift, city = spec.couriers  # type: ignore[misc]
    later = replace(post, tracking=replace(post.tracking, first=2, last=100))
    apply(db, replace(spec, couriers=(later, swift, city)), settings)  # from serial 2: fine
    before = fingerprint(db)
    with pytest.raises(SetupRefused, match=f"include {tracking}, which a parcel already"):
        apply(db, spec, settings)  # back to serial 1, which the parcel carries
    renamed = replace(post, code="POST2", lane="LANE-9")
    with pytest.raises(SetupRefused, match=f"courier POST2: its numbers .* include {tracking}"):
        apply(db, replace(spec, couriers=(renamed, swift, city)), settings)
    assert fingerprint(db) == before


def test_a_barcode_another_box_holds_is_refused_in_words(db, settings) -> None:
    spec = example(settings)
    apply(db, spec, settings)
    env, box_s, *rest = spec.packaging  # type: ignore[misc]
    swapped = (replace(env, barcode=box_s.barcode), replace(box_s, barcode=env.barcode), *rest)
    refused = "packaging BOX-ENVM: barcode BOX-S is packaging BOX-S's"
    with pytest.raises(SetupRefused, match=refused):
        apply(db, replace(spec, packaging=swapped), settings)
