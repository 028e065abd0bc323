"""``picker bench receive``: inbound notices imported, a delivery received and put away at the
receiving station, and bins counted at the counting station, on a big demo floor.

1. **Import.** ``--lines`` notice lines (receipts of :data:`LINES_PER_RECEIPT` lines each) are
   generated from the floor's real SKUs under references unique to the run (so a floor kept
   with ``--reuse`` takes them as new) and imported by the real ``picker inbound import``
   service: lines per second (target ≥ 10,000 on SQLite). Then all but the receipts the
   station receives are cancelled: a dock expects tens of deliveries, not tens of thousands,
   and the station lists what is expected each time it comes back to its start.
2. **Receiving.** A receiver of the run's own opens ``--receipts`` of those receipts (plus one
   to warm up, untimed) by their reference and receives every line as a dock hand would: single
   units by their barcode, a case by its GTIN-14 (the pack size counted), a lot by its GS1-128
   label (GTIN, expiry, lot), many units by one scan and the count keyed after it. Then
   ``CMD-CLOSE`` twice (the first only asks), ``CMD-PUTAWAY``, and each product the receipt
   brought is scanned and put away into the bin the screen suggests.
3. **Counting.** A lead of the run's own plans ``--counts`` counts (the least recently counted
   bins of the floor, plus one to warm up); a picker of the run's own counts each at the
   counting station: the bin, every product the stock says is in it (units keyed after the
   scan), some bins with a deliberate difference of one unit, then ``CMD-EMPTY``. A count that
   differs waits for another operator's recount: the lead makes it through the services (not
   timed), and the stock is adjusted with ``count`` ledger rows.

By default the scans are typed into the real app running headless (a character every 1-3 ms
through the terminal parser, as ``bench returns`` does), each timed from its Enter to its
feedback on the screen. With ``--services`` the service calls are timed instead, call to
answer. Every scan row: median, p99, p99.9, max; target p99 ≤ 50 ms.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from picker.bench.returns import Timings, latency_row
from picker.config import Settings
from picker.domain.ean import with_check_digit
from picker.services.actors import Actor
from picker.store.engine import Database

#: Targets of issue 23.
SCAN_TARGET_MS = 50.0
IMPORT_TARGET_PER_S = 10_000.0
#: Lines of each generated notice, and the kind of each line in turn (every notice has each).
LINE_KINDS = ("unit", "keyed", "case", "gs1", "unit", "keyed", "gs1", "unit")
LINES_PER_RECEIPT = len(LINE_KINDS)
#: Products given a case of :data:`CASE_UNITS` (a GTIN-14 of their own) when they have none.
CASE_PRODUCTS = 60
CASE_UNITS = 12
#: Every how many counted bins (that hold something) the count is one unit off.
DIFFERENCE_EVERY = 4
#: Terminal ids of the run's stations (a held receipt or count of an earlier run is let go).
RECEIVING_TERMINAL = "BENCH-RCV"
COUNTING_TERMINAL = "BENCH-CNT"
LEAD_TERMINAL = "BENCH-LEAD"
PIN = "1357"
#: Scan kinds timed but left out of the rows of all scans: a confirming CMD-CLOSE / CMD-EMPTY
#: (no database call: it would flatter the rest).
_NOT_SCANS = ("confirm",)


# --- the catalogue, the notices -----------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """A product as scanned at the dock: its SKU, the barcode on a unit (None: the SKU is
    scanned), its GTIN-14 (for a GS1-128 label) and its case (barcode, units), if any."""

    sku: str
    barcode: str | None
    gtin14: str | None
    case: tuple[str, int] | None = None

    @property
    def code(self) -> str:
        return self.barcode or self.sku


@dataclass(frozen=True)
class NoticeLine:
    item: Item
    qty: int
    #: unit, keyed, case or gs1 (see :data:`LINE_KINDS`).
    kind: str
    lot: str | None = None
    expiry: date | None = None


@dataclass(frozen=True)
class Notice:
    reference: str
    lines: tuple[NoticeLine, ...]


def floor_items(db: Database) -> list[Item]:
    """The floor's products as the dock scans them (the first barcode of each, its case)."""
    from picker.store.models import Product, ProductBarcode, ProductPack

    with db.read() as s:
        barcodes: dict[int, str] = {}
        for pid, code in s.execute(
            select(ProductBarcode.product_id, ProductBarcode.barcode).order_by(ProductBarcode.id)
        ):
            barcodes.setdefault(pid, code)
        cases: dict[int, tuple[str, int]] = {}
        for pid, code, units in s.execute(
            select(ProductPack.product_id, ProductPack.barcode, ProductPack.units).order_by(
                ProductPack.id
            )
        ):
            cases.setdefault(pid, (code, int(units)))
        rows = s.execute(
            select(Product.id, Product.sku).where(Product.active.is_(True)).order_by(Product.id)
        ).all()
    items = []
    for pid, sku in rows:
        unit = barcodes.get(pid)
        gtin = "0" + unit if unit and unit.isdigit() and len(unit) == 13 else None
        items.append(Item(sku, unit, gtin, cases.get(pid)))
    return items


def give_cases(db: Database, n: int = CASE_PRODUCTS) -> None:
    """The first ``n`` products with a 13-digit barcode get a case of :data:`CASE_UNITS` when
    they have none (what a lead imports with ``pack_sizes``): its GTIN-14 is the unit's EAN with
    indicator digit 2 (the demo's own cases use 1)."""
    from picker.store.models import Product, ProductBarcode, ProductPack

    with db.transaction() as s:
        has_case = select(ProductPack.id).where(ProductPack.product_id == Product.id).exists()
        rows = s.execute(
            select(Product.id, func.min(ProductBarcode.barcode))
            .join(ProductBarcode, ProductBarcode.product_id == Product.id)
            .where(Product.active.is_(True), ~has_case, func.length(ProductBarcode.barcode) == 13)
            .group_by(Product.id)
            .order_by(Product.id)
            .limit(n)
        ).all()
        taken = set(s.scalars(select(ProductPack.barcode)))
        new = []
        for pid, ean in rows:
            code = with_check_digit("2" + ean[:12])
            if code not in taken:
                taken.add(code)
                new.append({"product_id": pid, "barcode": code, "units": CASE_UNITS})
        if new:
            s.execute(insert(ProductPack), new)


def run_tag(db: Database) -> str:
    """A part of this run's references no earlier run used (``K7Q2``-like, from the clock)."""
    from picker.store.models import Receipt

    stamp = int(time.time() * 10)
    while True:
        tag = _base36(stamp)[-6:]
        with db.read() as s:
            used = s.scalar(
                select(func.count())
                .select_from(Receipt)
                .where(Receipt.reference.like(f"ASN-{tag}-%"))
            )
        if not used:
            return tag
        stamp += 1


def _base36(n: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out or "0"


def make_notices(items: Sequence[Item], lines: int, tag: str, seed: int = 23) -> list[Notice]:
    """Notices of :data:`LINES_PER_RECEIPT` lines (the last one shorter) of distinct products,
    ``lines`` lines in all: a case line of a product that has a case, a lot line of one that
    has a GTIN."""
    rng = random.Random(seed)
    with_case = [i for i in items if i.case is not None]
    with_gtin = [i for i in items if i.gtin14 is not None]
    if not with_case or not with_gtin:
        raise RuntimeError("the floor's catalogue has no product with a barcode to receive")
    today = date.today()
    notices = []
    for n in range((lines + LINES_PER_RECEIPT - 1) // LINES_PER_RECEIPT):
        reference = f"ASN-{tag}-{n + 1:06d}"
        count = min(LINES_PER_RECEIPT, lines - n * LINES_PER_RECEIPT)
        used: set[str] = set()
        out = []
        for kind in LINE_KINDS[:count]:
            pool = with_case if kind == "case" else with_gtin if kind == "gs1" else items
            item = rng.choice(pool)
            while item.sku in used:
                item = rng.choice(pool)
            used.add(item.sku)
            if kind == "case":
                assert item.case is not None
                out.append(NoticeLine(item, item.case[1] * rng.randint(1, 2), kind))
            elif kind == "gs1":
                expiry = _month_end(today + timedelta(days=rng.randint(200, 900)))
                lot = f"L{tag}{n % 1000:03d}{len(out)}"
                out.append(NoticeLine(item, rng.randint(1, 2), kind, lot, expiry))
            elif kind == "keyed":
                out.append(NoticeLine(item, rng.randint(6, 48), kind))
            else:
                out.append(NoticeLine(item, rng.randint(1, 3), kind))
        notices.append(Notice(reference, tuple(out)))
    return notices


def _month_end(day: date) -> date:
    first_next = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first_next - timedelta(days=1)


def notices_csv(notices: Sequence[Notice], supplier: str = "Bench Supplies") -> bytes:
    """The notices as the file ``picker inbound import`` reads."""
    expected = (date.today() + timedelta(days=1)).isoformat()
    rows = ["reference,supplier,expected_at,sku,qty,lot,expiry"]
    for notice in notices:
        for ln in notice.lines:
            expiry = ln.expiry.isoformat() if ln.expiry else ""
            rows.append(
                f"{notice.reference},{supplier},{expected},{ln.item.sku},{ln.qty},"
                f"{ln.lot or ''},{expiry}"
            )
    return ("\n".join(rows) + "\n").encode()


@dataclass(frozen=True)
class Scan:
    """One scan of a delivery as typed at the dock, and the service call it stands for."""

    kind: str
    text: str
    call: Callable[[Database, Actor, str, dict[str, Any]], Any]


def receiving_scans(line: NoticeLine) -> list[Scan]:
    """The scans that receive ``line`` whole."""
    from picker.services import inbound

    item = line.item
    if line.kind == "case":
        assert item.case is not None
        code, units = item.case
        return [Scan("case", code, lambda db, a, ref, kw: inbound.receive(db, a, ref, code, **kw))
                for _ in range(line.qty // units)]  # fmt: skip
    if line.kind == "gs1":
        assert item.gtin14 is not None and line.expiry is not None
        gtin, lot, expiry = item.gtin14, line.lot, line.expiry
        label = f"]C101{gtin}17{expiry:%y%m%d}10{lot}"
        return [
            Scan("gs1", label, lambda db, a, ref, kw: inbound.receive(
                db, a, ref, gtin, lot=lot, expiry=expiry, **kw))
            for _ in range(line.qty)
        ]  # fmt: skip
    unit = Scan("unit", item.code, lambda db, a, ref, kw: inbound.receive(db, a, ref, item.code,
                                                                          **kw))  # fmt: skip
    if line.kind == "keyed":
        qty = line.qty
        keyed = Scan("keyed", str(qty),
                     lambda db, a, ref, kw: inbound.key_count(db, a, ref, qty, **kw))  # fmt: skip
        return [unit, keyed]
    return [unit] * line.qty


# --- counting ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BinCount:
    """A planned count and what its counter scans: per product the code and the units keyed
    (one off the stock for a deliberate difference)."""

    number: str
    bin: str
    products: tuple[tuple[str, int], ...]
    difference: bool


def plan_bin_counts(db: Database, lead: Actor, n: int, *, settings: Settings) -> list[BinCount]:
    """``n`` counts planned by the lead (the least recently counted bins), each with what the
    stock says its bin holds; every :data:`DIFFERENCE_EVERY`-th bin that holds something is
    counted one unit off (more, or one less when that leaves a unit)."""
    from picker.services import counts
    from picker.store.models import Bin, Product, ProductBarcode, Stock

    planned = counts.plan_counts(db, lead, bins=n)
    out = []
    filled = 0
    with db.read() as s:
        for task in planned:
            rows = s.execute(
                select(Product.id, Product.sku, Stock.on_hand)
                .join(Stock, Stock.product_id == Product.id)
                .join(Bin, Bin.id == Stock.bin_id)
                .where(Bin.code == task.bin, Stock.on_hand > 0)
                .order_by(Product.id)
            ).all()
            products = []
            for pid, sku, on_hand in rows:
                code = s.scalar(
                    select(ProductBarcode.barcode)
                    .where(ProductBarcode.product_id == pid)
                    .order_by(ProductBarcode.id)
                    .limit(1)
                )
                products.append((code or sku, int(on_hand)))
            differ = bool(products) and filled % DIFFERENCE_EVERY == DIFFERENCE_EVERY - 1
            filled += bool(products)
            if differ:
                code, units = products[0]
                products[0] = (code, units + 1 if filled % 2 or units < 2 else units - 1)
            out.append(BinCount(task.number, task.bin, tuple(products), differ))
    return out


# --- the run ------------------------------------------------------------------------------------


@dataclass
class ReceiveRun:
    timings: Timings = field(default_factory=Timings)
    receipts_closed: int = 0
    clean_closes: int = 0
    units_received: int = 0
    units_put_away: int = 0
    no_suggestion: int = 0
    counts_done: int = 0
    counts_recount: int = 0
    refused: list[str] = field(default_factory=list)
    split: list[str] = field(default_factory=list)
    #: Counts that differed (to be recounted by another operator): number → its scans.
    recounts: list[BinCount] = field(default_factory=list)


def _fallback_bin(db: Database, code: str) -> str:
    """Where a product goes when nothing is suggested: the first pick or reserve bin holding
    it, else the first active reserve bin."""
    from picker.store.models import Bin, Product, ProductBarcode, Stock

    with db.read() as s:
        pid = s.scalar(
            select(ProductBarcode.product_id).where(ProductBarcode.barcode == code)
        ) or s.scalar(select(Product.id).where(Product.sku == code))
        found = s.scalar(
            select(Bin.code)
            .join(Stock, Stock.bin_id == Bin.id)
            .where(Stock.product_id == pid, Bin.role.in_(("pick", "reserve")),
                   Bin.active.is_(True))
            .order_by(Bin.pick_seq)
            .limit(1)
        ) or s.scalar(
            select(Bin.code).where(Bin.role == "reserve", Bin.active.is_(True)).limit(1)
        )  # fmt: skip
    if found is None:
        raise RuntimeError(f"no bin to put {code} away in")
    return str(found)


def _put_away_codes(notice: Notice) -> list[str]:
    """The products a receipt brought, each scanned once at put-away (by its unit code)."""
    return list(dict.fromkeys(ln.item.code for ln in notice.lines))


class _Timer:
    """A service call timed, call to answer (while ``on``); a refusal noted, None returned."""

    def __init__(self, run: ReceiveRun) -> None:
        self.run, self.on = run, False

    def __call__(
        self, kind: str, what: str, call: Callable[..., Any], *args: Any, **kw: Any
    ) -> Any:
        from picker.services.errors import ServiceError

        started = time.perf_counter()
        try:
            return call(*args, **kw)
        except ServiceError as exc:
            self.run.refused.append(f"{what}: {exc}")
            return None
        finally:
            if self.on:
                self.run.timings.add(kind, (time.perf_counter() - started) * 1000)


def receive_by_services(
    db: Database,
    settings: Settings,
    receiver: Actor,
    notices: Sequence[Notice],
    run: ReceiveRun,
    progress: Callable[[int, int], None],
    *,
    warm: int,
) -> None:
    """Each notice received, closed and put away by the dock's service calls, timed call to
    answer (the first ``warm`` not timed)."""
    from picker.services import inbound
    from picker.services.actors import system_clock

    kw: dict[str, Any] = {"settings": settings, "clock": system_clock}
    timed = _Timer(run)
    for i, notice in enumerate(notices):
        timed.on = timed_now = i >= warm
        ref = notice.reference
        if timed("open", ref, inbound.open_receipt, db, receiver, ref, **kw) is None:
            continue
        ok = True
        for line in notice.lines:
            for scan in receiving_scans(line):
                got = timed(scan.kind, f"{ref} {scan.text}", scan.call, db, receiver, ref, kw)
                if got is None:
                    ok = False
                    break
                run.units_received += got.added * timed_now
            if not ok:
                break
        closed = timed("close", f"close {ref}", inbound.close_receipt, db, receiver, ref, **kw)
        if closed is not None and timed_now:
            run.receipts_closed += 1
            run.clean_closes += closed.clean
        for code in _put_away_codes(notice):
            found = timed("put_item", code, inbound.suggest_bin, db, code, settings=settings)
            if found is None:
                continue
            where = found.bin
            if where is None:
                run.no_suggestion += timed_now
                where = _fallback_bin(db, code)
            done = timed("put_bin", f"{code} → {where}", inbound.put_away, db, receiver, code,
                         where, **kw)  # fmt: skip
            if done is not None:
                run.units_put_away += done.units * timed_now
        progress(max(0, i + 1 - warm), len(notices) - warm)


def count_by_services(
    db: Database,
    settings: Settings,
    counter: Actor,
    bins: Sequence[BinCount],
    run: ReceiveRun,
    progress: Callable[[int, int], None],
    *,
    warm: int,
) -> None:
    """Each bin counted by the counting services, timed call to answer."""
    from picker.services import counts
    from picker.services.actors import system_clock

    kw: dict[str, Any] = {"settings": settings, "clock": system_clock}
    timed = _Timer(run)
    for i, planned in enumerate(bins):
        timed.on = timed_now = i >= warm
        number = planned.number
        view = timed("bin", planned.bin, counts.start_count, db, counter, planned.bin, **kw)
        if view is None:
            continue
        ok = True
        for code, units in planned.products:
            ok = timed("item", code, counts.count_item, db, counter, number, code, **kw) is not None
            if ok and units != 1:
                keyed = timed("keyed", f"{code} {units}", counts.key_count, db, counter, number,
                              units, **kw)  # fmt: skip
                ok = keyed is not None
            if not ok:
                break
        if not ok:
            continue
        result = timed("empty", f"{planned.bin} CMD-EMPTY", counts.confirm_empty, db, counter,
                       number, **kw)  # fmt: skip
        _counted(run, planned, result, timed_now)
        progress(max(0, i + 1 - warm), len(bins) - warm)


def _counted(run: ReceiveRun, planned: BinCount, result: Any, timed_now: bool) -> None:
    if result is None:
        return
    if result.status == "recount":
        run.recounts.append(planned)
        run.counts_recount += timed_now
    elif result.status == "done":
        run.counts_done += timed_now
    else:
        run.refused.append(f"{planned.number} {planned.bin}: {result.words}")


def recount(
    db: Database, settings: Settings, lead: Actor, bins: Sequence[BinCount]
) -> tuple[int, list[str]]:
    """The recounts another operator must make, made by the lead through the services with the
    same counts: the difference confirmed, the stock adjusted. (Adjusted, refusals.)"""
    from picker.services import counts
    from picker.services.actors import system_clock
    from picker.services.errors import ServiceError

    kw: dict[str, Any] = {"settings": settings, "clock": system_clock}
    adjusted = 0
    refused = []
    for planned in bins:
        try:
            counts.start_count(db, lead, planned.bin, **kw)
            for code, units in planned.products:
                counts.count_item(db, lead, planned.number, code, **kw)
                if units != 1:
                    counts.key_count(db, lead, planned.number, units, **kw)
            result = counts.confirm_empty(db, lead, planned.number, **kw)
        except ServiceError as exc:
            refused.append(f"recount {planned.number} {planned.bin}: {exc}")
            continue
        adjusted += result.adjusted
        if result.status not in ("done", "approval"):
            refused.append(f"recount {planned.number}: {result.words}")
    return adjusted, refused


async def receive_by_app(
    app: Any,
    *,
    badge: str,
    notices: Sequence[Notice],
    run: ReceiveRun,
    progress: Callable[[int, int], None],
    warm: int,
) -> None:
    """Log in at the receiving station of the headless app; receive, close and put away each
    notice by scans, each timed from its Enter to its feedback shown."""
    import asyncio

    from picker.bench.terminal import TimedScans, open_station
    from picker.tui.screens.receiving import ReceivingScreen

    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_station(app, pilot, badge, PIN, ReceivingScreen)
        timed = TimedScans(app)
        counted = False

        async def scan(code: str, kind: str) -> bool:
            incoming = await timed.scan(code)
            if counted:
                run.timings.add(kind, timed.ms[-1])
            if incoming.raw != code:
                run.split.append(f"{code!r} arrived as {incoming.raw!r}")
            if screen.feedback.kind == "error":
                run.refused.append(f"{code!r}: {screen.feedback.message}")
                return False
            return True

        for i, notice in enumerate(notices):
            counted = i >= warm
            if not await scan(notice.reference, "open") or screen.view is None:
                continue
            before = screen.view.received_units
            ok = True
            for line in notice.lines:
                for step in receiving_scans(line):
                    if not await scan(step.text, step.kind):
                        ok = False
                        break
                if not ok:
                    break
            if screen.view is not None:
                run.units_received += (screen.view.received_units - before) * counted
            closed = await scan("CMD-CLOSE", "confirm") and await scan("CMD-CLOSE", "close")
            if closed and screen.view is None and screen.closed is not None and counted:
                run.receipts_closed += 1
                run.clean_closes += screen.closed.clean
            while screen.view is not None:  # refused mid-way: park it, go on with the next
                await pilot.press("escape")
                await pilot.pause()
            if await scan("CMD-PUTAWAY", "putaway") and screen.mode == "putaway":
                for code in _put_away_codes(notice):
                    if not await scan(code, "put_item") or screen.suggestion is None:
                        continue
                    units = screen.suggestion.units
                    where = screen.suggestion.bin
                    if where is None:
                        run.no_suggestion += counted
                        where = await asyncio.to_thread(_fallback_bin, app.db, code)
                    if await scan(where, "put_bin"):
                        run.units_put_away += units * counted
                while screen.mode != "idle":
                    await pilot.press("escape")
                    await pilot.pause()
            await asyncio.sleep(0.005)
            progress(max(0, i + 1 - warm), len(notices) - warm)


async def count_by_app(
    app: Any,
    *,
    badge: str,
    bins: Sequence[BinCount],
    run: ReceiveRun,
    progress: Callable[[int, int], None],
    warm: int,
) -> None:
    """Log in at the counting station of the headless app and count each bin by scans."""
    import asyncio

    from picker.bench.terminal import TimedScans, open_station, type_like_a_terminal
    from picker.tui.screens.counting import CountingScreen

    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_station(app, pilot, badge, PIN, CountingScreen)
        timed = TimedScans(app)
        counted = False

        async def scan(code: str, kind: str) -> bool:
            incoming = await timed.scan(code)
            if counted:
                run.timings.add(kind, timed.ms[-1])
            if incoming.raw != code:
                run.split.append(f"{code!r} arrived as {incoming.raw!r}")
            if screen.feedback.kind == "error":
                run.refused.append(f"{code!r}: {screen.feedback.message}")
                return False
            return True

        async def key(units: int) -> bool:
            """A count keyed after a scan: a number too short for a scan burst (the app's
            ``capture.min_length``) goes, as a person's typing, to the count field the screen
            shows; timed from its Enter until the screen has the new count (or says no)."""
            text = str(units)
            if len(text) >= app.capture.min_length:
                return await scan(text, "keyed")
            before = screen.view
            thread, enters = type_like_a_terminal(app, text + "\r")
            await asyncio.to_thread(thread.join)
            deadline = time.monotonic() + 10
            while screen.view is before and screen.feedback.kind != "error":
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the count {text} keyed at {planned.bin} was not taken")
                await asyncio.sleep(0.0005)
            if counted:
                run.timings.add("keyed", (time.monotonic() - enters[-1]) * 1000)
            if screen.feedback.kind == "error":
                run.refused.append(f"{text} keyed: {screen.feedback.message}")
                return False
            return True

        for i, planned in enumerate(bins):
            counted = i >= warm
            if not await scan(planned.bin, "bin") or screen.view is None:
                continue
            ok = True
            for code, units in planned.products:
                ok = await scan(code, "item")
                if ok and units != 1:
                    ok = await key(units)
                if not ok:
                    break
            if ok and not planned.products:
                ok = await scan("CMD-EMPTY", "confirm")  # nothing scanned: "is it empty?"
            if ok and await scan("CMD-EMPTY", "empty") and screen.view is None:
                _counted(run, planned, screen.result, counted)
            await asyncio.sleep(0.005)
            progress(max(0, i + 1 - warm), len(bins) - warm)
        if screen.view is not None:  # stopped mid-count: leave it held, say so below
            run.refused.append(f"{screen.view.number} left open at {COUNTING_TERMINAL}")


# --- the report -----------------------------------------------------------------------------------


def _let_go(db: Database, settings: Settings, lead: Actor) -> None:
    """A receipt or count an earlier run left held at the run's terminals (it died mid-way)
    is parked or cancelled, so the stations open at their prompt."""
    from picker.services import counts, inbound

    held = inbound.held_receipt(db, RECEIVING_TERMINAL)
    if held is not None:
        inbound.park(db, Actor(RECEIVING_TERMINAL, lead.operator), held.reference)
    count = counts.held_count(db, COUNTING_TERMINAL)
    if count is not None:
        counts.cancel(db, lead, count.number, settings=settings)


def _set_aside(db: Database, keep: Sequence[str]) -> None:
    """The import's other notices (and those of earlier runs) cancelled: a dock expects tens
    of deliveries, not the tens of thousands the import was timed with, and the station lists
    what is expected on every return to it."""
    from sqlalchemy import update

    from picker.store.models import Receipt

    with db.transaction() as s:
        s.execute(
            update(Receipt)
            .where(Receipt.status == "expected", Receipt.source == "bench-notices.csv",
                   Receipt.reference.not_in(list(keep)))
            .values(status="cancelled")
        )  # fmt: skip


def _station_app(settings: Settings, db: Database, terminal: str, station: str) -> Any:
    import dataclasses

    from picker.tui.app import make_app

    return make_app(
        dataclasses.replace(
            settings,
            terminal=dataclasses.replace(settings.terminal, id=terminal, station=station),
        ),
        db,
    )


def _rows(prefix: str, t: Timings, kinds: Sequence[str]) -> dict[str, Any]:
    """The row of all the station's scans, and one per kind made (``--services`` has no
    CMD-PUTAWAY: it is the screen's own)."""
    scans = [ms for kind in kinds for ms in t.by_kind.get(kind, [])]
    return {
        f"{prefix}_scans": latency_row(scans, SCAN_TARGET_MS),
        **{f"{prefix}_{kind}": latency_row(t.by_kind[kind], SCAN_TARGET_MS)
           for kind in kinds if t.by_kind.get(kind)},
    }  # fmt: skip


RECEIVING_KINDS = ("open", "unit", "case", "gs1", "keyed", "close", "putaway", "put_item",
                   "put_bin")  # fmt: skip
COUNTING_KINDS = ("bin", "item", "keyed", "empty")


def receive_metrics(
    args: Any, settings: Settings, db: Database, progress: Any
) -> tuple[int, dict[str, Any]]:
    """``picker bench receive``'s table: the demo floor, the run's receiver, picker and lead,
    the import, the receiving station, the counting station."""
    import asyncio

    from picker.bench.drivers import bench_operator, settle
    from picker.bench.runs import _demo_floor, metric
    from picker.services import inbound

    held = _demo_floor(args, db, progress)
    lead_info = bench_operator(db, 91, "Bench Receive Lead", "lead")
    receiver_info = bench_operator(db, 92, "Bench Receiver", "receiver")
    counter_info = bench_operator(db, 93, "Bench Counter", "picker")
    lead = Actor(LEAD_TERMINAL, lead_info)
    _let_go(db, settings, lead)
    give_cases(db)
    items = floor_items(db)
    # 1. The import.
    notices = make_notices(items, max(args.lines, args.receipts + 1), run_tag(db))
    data = notices_csv(notices)
    lines = sum(len(n.lines) for n in notices)
    started = time.perf_counter()
    report = inbound.import_notices(
        db, lead, data, "bench-notices.csv",
        progress=lambda done, total: progress("import", done, total),
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if report.problems:
        raise RuntimeError(f"the import refused its own file: {report.problems[0]}")
    # 2. Receiving: one notice to warm up, then --receipts timed.
    station = notices[: args.receipts + 1]
    _set_aside(db, [n.reference for n in station])
    settle(db)
    via_app = not args.services
    run = ReceiveRun()
    if via_app:
        app = _station_app(settings, db, RECEIVING_TERMINAL, "receiving")
        asyncio.run(receive_by_app(
            app, badge=receiver_info.badge, notices=station, run=run, warm=1,
            progress=lambda done, total: progress("receiving", done, total),
        ))  # fmt: skip
    else:
        receive_by_services(
            db, settings, Actor(RECEIVING_TERMINAL, receiver_info), station, run,
            lambda done, total: progress("receiving", done, total), warm=1,
        )  # fmt: skip
    # 3. Counting: one bin to warm up, then --counts timed.
    bins = plan_bin_counts(db, lead, args.counts + 1, settings=settings)
    counting = ReceiveRun()  # its own timings: a keyed count here is not one at the dock
    settle(db)
    if via_app:
        app = _station_app(settings, db, COUNTING_TERMINAL, "counting")
        asyncio.run(count_by_app(
            app, badge=counter_info.badge, bins=bins, run=counting, warm=1,
            progress=lambda done, total: progress("counting", done, total),
        ))  # fmt: skip
    else:
        count_by_services(
            db, settings, Actor(COUNTING_TERMINAL, counter_info), bins, counting,
            lambda done, total: progress("counting", done, total), warm=1,
        )  # fmt: skip
    adjusted, refused = recount(db, settings, lead, counting.recounts)
    run.refused.extend(counting.refused + refused)
    run.split.extend(counting.split)
    on_sqlite = db.dialect == "sqlite"
    metrics: dict[str, Any] = {
        "import_lines_s": metric(round(lines / seconds) if seconds else 0, "per_s",
                                 IMPORT_TARGET_PER_S if on_sqlite else None, higher=True),
        "import_time": metric(round(seconds, 2), "s"),
        "imported_lines": metric(report.counts.get("lines", 0), "lines", lines, higher=True),
        **_rows("receiving", run.timings, RECEIVING_KINDS),
        "receipts_closed": metric(run.receipts_closed, "receipts", args.receipts, higher=True),
        "clean_closes": metric(run.clean_closes, "receipts", args.receipts, higher=True),
        "units_received": metric(run.units_received, "units"),
        "units_put_away": metric(run.units_put_away, "units", run.units_received, higher=True),
        "no_suggestion": metric(run.no_suggestion, "items"),
        **_rows("counting", counting.timings, COUNTING_KINDS),
        "counts_closed": metric(counting.counts_done + counting.counts_recount, "counts",
                                args.counts, higher=True),
        "counts_to_recount": metric(counting.counts_recount, "counts"),
        "counts_adjusted": metric(adjusted, "counts", len(counting.recounts), higher=True),
        "refused": metric(len(run.refused), "scans", 0),
        "scans_not_whole": metric(len(run.split), "scans", 0),
        "headless_app": metric(int(via_app), "yes=1"),
    }  # fmt: skip
    for line in run.split[:10]:
        print(f"not whole: {line}", file=sys.stderr)
    for line in run.refused[:10]:
        print(f"refused: {line}", file=sys.stderr)
    return held, metrics
