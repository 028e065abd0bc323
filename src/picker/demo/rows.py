"""The demo floor's rows, generated as plain tuples from a seed.

Catalogue, couriers, people, orders in every status with their events, parcels and pickups,
stock and its ledger.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from faker import Faker

from picker.demo.floor_data import (
    CHUNK,
    COLOURS,
    COURIERS,
    CURRENCY_DIGITS,
    CURRENCY_SCALE,
    DOCK,
    EMPTY_ZONES,
    FACE_MAX,
    FACE_MIN,
    GIFTS,
    GS1_PREFIXES,
    HISTORY_MIN_DAYS,
    HISTORY_PER_DAY,
    HOLDS,
    HOSTILE_NAMES,
    LIVE_ORDERS,
    LOCALE_CUM,
    LOCALE_IDX,
    LOCALES,
    NOTES,
    PACKAGING,
    PACKED_BY,
    PRODUCT_KINDS,
    RESERVE_BINS,
    SIZES,
    STEP_MINUTES,
    UNKNOWN_SHIPPING,
    ZONE_NAMES,
    ZONES,
    DemoOperator,
    Person,
    S,
    live_counts,
    make_people,
)
from picker.domain.ean import with_check_digit
from picker.domain.order_search import order_keys
from picker.domain.pickpath import BinAddress, pick_sequence, walking_order
from picker.domain.pins import hash_pin
from picker.domain.statuses import OrderStatus, order_path
from picker.domain.tracking import Scheme
from picker.domain.validation import fixable_reasons
from picker.store.bulk import money, ts

Progress = Callable[[str, int, int], None]


class Sink(Protocol):
    """Where generated rows go: a :class:`~picker.store.bulk.BulkWriter`, or a queue to the
    process that writes."""

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None: ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...


class RowBuilder:
    def __init__(self, n_orders: int, seed: int, now: datetime, progress: Progress):
        self.n = n_orders
        self.seed = seed
        # Naive UTC inside the builder: cheaper to format a million times.
        self.now = now.astimezone(UTC).replace(tzinfo=None)
        self.rng = random.Random(seed)
        self.progress = progress
        self.products: list[tuple[int, str, str, int]] = []  # id, sku, name, weight
        self.product_bin: dict[int, int] = {}
        self.bin_seq: dict[int, int] = {}
        self.bins: list[tuple[int, str]] = []
        self.reserve_bins: list[tuple[Any, ...]] = []
        self.stock_reserved: dict[int, int] = {}  # product id -> reserved in its primary bin
        self.stock_picked: dict[int, int] = {}  # product id -> picked by live orders
        #: Products orders are held short of: none of their stock is free.
        self.short_products: set[int] = set()
        self.services: list[tuple[int, int, str, str, bool]] = []  # id, courier, code, name, exp
        self.serial: dict[str, int] = {}
        self.operators: list[DemoOperator] = []
        self.pickers: list[int] = []
        self.packers: list[int] = []
        self.lead = 0
        self.n_totes = 0
        self.tote_bindings: list[tuple[int, int, str, str | None]] = []
        self.new_pickups: list[tuple[object, ...]] = []
        self.ids = {
            "line": 0,
            "event": 0,
            "parcel": 0,
            "item": 0,
            "task": 0,
            "pickup": 0,
            "move": 0,
        }
        self.pickups: dict[tuple[int, str], tuple[int, datetime]] = {}
        self.by_status: dict[str, int] = {}

    # --- the fixed part of the floor ------------------------------------------------------

    def catalogue(self, w: Sink) -> None:
        rng = self.rng
        products, barcodes = [], []
        barcode_id = 0
        n = 0
        for kind, low, high, fragile in PRODUCT_KINDS:
            for colour in rng.sample(COLOURS, 4):
                for size in rng.sample(SIZES, 3):
                    n += 1
                    sku = f"SKU-{n:05d}"
                    name = f"{kind} {colour} {size}"
                    weight = rng.randint(low, high)
                    products.append((n, sku, name, weight, fragile, True))
                    self.products.append((n, sku, name, weight))
                    prefix = GS1_PREFIXES[n % len(GS1_PREFIXES)]
                    barcode_id += 1
                    ean = with_check_digit(f"{prefix}{4000 + n % 7:04d}{n:05d}")
                    barcodes.append((barcode_id, n, ean))
                    if rng.random() < 0.15:  # a second supplier's barcode
                        other = GS1_PREFIXES[(n + 3) % len(GS1_PREFIXES)]
                        barcode_id += 1
                        barcodes.append(
                            (barcode_id, n, with_check_digit(f"{other}9{n + 10000:08d}"))
                        )
        w.insert("products", ("id", "sku", "name", "weight_g", "fragile", "active"), products)
        w.insert("product_barcodes", ("id", "product_id", "barcode"), barcodes)

        addresses = [
            BinAddress(zone, aisle, bay, level)
            for zone, aisles, bays, levels in ZONES
            for aisle in range(1, aisles + 1)
            for bay in range(1, bays + 1)
            for level in range(1, levels + 1)
        ]
        bins = []
        for bin_id, a in enumerate(walking_order(addresses), start=1):
            seq = pick_sequence(a)
            bins.append((bin_id, a.code, a.zone, a.aisle, a.bay, a.level, seq, True))
            self.bins.append((bin_id, a.code))
            self.bin_seq[bin_id] = seq
        w.insert(
            "bins", ("id", "code", "zone", "aisle", "bay", "level", "pick_seq", "active"), bins
        )
        # Reserve bins above the pick faces, out of the bins products are given (the primary
        # locations stay as they were); every pick face has replenishment levels.
        zone, aisles, bays, level = RESERVE_BINS
        reserve = [
            BinAddress(zone, aisle, bay, level)
            for aisle in range(1, aisles + 1)
            for bay in range(1, bays + 1)
        ]
        first = len(bins) + 1
        self.reserve_bins = [
            (bin_id, a.code, a.zone, a.aisle, a.bay, a.level, pick_sequence(a), True, "reserve")
            for bin_id, a in enumerate(walking_order(reserve), start=first)
        ]
        w.execute("UPDATE bins SET min_qty = ?, max_qty = ?", (FACE_MIN, FACE_MAX))
        w.insert(
            "bins",
            ("id", "code", "zone", "aisle", "bay", "level", "pick_seq", "active", "role"),
            self.reserve_bins,
        )
        w.insert(
            "zones",
            ("id", "code", "name", "active"),
            [
                (n, zone, ZONE_NAMES[zone], True)
                for n, zone in enumerate([z for z, *_ in ZONES] + list(EMPTY_ZONES), start=1)
            ],
        )
        bin_ids = [b[0] for b in self.bins]
        for pid, *_ in self.products:
            self.product_bin[pid] = bin_ids[(pid * 7) % len(bin_ids)]

    def couriers(self, w: Sink) -> None:
        couriers, services = [], []
        service_id = 0
        for i, c in enumerate(COURIERS, start=1):
            couriers.append(
                (
                    i,
                    c.code,
                    c.name,
                    c.scheme,
                    c.prefix,
                    c.country,
                    c.range_start,
                    c.range_end,
                    0,
                    c.layout,
                    c.lane,
                    True,
                    c.tracking_url,
                )
            )
            for code, name, express in c.services:
                service_id += 1
                services.append(
                    (service_id, i, code, name, express, json.dumps([f"{c.cutoff:%H:%M}"]))
                )
                self.services.append((service_id, i, code, name, express))
        w.insert(
            "couriers",
            (
                "id",
                "code",
                "name",
                "tracking_scheme",
                "tracking_prefix",
                "tracking_country",
                "range_start",
                "range_end",
                "next_number",
                "label_layout",
                "lane",
                "active",
                "tracking_url",
            ),
            couriers,
        )
        w.insert(
            "courier_services", ("id", "courier_id", "code", "name", "express", "cutoffs"), services
        )
        w.insert(
            "packaging_types",
            ("id", "code", "barcode", "name", "tare_g", "length_mm", "width_mm", "height_mm"),
            [(i, *p) for i, p in enumerate(PACKAGING, start=1)],
        )

    def people(self, w: Sink) -> None:
        fake = Faker("pl_PL")
        fake.seed_instance(self.seed)
        plan = [("lead",), ("picker",), ("picker",), ("packer",), ("packer",)]
        ops, roles = [], []
        for i, (role,) in enumerate(plan, start=1):
            badge = f"EMP-{i:04d}"
            pin = f"{self.rng.randint(0, 9999):04d}"
            name = f"{fake.first_name()} {fake.last_name()}"
            self.operators.append(DemoOperator(badge, name, role, pin))
            pin_hash = hash_pin(pin, salt=self.rng.randbytes(16))
            ops.append((i, badge, name, pin_hash, True, 0, ts(self.now)))
            roles.append((i, role))
            if role == "lead":
                self.lead = i
            elif role == "picker":
                self.pickers.append(i)
            else:
                self.packers.append(i)
        # The receiving dock's operator, drawn from a generator of its own: the floor's other
        # random data (orders, stock) stays what it was before the dock existed.
        dock_rng = random.Random(self.seed * 7919 + 23)
        i = len(plan) + 1
        badge, pin = f"EMP-{i:04d}", f"{dock_rng.randint(0, 9999):04d}"
        name = f"{fake.first_name()} {fake.last_name()}"
        self.operators.append(DemoOperator(badge, name, "receiver", pin))
        ops.append((i, badge, name, hash_pin(pin, salt=dock_rng.randbytes(16)), True, 0,
                    ts(self.now)))  # fmt: skip
        roles.append((i, "receiver"))
        w.insert(
            "operators",
            ("id", "badge", "name", "pin_hash", "active", "failed_pins", "created_at"),
            ops,
        )
        w.insert("operator_roles", ("operator_id", "role"), roles)

    # --- orders ---------------------------------------------------------------------------

    def orders(self, w: Sink) -> None:
        live = min(self.n, LIVE_ORDERS)
        history = self.n - live
        pools = make_people(self.seed, 400 if self.n > 1000 else 40)
        counts = live_counts(live, pickers=len(self.pickers), packers=len(self.packers))
        # Further along the floor = placed earlier: the live statuses in reverse floor order.
        # Held orders are the newest: every order that took stock is made before them, so an
        # order held short is short of what the others left.
        progress_rank = [
            S.DELIVERED,
            S.EXECUTED,
            S.PACKED,
            S.PACKING,
            S.PICKED,
            S.PICKING,
            S.ASSIGNED,
            S.CANCELLED,
            S.UNHANDLED,
            S.ON_HOLD,
        ]
        live_statuses = [s for s in progress_rank for _ in range(counts.get(s, 0))]
        self.n_totes = 100 + sum(counts[s] for s in (S.PICKING, S.PICKED, S.PACKING))
        w.insert("totes", ("id", "code"), [(i, f"T-{i:04d}") for i in range(1, self.n_totes + 1)])
        done = 0
        chunk = _Chunk()
        span_days = max(history / HISTORY_PER_DAY, HISTORY_MIN_DAYS)
        start_history = self.now - timedelta(hours=10) - timedelta(days=span_days)
        for i in range(self.n):
            order_id = i + 1
            if i < history:
                placed = start_history + timedelta(days=span_days * i / history)
                age = self.now - placed
                r = self.rng.random()
                if r < 0.03:
                    status = S.CANCELLED
                elif r < 0.05 and age > timedelta(days=3):
                    status = S.RETURNED
                elif age < timedelta(days=2):
                    status = S.EXECUTED
                else:
                    status = S.DELIVERED
            else:
                k = i - history
                status = live_statuses[k]
                placed = self.now - timedelta(hours=10) + timedelta(minutes=k * 540 / max(live, 1))
            self._order(chunk, order_id, placed, status, pools)
            done = order_id
            if len(chunk.orders) >= CHUNK:
                self._flush(w, chunk)
                self.progress("orders", done, self.n)
        self._flush(w, chunk)
        self.progress("orders", done, self.n)
        # Totes were written before their orders existed: bind them now.
        for tote, oid, at, location in self.tote_bindings:
            w.execute(
                "UPDATE totes SET order_id = ?, bound_at = ?, location = ? WHERE id = ?",
                (oid, at, location, tote),
            )

    def _flush(self, w: Sink, chunk: _Chunk) -> None:
        """Write the pickups made since the last flush (parcels refer to them), then the chunk."""
        w.insert(
            "courier_pickups",
            (
                "id",
                "number",
                "courier_id",
                "status",
                "opened_by",
                "opened_at",
                "closed_by",
                "closed_at",
            ),
            self.new_pickups,
        )
        self.new_pickups = []
        chunk.flush(w)

    def _order(
        self, c: _Chunk, oid: int, placed: datetime, status: OrderStatus, pools: list[list[Person]]
    ) -> None:
        rng = self.rng
        self.by_status[status.value] = self.by_status.get(status.value, 0) + 1
        li = rng.choices(LOCALE_IDX, cum_weights=LOCALE_CUM)[0]
        _locale, country, currency, cod_share = LOCALES[li]
        name, email, street, postcode, city, phone = rng.choice(pools[li])
        if rng.random() < 0.002:
            name = rng.choice(HOSTILE_NAMES)
        service_id, courier_id, service_code, _sname, express = rng.choice(self.services)
        courier_code = COURIERS[courier_id - 1].code
        method = f"{courier_code.lower()}_{service_code}"
        known: tuple[int, int] | None = (courier_id, service_id)  # the order's courier, service
        n_lines = rng.choices((1, 2, 3, 4), cum_weights=(55, 80, 92, 100))[0]
        scale = CURRENCY_SCALE[currency]
        digits = CURRENCY_DIGITS[currency]
        total = Decimal(0)
        lines = []
        for ln, prod in enumerate(rng.sample(self.products, n_lines), start=1):
            pid, sku, pname, _weight = prod
            qty = rng.choices((1, 2, 3, 5), cum_weights=(70, 90, 97, 100))[0]
            price = (Decimal(rng.randint(5, 80)) * scale).quantize(Decimal(1).scaleb(-digits))
            if digits:
                price = price - Decimal("0.01")
            total += price * qty
            self.ids["line"] += 1
            lines.append((self.ids["line"], pid, sku, pname, qty, price, ln))
        cod = rng.random() < cod_share
        paid = not cod
        hold: list[str] = []
        path = order_path(status)
        if status is S.ON_HOLD:
            # Held as the floor holds: at intake for what a lead must fix (in the intake's own
            # words), or short at reservation, its first SKU with nothing free (see stock()).
            kind = rng.choice(HOLDS)
            if kind == "short":
                self.short_products.add(lines[0][1])
                hold = [f"short: {lines[0][2]}"]
                path = [S.UNHANDLED, S.ON_HOLD]
            else:
                if kind == "address":
                    postcode = ""
                elif kind == "shipping":
                    method, known, express = UNKNOWN_SHIPPING, None, False
                else:
                    paid = cod = False
                hold = fixable_reasons(
                    skus=[], known_skus={}, name=name, street=street, city=city,
                    postal_code=postcode, country=country, shipping_known=known is not None,
                    shipping_method=method, paid=paid, cod=cod, payment_state="pending",
                )  # fmt: skip
        # Event times: intake a minute after placing, then the floor's pace, squeezed when
        # that pace would run past now (a recent order further along than its age allows).
        t = placed + timedelta(minutes=1)
        steps = [STEP_MINUTES[st] * (0.5 + rng.random()) for st in path]
        room = max((self.now - t).total_seconds() / 60, 0.0)
        squeeze = min(1.0, room / sum(steps)) if sum(steps) else 1.0
        times: dict[OrderStatus, datetime] = {}
        prev: OrderStatus | None = None
        assignee = None
        for st, step in zip(path, steps, strict=True):
            t = min(t + timedelta(minutes=step * squeeze), self.now)  # no float overshoot
            times[st] = t
            operator = None
            reason = ""
            if st is S.UNHANDLED:
                reason = "imported"
            elif st is S.ON_HOLD:
                reason = "; ".join(hold)
            elif st is S.ASSIGNED:
                assignee = self.pickers[oid % len(self.pickers)]
                reason = "auto-assigned"
            elif st in (S.PICKING, S.PICKED):
                operator = assignee
            elif st in (S.PACKING, S.PACKED):
                operator = self.packers[oid % len(self.packers)]
            elif st is S.EXECUTED:
                operator = self.lead
                reason = "handed to courier"
            elif st is S.DELIVERED:
                reason = "courier tracking: delivered"
            elif st is S.CANCELLED:
                operator = self.lead
                reason = "customer cancelled"
            elif st is S.RETURNED:
                operator = self.lead
                reason = "return received"
            self.ids["event"] += 1
            terminal = "T01" if operator is None else f"T{operator:02d}"
            c.events.append(
                (
                    self.ids["event"],
                    oid,
                    ts(t),
                    operator,
                    terminal,
                    prev.value if prev else None,
                    st.value,
                    reason,
                )
            )
            prev = st
        assigned = status in (S.ASSIGNED, S.PICKING, S.PICKED, S.PACKING, S.PACKED)
        c.orders.append(
            (
                oid,
                f"PO-{oid:07d}",
                "shop" if oid % 5 else "marketplace",
                f"{100000 + oid}",
                name,
                email,
                name,
                street,
                None,
                postcode,
                city,
                None,
                country,
                phone,
                method,
                *(known or (None, None)),
                currency,
                money(total),
                money(total) if cod else None,
                paid,
                "paid" if paid else "pending",
                ts(placed),
                10 if express else 0,
                status.value,
                assignee if assigned else None,
                None,
                self.packers[oid % len(self.packers)] if status in PACKED_BY else None,
                json.dumps(hold),
                rng.choice(NOTES) if rng.random() < 0.1 else None,
                rng.choice(GIFTS) if rng.random() < 0.03 else None,
                len(path),
                ts(placed),
                ts(t),
            )
        )
        for lid, pid, sku, pname, qty, price, ln in lines:
            c.lines.append((lid, oid, ln, sku, pid, pname, qty, money(price)))
        c.keys += [
            (kind, key, oid)
            for kind, key in order_keys(shop_order_no=f"{100000 + oid}", customer_name=name,
                                        ship_name=name, email=email, phone=phone)
        ]  # fmt: skip
        self._floor_work(c, oid, status, lines, times, courier_id)

    def _floor_work(
        self,
        c: _Chunk,
        oid: int,
        status: OrderStatus,
        lines: list[tuple[int, int, str, str, int, Decimal, int]],
        times: dict[OrderStatus, datetime],
        courier_id: int,
    ) -> None:
        """Pick tasks, totes, reservations and parcels that the order's status implies."""
        picker = self.pickers[oid % len(self.pickers)]
        # An unhandled order is reserved, waiting for a picker with room.
        if status in (S.UNHANDLED, S.ASSIGNED, S.PICKING, S.PICKED, S.PACKING, S.PACKED):
            tote = None
            if status in (S.PICKING, S.PICKED, S.PACKING):
                tote = len(self.tote_bindings) + 1
                location = None if status is S.PICKING else "packing"
                self.tote_bindings.append((tote, oid, ts(times[S.PICKING]), location))
            ordered = sorted(lines, key=lambda ln: self.bin_seq[self.product_bin[ln[1]]])
            for seq, (lid, pid, _sku, _n, qty, _p, _ln) in enumerate(ordered, start=1):
                if status in (S.UNHANDLED, S.ASSIGNED):
                    picked = 0
                elif status is S.PICKING:
                    picked = qty if seq <= len(ordered) // 2 else 0
                else:
                    picked = qty
                self.stock_reserved[pid] = self.stock_reserved.get(pid, 0) + qty - picked
                if picked:
                    self.stock_picked[pid] = self.stock_picked.get(pid, 0) + picked
                    self.ids["move"] += 1
                    c.moves.append(
                        (
                            self.ids["move"],
                            ts(times[S.PICKING]),
                            pid,
                            self.product_bin[pid],
                            -picked,
                            "pick",
                            picker,
                            f"T{picker:02d}",
                            oid,
                        )
                    )
                self.ids["task"] += 1
                c.tasks.append(
                    (
                        self.ids["task"],
                        oid,
                        lid,
                        pid,
                        self.product_bin[pid],
                        seq,
                        qty,
                        picked,
                        0,
                        tote if status is not S.PACKED else None,
                        picker if status not in (S.UNHANDLED, S.ASSIGNED) else None,
                        ts(times[status]),
                    )
                )
        if status in (S.PACKING, S.PACKED, S.EXECUTED, S.DELIVERED, S.RETURNED):
            packer = self.packers[oid % len(self.packers)]
            split = status is not S.PACKING and len(lines) > 1 and oid % 10 == 0
            groups = [lines[:1], lines[1:]] if split else [lines]
            for seq, group in enumerate(groups, start=1):
                self.ids["parcel"] += 1
                pid_ = self.ids["parcel"]
                weight = sum(self.products[ln[1] - 1][3] * ln[4] for ln in group) + 250
                if status is S.PACKING:
                    c.parcels.append(
                        (
                            pid_,
                            oid,
                            seq,
                            courier_id,
                            "open",
                            None,
                            None,
                            None,
                            packer,
                            None,
                            None,
                            None,
                            None,
                        )
                    )
                    group = group[: max(1, len(group) // 2)]  # half verified so far
                else:
                    tracking = self._tracking(courier_id)
                    closed = ts(times[S.PACKED])
                    pickup = None
                    handed = None
                    state = "closed"
                    if status is not S.PACKED:
                        state = "handed_over"
                        pickup, at = self._pickup(courier_id, times[S.EXECUTED])
                        handed = ts(at)
                    c.parcels.append(
                        (
                            pid_,
                            oid,
                            seq,
                            courier_id,
                            state,
                            tracking,
                            3,
                            weight,
                            packer,
                            packer,
                            closed,
                            pickup,
                            handed,
                        )
                    )
                for ln in group:
                    self.ids["item"] += 1
                    c.items.append((self.ids["item"], pid_, ln[0], ln[4]))

    def _tracking(self, courier_id: int) -> str:
        """The courier's next number, from the same :class:`Scheme` sequence live allocation
        continues (``counters`` stores how many were used here as the courier's next_number)."""
        c = COURIERS[courier_id - 1]
        n = self.serial.get(c.code, 0)
        self.serial[c.code] = n + 1
        return Scheme(c.scheme, c.prefix, c.country, c.range_start, c.range_end).number(n)

    def _pickup(self, courier_id: int, when: datetime) -> tuple[int, datetime]:
        """The day's pickup of a courier, at its cutoff (made on first use)."""
        cutoff = COURIERS[courier_id - 1].cutoff
        day = when.date()
        at = datetime.combine(day, cutoff)
        if at < when:
            at = datetime.combine(day + timedelta(days=1), cutoff)
        if at > self.now:
            at = self.now - timedelta(minutes=1)
        key = (courier_id, at.date().isoformat())
        if key not in self.pickups:
            self.ids["pickup"] += 1
            pid = self.ids["pickup"]
            self.pickups[key] = (pid, at)
            self.new_pickups.append(
                (
                    pid,
                    f"PU-{pid:07d}",
                    courier_id,
                    "closed",
                    self.lead,
                    ts(at - timedelta(minutes=20)),
                    self.lead,
                    ts(at),
                )
            )
        return self.pickups[key]

    # --- what depends on all orders -------------------------------------------------------

    def stock(self, w: Sink) -> None:
        rng = random.Random(self.seed + 1)
        stock, moves = [], []
        receipt_at = ts(self.now - timedelta(days=1))
        sid = 0
        for pid, *_ in self.products:
            bins = [self.product_bin[pid]]
            if rng.random() < 0.3:  # a second location for some products
                bins.append(self.bins[(pid * 13 + 5) % len(self.bins)][0])
            for k, bin_id in enumerate(bins):
                on_hand = rng.randint(8, 120)
                reserved = self.stock_reserved.get(pid, 0) if k == 0 else 0
                on_hand = max(on_hand, reserved)
                if k == 0 and rng.random() < 0.03 and reserved == 0:
                    on_hand = 0  # an empty bin: the shortage flow has something to find
                if pid in self.short_products:
                    on_hand = reserved  # the last units promised: orders held short of it are
                sid += 1
                stock.append((sid, pid, bin_id, on_hand, reserved))
                received = on_hand + (self.stock_picked.get(pid, 0) if k == 0 else 0)
                if received:
                    self.ids["move"] += 1
                    moves.append(
                        (
                            self.ids["move"],
                            receipt_at,
                            pid,
                            bin_id,
                            received,
                            "receipt",
                            None,
                            None,
                            None,
                        )
                    )
        # Reserve stock for a few products, those whose pick face fell below its min first:
        # the demo's replenish plan has moves to make.
        primary = {row[1]: row[3] for row in stock if row[2] == self.product_bin[row[1]]}
        low = [pid for pid, *_ in self.products
               if primary.get(pid, 0) < FACE_MIN and pid not in self.short_products]  # fmt: skip
        rest = [
            pid for pid, *_ in self.products if pid not in low and pid not in self.short_products
        ]
        rng = random.Random(self.seed + 2)
        for (bin_id, *_), pid in zip(self.reserve_bins, low + rest, strict=False):
            sid += 1
            on_hand = rng.randint(40, 120)
            stock.append((sid, pid, bin_id, on_hand, 0))
            self.ids["move"] += 1
            moves.append(
                (self.ids["move"], receipt_at, pid, bin_id, on_hand, "receipt", None, None, None)
            )
        w.insert("stock", ("id", "product_id", "bin_id", "on_hand", "reserved"), stock)
        w.insert("stock_movements", _Chunk.MOVE_COLS, moves)

    def receiving(self, w: Sink) -> None:
        """The receiving dock (``[receiving] dock_bin``'s default), a case of 12 for the first
        product, and two deliveries expected: one by the piece, one with lots and expiry."""
        address = BinAddress(DOCK[0], DOCK[1], DOCK[2], DOCK[3])
        dock_id = len(self.bins) + len(self.reserve_bins) + 1
        w.insert(
            "bins",
            ("id", "code", "zone", "aisle", "bay", "level", "pick_seq", "active", "role"),
            [(dock_id, address.code, address.zone, address.aisle, address.bay, address.level,
              pick_sequence(address), True, "receiving")],
        )  # fmt: skip
        first = self.products[0]
        w.insert(
            "product_packs",
            ("id", "product_id", "barcode", "units"),
            [(1, first[0], with_check_digit("1" + self._ean(first[0])[:12]), 12)],
        )
        tomorrow = (self.now + timedelta(days=1)).date().isoformat()
        later = (self.now + timedelta(days=2)).date().isoformat()
        expiry = (self.now + timedelta(days=400)).date().isoformat()
        created = ts(self.now)
        w.insert(
            "receipts",
            ("id", "reference", "supplier", "expected_at", "status", "created_at", "source",
             "version"),
            [(1, "ASN-2026-0042", "Nordic Textiles", tomorrow, "expected", created, "demo", 1),
             (2, "PO-778812", "Baltic Care Goods", later, "expected", created, "demo", 1)],
        )  # fmt: skip
        sku = {pid: s for pid, s, *_ in self.products}
        lines = [(1, 1, 1, 1, 24, None, None), (2, 1, 2, 2, 6, None, None),
                 (3, 1, 3, 3, 6, None, None), (4, 2, 1, 10, 12, "L2611A", expiry),
                 (5, 2, 2, 11, 8, "L2611B", expiry)]  # fmt: skip
        w.insert(
            "receipt_lines",
            ("id", "receipt_id", "line_no", "product_id", "sku", "expected_qty",
             "received_qty", "lot", "expiry"),
            [(lid, rid, n, pid, sku[pid], qty, 0, lot, exp)
             for lid, rid, n, pid, qty, lot, exp in lines],
        )  # fmt: skip

    def _ean(self, product_id: int) -> str:
        prefix = GS1_PREFIXES[product_id % len(GS1_PREFIXES)]
        return with_check_digit(f"{prefix}{4000 + product_id % 7:04d}{product_id:05d}")

    def counters(self, w: Sink) -> None:
        for code, n in self.serial.items():
            w.execute("UPDATE couriers SET next_number = ? WHERE code = ?", (n, code))


class _Chunk:
    MOVE_COLS = (
        "id",
        "at",
        "product_id",
        "bin_id",
        "delta",
        "reason",
        "operator_id",
        "terminal_id",
        "order_id",
    )

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.orders: list[tuple[object, ...]] = []
        self.lines: list[tuple[object, ...]] = []
        self.events: list[tuple[object, ...]] = []
        self.tasks: list[tuple[object, ...]] = []
        self.parcels: list[tuple[object, ...]] = []
        self.items: list[tuple[object, ...]] = []
        self.moves: list[tuple[object, ...]] = []
        self.keys: list[tuple[object, ...]] = []

    def flush(self, w: Sink) -> None:
        w.insert(
            "orders",
            (
                "id",
                "number",
                "channel",
                "shop_order_no",
                "customer_name",
                "customer_email",
                "ship_name",
                "ship_street",
                "ship_street2",
                "ship_postal_code",
                "ship_city",
                "ship_region",
                "ship_country",
                "ship_phone",
                "shipping_method",
                "courier_id",
                "service_id",
                "currency",
                "total_amount",
                "cod_amount",
                "paid",
                "payment_state",
                "placed_at",
                "priority",
                "status",
                "assignee_id",
                "held_by_terminal",
                "packer_id",
                "hold_reasons",
                "note",
                "gift_message",
                "version",
                "created_at",
                "updated_at",
            ),
            self.orders,
        )
        w.insert(
            "order_lines",
            ("id", "order_id", "line_no", "sku", "product_id", "name", "quantity", "unit_price"),
            self.lines,
        )
        w.insert(
            "order_events",
            (
                "id",
                "order_id",
                "at",
                "operator_id",
                "terminal_id",
                "from_status",
                "to_status",
                "reason",
            ),
            self.events,
        )
        w.insert(
            "pick_tasks",
            (
                "id",
                "order_id",
                "order_line_id",
                "product_id",
                "bin_id",
                "seq",
                "quantity",
                "picked",
                "short",
                "tote_id",
                "picker_id",
                "updated_at",
            ),
            self.tasks,
        )
        w.insert(
            "parcels",
            (
                "id",
                "order_id",
                "seq",
                "courier_id",
                "status",
                "tracking_no",
                "packaging_type_id",
                "weight_g",
                "opened_by",
                "closed_by",
                "closed_at",
                "pickup_id",
                "handed_over_at",
            ),
            self.parcels,
        )
        w.insert("parcel_items", ("id", "parcel_id", "order_line_id", "quantity"), self.items)
        w.insert("stock_movements", self.MOVE_COLS, self.moves)
        w.insert("order_search_keys", ("kind", "key", "order_id"), self.keys)
        self.reset()
