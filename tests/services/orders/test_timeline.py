"""An order's whole story on both databases, from intake to the courier, in time order."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event

from picker.printing.backends import SpoolBackend
from picker.services.actors import Actor
from picker.services.errors import NotFound
from picker.services.floor import handoff, packing, picking
from picker.services.floor.parcels import close_parcel, void_parcel
from picker.services.notify.dispatcher import dispatch_due
from picker.services.orders.timeline import SOURCES, Entry, order_timeline
from picker.services.printjobs import print_queue
from picker.services.scans import ScanOutcome
from picker.store.engine import Database
from tests.conftest import NOW
from tests.services.floor.test_packing import LEAD, PACKER
from tests.services.floor.test_picking import order_id, picker_of, status
from tests.services.intake.test_order_import import order, run, stock


class Ticking:
    """A clock a second later at each reading, so every step has its own moment."""

    def __init__(self) -> None:
        self.now = NOW + timedelta(minutes=10)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@dataclass(frozen=True)
class Walked:
    number: str
    picker: Actor
    first: str
    """The first parcel's tracking number (handed over)."""
    voided: str
    """The second parcel's, voided."""
    repacked: str
    """Its replacement's, handed over."""
    pickup: str
    picked: tuple[str, ...]
    """The SKUs in the order they were picked (walking order)."""


def _accepted(raw: str, kind: str) -> ScanOutcome:
    return ScanOutcome(raw, kind, "accepted")


def _ready(db: Database, settings, who: Actor, order: int, clock: Ticking) -> None:  # type: ignore[no-untyped-def]
    """A box for the open parcel (scanned) and the weight its contents should have."""
    packing.set_packaging(db, who, order, "BOX-S", scan=_accepted("BOX-S", "packaging"),
                          clock=clock)  # fmt: skip
    view = packing.view(db, order)
    grams = sum(ln.weight_g * ln.in_open for ln in view.lines) + view.open_parcel.tare_g  # type: ignore[union-attr]
    packing.set_weight(db, who, settings, order, grams, clock=clock)


def walk(db: Database, settings, tmp_path, **fields: object) -> Walked:  # type: ignore[no-untyped-def]
    """An order imported, picked by scans, packed in two parcels, the second voided by the lead
    and repacked, both handed to the courier on a pickup, labels printed, the pickup closed."""
    clock = Ticking()
    stock(db, "SKU-00001", A_01_01_1=10)
    stock(db, "SKU-00002", A_01_02_1=10)
    run(db, settings, order("7001", ("SKU-00001", 1), ("SKU-00002", 1), **fields))
    number = "PO-0000001"
    oid = order_id(db, number)
    who = picker_of(db, number)
    picking.start_order(db, who, oid, "T-0901", batch_size=4, scan=_accepted("T-0901", "tote"),
                        clock=clock)  # fmt: skip
    picked = []
    for line in picking.pick_list(db, who.operator_id):
        picked.append(line.sku)
        picking.pick(db, who, line.task_id, 1, scans_=[_accepted(line.sku, "product")],
                     clock=clock)  # fmt: skip
    packing.open_order(db, PACKER, settings, "T-0901", by="tote",
                       scan=_accepted("T-0901", "tote"), clock=clock)  # fmt: skip
    packing.confirm_address(db, PACKER, oid, clock=clock)
    one, two = packing.view(db, oid).lines
    packing.verify(db, PACKER, oid, one.line_id, 1, scans_=[_accepted(one.sku, "product")],
                   clock=clock)  # fmt: skip
    _ready(db, settings, PACKER, oid, clock)
    first = close_parcel(db, PACKER, settings, oid, more_to_come=True, clock=clock).tracking_no
    packing.verify(db, PACKER, oid, two.line_id, 1, scans_=[_accepted(two.sku, "product")],
                   clock=clock)  # fmt: skip
    _ready(db, settings, PACKER, oid, clock)
    voided = close_parcel(db, PACKER, settings, oid, more_to_come=False, clock=clock).tracking_no
    void_parcel(db, LEAD, voided, "box crushed", clock=clock)
    packing.verify(db, LEAD, oid, two.line_id, 1, scans_=[_accepted(two.sku, "product")],
                   clock=clock)  # fmt: skip
    _ready(db, settings, LEAD, oid, clock)
    repacked = close_parcel(db, LEAD, settings, oid, more_to_come=False, clock=clock).tracking_no
    assert status(db, number) == "packed"
    print_queue.deliver_due(db, settings.printer.name, SpoolBackend("spool", tmp_path),
                            clock=clock, claimed_by="T21")  # fmt: skip
    pickup = handoff.open_pickup(db, LEAD, "POST", clock=clock)
    for tracking in (first, repacked):
        handoff.hand_over_parcel(db, LEAD, pickup.id, tracking,
                                 scan=_accepted(tracking, "parcel"), clock=clock)  # fmt: skip
    handoff.close_pickup(db, LEAD, settings, pickup.id, clock=clock)
    assert status(db, number) == "executed"
    folder = f"file://{tmp_path / 'mail'}"  # the shipped mail sent, into a mail folder
    mail = replace(settings, notify=replace(settings.notify, smtp_url=folder))
    assert len(dispatch_due(db, mail, clock=clock, claimed_by="T23").sent) == 1
    return Walked(number, who, first, voided, repacked, pickup.number, tuple(picked))


def _row(e: Entry) -> tuple[str, str | None, str | None, str]:
    return e.kind, e.operator or e.source, e.terminal, e.what


def test_an_order_walked_to_the_courier_tells_every_step_once_in_order(
    floor, settings, tmp_path
) -> None:
    w = walk(floor, settings, tmp_path)
    timeline = order_timeline(floor, w.number)
    assert (timeline.order, timeline.status) == (w.number, "executed")
    p = w.picker.operator.badge  # type: ignore[union-attr]
    one, void, three, pu = w.first, w.voided, w.repacked, w.pickup
    mail = "huong@example.vn"
    assert [_row(e) for e in timeline.entries] == [
        ("status", None, "T01", "new, unhandled: imported"),
        ("status", None, "T01", f"unhandled → assigned: assigned to {p}"),
        ("message", None, None, f"accepted mail to {mail} queued (message 1) — skipped: the "
         "accepted event is switched off ([notify.events] accepted)"),
        ("scan", p, "T07", "queue: scanned tote T-0901 — accepted"),
        ("status", p, "T07", "assigned → picking: picking into tote T-0901"),
        *(("scan", p, "T07", f"pick: scanned product {sku} — accepted") for sku in w.picked),
        ("status", p, "T07", "picking → picked: every line picked"),
        ("scan", "EMP-0004", "T21", "pack: scanned tote T-0901 — accepted"),
        ("status", "EMP-0004", "T21", "picked → packing: packing at T21"),
        ("scan", "EMP-0004", "T21", "pack: scanned product SKU-00001 — accepted"),
        ("scan", "EMP-0004", "T21", "pack: scanned packaging BOX-S — accepted"),
        ("parcel", "EMP-0004", "T21", f"parcel 1 closed: {one} (POST, BOX-S, 353 g)"),
        ("print", "EMP-0004", "T21", f"label {one} queued for T01"),
        ("scan", "EMP-0004", "T21", "pack: scanned product SKU-00002 — accepted"),
        ("scan", "EMP-0004", "T21", "pack: scanned packaging BOX-S — accepted"),
        ("parcel", "EMP-0004", "T21", f"parcel 2 closed: {void} (POST, BOX-S, 296 g)"),
        ("print", "EMP-0004", "T21", f"label {void} queued for T01 — cancelled: parcel voided "
         "by Lead One: box crushed"),
        ("status", "EMP-0004", "T21", "packing → packed: packed, parcels to lane LANE-1"),
        ("status", "EMP-0001", "T23",
         f"packed → packing: parcel {void} voided: box crushed; to repack"),
        ("scan", "EMP-0001", "T23", "pack: scanned product SKU-00002 — accepted"),
        ("scan", "EMP-0001", "T23", "pack: scanned packaging BOX-S — accepted"),
        ("parcel", "EMP-0001", "T23", f"parcel 3 closed: {three} (POST, BOX-S, 296 g)"),
        ("print", "EMP-0001", "T23", f"label {three} queued for T01"),
        ("status", "EMP-0001", "T23", "packing → packed: packed, parcels to lane LANE-1"),
        ("print", None, "T21", f"label {one} printed on T01"),
        ("print", None, "T21", f"label {three} printed on T01"),
        ("pickup", "EMP-0001", None, f"pickup {pu} opened for POST"),
        ("scan", "EMP-0001", "T23", f"pickup: scanned parcel {one} — accepted"),
        ("parcel", "EMP-0001", "T23", f"parcel 1 {one} handed over to POST on {pu}"),
        ("scan", "EMP-0001", "T23", f"pickup: scanned parcel {three} — accepted"),
        ("parcel", "EMP-0001", "T23", f"parcel 3 {three} handed over to POST on {pu}"),
        ("print", "EMP-0001", "T23", f"manifest {pu} queued for T01 — waiting"),
        ("pickup", "EMP-0001", "T23", f"pickup {pu} closed"),
        ("status", "EMP-0001", "T23", f"packed → executed: handed to POST on {pu}"),
        ("message", None, None, f"shipped mail to {mail} queued (message 2)"),
        ("message", None, None, "shipped shop message to shopify queued (message 3) — "
         "skipped: the shop channel shopify has no fulfilment_url ([channels.shopify])"),
        ("message", None, "T23", f"shipped mail sent to {mail}"),
    ]  # fmt: skip


def test_an_unknown_order_is_named(floor) -> None:
    with pytest.raises(NotFound, match="no order PO-0000042"):
        order_timeline(floor, "PO-0000042")


#: The tables that grow with the floor's history (the few couriers, operators and pickups of a
#: day may be read whole).
BIG = {"orders", "order_events", "scan_journal", "parcels", "print_jobs", "outbox"}


def _whole_reads(node: dict) -> list[str]:
    """The plan's reads of a big table that are not an index lookup: a sequential scan, or an
    index read from end to end (no Index Cond), which PostgreSQL picks for an OR of subqueries."""
    found = []
    if node.get("Relation Name") in BIG and (
        node["Node Type"] == "Seq Scan"
        or (node["Node Type"] in ("Index Scan", "Index Only Scan") and "Index Cond" not in node)
    ):
        found.append(f"{node['Node Type']} on {node['Relation Name']}")
    for child in node.get("Plans", ()):
        found += _whole_reads(child)
    return found


def test_every_source_reads_by_index_never_a_whole_table(floor, settings, tmp_path) -> None:
    """On a floor's history a whole read of the journal or the print jobs takes a second: every
    statement of the timeline finds its rows of the big tables through an index lookup
    (PostgreSQL is told to avoid sequential scans where it can, so its plan on this small
    database shows whether an index lookup could be used)."""
    w = walk(floor, settings, tmp_path)
    statements: list[tuple[str, object]] = []

    def grab(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append((statement, parameters))

    event.listen(floor.engine, "before_cursor_execute", grab)
    try:
        order_timeline(floor, w.number)
    finally:
        event.remove(floor.engine, "before_cursor_execute", grab)
    selects = [(q, p) for q, p in statements if q.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1 + len(SOURCES)  # the order, then one query per source
    with floor.engine.connect() as conn:
        if floor.dialect == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")
        for query, params in selects:
            if floor.dialect == "sqlite":
                plan = [r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + query, params)]
                assert not [step for step in plan if step.startswith("SCAN")], (query, plan)
            else:
                [(found,)] = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + query, params)
                assert _whole_reads(found[0]["Plan"]) == [], query


def test_the_courier_s_events_and_the_cash_it_paid_out_are_in_the_story(floor, settings) -> None:
    from tests.services.test_cod import cod_order, remit, shipped
    from tests.services.tracking.test_events import csv
    from tests.services.tracking.test_events import run as track

    number, [parcel] = cod_order(floor, settings, "2950", "EUR", "45.00")
    shipped(floor, settings, (number, [parcel]))
    track(floor, settings, csv(f"{parcel},in_transit,2026-11-23T08:00:00Z,Kraków,sorted",
                               f"{parcel},delivered,2026-11-23T10:00:00Z,,"))  # fmt: skip
    remit(floor, f"{parcel},45.00,EUR,2026-11-25,R-7\n")
    entries = order_timeline(floor, number).entries
    said = [e.what for e in entries if e.kind == "courier"]
    assert said == [
        f"POST {parcel}: in transit at Kraków (sorted)",
        f"POST {parcel}: delivered",
    ]
    [paid] = [e for e in entries if e.kind == "cod"]
    assert (
        paid.what == f"COD 45.00 EUR settled by POST for {parcel} (remittance R-7, paid 2026-11-25)"
    )
    assert paid.source == "courier-feed@host"
    assert [e.at for e in entries] == sorted(e.at for e in entries)  # in time order, merged
