"""Setting a floor up from a file: ``picker setup apply`` and ``picker setup export``.

:func:`apply_setup` makes the database match a :class:`~picker.domain.floor_setup.FloorSpec` in
one transaction: what is new is added, what differs is changed, what the file no longer names is
retired (``active`` false, never deleted: parcels, orders and scans point at it). Anything that
would break live work is refused in words (a courier whose lane holds parcels, a tote that carries
an order, a service with orders on the floor) and then nothing at all changes. A dry run goes the
same way to the end and rolls back, so it reports exactly what a real run would do.

Applying the same file twice changes nothing the second time, and :func:`export_setup` gives back
the file that describes the floor as it is: export → apply is a round trip.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from picker.domain.cutoffs import cutoff_text, parse_cutoffs
from picker.domain.floor_setup import (
    CourierSpec,
    FloorSpec,
    PackagingSpec,
    ServiceSpec,
    TrackingSpec,
    ZoneSpec,
    compress_codes,
)
from picker.domain.statuses import ORDER_FINISHED_VALUES, ParcelStatus
from picker.domain.text import plural, waiting
from picker.domain.tracking import Scheme, TrackingError
from picker.services.actors import Actor, allow
from picker.services.errors import ServiceError
from picker.services.printjobs.tracking_numbers import scheme_of
from picker.store.engine import Database
from picker.store.models import (
    Bin,
    Courier,
    CourierPickup,
    CourierService,
    Order,
    PackagingType,
    Parcel,
    SetupLog,
    Tote,
    Zone,
)

#: An order in one of these is done with the floor: its courier or service may retire.
_DONE = ORDER_FINISHED_VALUES


def _on_floor(orders: int) -> str:
    """ "1 order on the floor goes", "2 orders on the floor go"."""
    return f"{plural(orders, 'order')} on the floor {'goes' if orders == 1 else 'go'}"


#: How many of a kind a refusal names before it says "and N more".
_NAMED = 5


class SetupRefused(ServiceError):
    """The file would break live work: every reason, one per line; nothing was changed."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class Change:
    """One line of what applying does: ``add courier POST``, ``retire tote T-0007``…"""

    verb: str  # "add" | "change" | "retire" | "bring back"
    what: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.verb} {self.what}" + (f": {self.detail}" if self.detail else "")


@dataclass
class SetupReport:
    changes: list[Change] = field(default_factory=list)
    #: Not refusals: things the floor will meet (a shop shipping method mapped to no service).
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def applied(self) -> bool:
        return bool(self.changes) and not self.dry_run


class _DryRun(Exception):
    """Rolls a dry run's transaction back, carrying its report out."""

    def __init__(self, report: SetupReport) -> None:
        self.report = report


def apply_setup(
    db: Database,
    actor: Actor,
    spec: FloorSpec,
    *,
    shipping: Mapping[str, tuple[str, str]] | None = None,
    dry_run: bool = False,
) -> SetupReport:
    """Make the floor match ``spec`` (see the module's docstring). Who ran it (an operator's
    badge, or a data feed's ``user@host``) goes into the set-up log with the changes.
    ``shipping`` ([shipping.methods]) is checked against the services there will be. Raises
    :class:`SetupRefused` (nothing changed) for anything that would break live work."""
    allow(actor, "setup.apply_setup")

    def work(s: Session) -> SetupReport:
        plan = _Plan(s)
        if spec.zones is not None:
            plan.zones(spec.zones)
        if spec.couriers is not None:
            plan.couriers(spec.couriers)
        if spec.packaging is not None:
            plan.packaging(spec.packaging)
        if spec.totes is not None:
            plan.totes(spec.totes)
        if plan.refusals:
            raise SetupRefused(plan.refusals)
        s.flush()
        report = SetupReport(plan.changes, _shipping_warnings(s, shipping or {}), dry_run)
        if dry_run:
            raise _DryRun(report)
        if report.changes:
            summary = "\n".join(str(c) for c in report.changes)
            s.add(SetupLog(source=_who(actor)[:64], summary=summary))
        return report

    try:
        return db.run(work)
    except _DryRun as done:
        return done.report


class _Plan:
    """The changes, made in the session as they are found; refusals collected, not raised, so
    one run names every reason."""

    def __init__(self, s: Session) -> None:
        self.s = s
        self.changes: list[Change] = []
        self.refusals: list[str] = []
        #: Lanes as they were before this run parked them on placeholders.
        self._lanes_before: dict[int, str] = {}

    # --- zones -------------------------------------------------------------------------------

    def zones(self, specs: Sequence[ZoneSpec]) -> None:
        s = self.s
        rows = {z.code: z for z in s.scalars(select(Zone).with_for_update())}
        for spec in specs:
            row = rows.get(spec.code)
            if row is None:
                s.add(Zone(code=spec.code, name=spec.name, active=True))
                self.changes.append(Change("add", f"zone {spec.code}", spec.name))
                continue
            diff = _diff(("name", row.name, spec.name))
            if not row.active:
                row.active = True
                self.changes.append(Change("bring back", f"zone {spec.code}", diff))
            elif diff:
                self.changes.append(Change("change", f"zone {spec.code}", diff))
            row.name = spec.name
        wanted = {z.code for z in specs}
        for row in rows.values():
            if row.active and row.code not in wanted:
                bins = s.scalar(
                    select(func.count()).where(Bin.zone == row.code, Bin.active.is_(True))
                )
                if bins:
                    self.refusals.append(
                        f"zone {row.code} cannot retire: {plural(bins, 'active bin')} "
                        f"{'is' if bins == 1 else 'are'} in it "
                        "(move their stock and retire them first, or keep the zone)"
                    )
                    continue
                row.active = False
                self.changes.append(Change("retire", f"zone {row.code}"))

    # --- couriers ----------------------------------------------------------------------------

    def couriers(self, specs: Sequence[CourierSpec]) -> None:
        s = self.s
        rows = {c.code: c for c in s.scalars(select(Courier).with_for_update())}
        wanted = {c.code: c for c in specs}
        waits = self._waiting_by_courier()
        on_floor = dict(
            s.execute(
                select(Order.courier_id, func.count())
                .where(Order.courier_id.is_not(None), Order.status.not_in(_DONE))
                .group_by(Order.courier_id)
            ).all()
        )
        # Lanes are unique: every lane that moves is parked on a placeholder first, so two
        # couriers may swap lanes and a new courier may take a retired one's.
        lane_of = {c.lane: c.code for c in specs}
        moving = [
            row
            for row in rows.values()
            if (row.code in wanted and wanted[row.code].lane != row.lane)
            or (row.code not in wanted and lane_of.get(row.lane, row.code) != row.code)
        ]
        blocked = [
            f"courier {row.code} cannot move from {row.lane} to {wanted[row.code].lane}: "
            f"{waiting(waits[row.id], 'parcel')} in {row.lane} (hand "
            f"{'it' if waits[row.id] == 1 else 'them'} over first)"
            for row in moving
            if row.code in wanted and row.active and waits.get(row.id)
        ]
        if blocked:
            self.refusals.extend(blocked)
            return
        self._lanes_before = {row.id: row.lane for row in moving}
        for row in moving:
            row.lane = f"~{row.id}"
        s.flush()
        for spec in specs:
            existing = rows.get(spec.code)
            if existing is None:
                self._add_courier(spec)
            else:
                self._change_courier(existing, spec)
        for row in rows.values():
            if row.code in wanted or not row.active:
                continue
            blocking = []
            if waits.get(row.id):
                blocking.append(f"{waiting(waits[row.id], 'parcel')} in its lane")
            pickup = s.scalar(
                select(CourierPickup.number).where(
                    CourierPickup.courier_id == row.id, CourierPickup.status == "open"
                )
            )
            if pickup:
                blocking.append(f"pickup {pickup} is open")
            if on_floor.get(row.id):
                blocking.append(f"{_on_floor(on_floor[row.id])} with it")
            if blocking:
                self.refusals.append(f"courier {row.code} cannot retire: {'; '.join(blocking)}")
                continue
            row.active = False
            s.execute(
                update(CourierService)
                .where(CourierService.courier_id == row.id)
                .values(active=False)
            )
            self.changes.append(Change("retire", f"courier {row.code}", row.name))

    def _given_again(self, scheme: Scheme) -> str | None:
        """A tracking number a parcel already carries that ``scheme``'s block would hand out
        again (a duplicate would stop every close of that courier), or None. Set-up is rare:
        the parcels of the block's prefix are read and checked one by one."""
        numbers = self.s.scalars(
            select(Parcel.tracking_no).where(Parcel.tracking_no.like(f"{scheme.prefix}%"))
        )
        return next((n for n in numbers if n is not None and scheme.covers(n)), None)

    def _add_courier(self, spec: CourierSpec) -> None:
        t = spec.tracking
        given = self._given_again(t.as_scheme())
        if given is not None:
            self.refusals.append(
                f"courier {spec.code}: its numbers {t.as_scheme().span()} include {given}, which "
                "a parcel already carries; ask the courier for a block not used before"
            )
            return
        courier_id = self.s.scalar(
            insert(Courier)
            .values(
                code=spec.code, name=spec.name, lane=spec.lane, label_layout=spec.label,
                tracking_url=spec.tracking_url, next_number=0, active=True,
                **_tracking_columns(t),
            )
            .returning(Courier.id)
        )  # fmt: skip
        assert courier_id is not None
        self.changes.append(
            Change(
                "add",
                f"courier {spec.code}",
                f"{spec.name}, lane {spec.lane}, numbers {t.as_scheme().describe()}",
            )
        )
        for service in spec.services:
            self.s.add(_new_service(courier_id, service))
            self.changes.append(
                Change("add", f"service {spec.code}/{service.code}", _service_words(service))
            )

    def _change_courier(self, row: Courier, spec: CourierSpec) -> None:
        old_lane = self._lanes_before.get(row.id, row.lane)  # before this run parked it
        diff = _diff(
            ("name", row.name, spec.name),
            ("lane", old_lane, spec.lane),
            ("label", row.label_layout, spec.label),
            ("tracking_url", row.tracking_url, spec.tracking_url),
        )
        tracking = self._tracking_change(row, spec.tracking)
        if tracking:
            diff = f"{diff}; {tracking}" if diff else tracking
        row.name, row.lane, row.label_layout = spec.name, spec.lane, spec.label
        row.tracking_url = spec.tracking_url
        if not row.active:
            row.active = True
            self.changes.append(Change("bring back", f"courier {spec.code}", diff))
        elif diff:
            self.changes.append(Change("change", f"courier {spec.code}", diff))
        self._services(row, spec)

    def _tracking_change(self, row: Courier, new: TrackingSpec) -> str:
        """Words for a change of numbers (empty: none), the counter set; a block that would give
        numbers already given, or end before those used, is refused."""
        old = scheme_of(row)
        scheme = new.as_scheme()
        if _same_block(old, scheme):
            row.range_start = new.first  # the same numbers, written as the file writes them
            if old.capacity == scheme.capacity:
                row.range_end = new.last
                return ""
            if row.next_number > scheme.capacity:
                last = scheme.number(scheme.capacity - 1)
                self.refusals.append(
                    f"courier {row.code}: the block would end at {last} but "
                    f"{row.next_number:,} numbers are already used"
                )
                return ""
            row.range_end = new.last
            return f"numbers now end at {scheme.number(scheme.capacity - 1)}"
        first = scheme.number(0)
        given = self._given_again(scheme)
        if given is not None:
            self.refusals.append(
                f"courier {row.code}: the new numbers {scheme.span()} include {given}, which a "
                "parcel already carries; ask the courier for a block not used before"
            )
            return ""
        for column, value in _tracking_columns(new).items():
            setattr(row, column, value)
        was = row.next_number
        row.next_number = 0
        return f"numbers now {scheme.describe()} (starting again at {first}; {was:,} used before)"

    def _services(self, courier: Courier, spec: CourierSpec) -> None:
        s = self.s
        rows = {
            r.code: r
            for r in s.scalars(
                select(CourierService).where(CourierService.courier_id == courier.id)
            )
        }
        wanted = {sv.code for sv in spec.services}
        for service in spec.services:
            what = f"service {spec.code}/{service.code}"
            row = rows.get(service.code)
            if row is None:
                s.add(_new_service(courier.id, service))
                self.changes.append(Change("add", what, _service_words(service)))
                continue
            cutoffs = tuple(map(cutoff_text, parse_cutoffs(row.cutoffs or ())))
            diff = _diff(
                ("name", row.name, service.name),
                ("express", row.express, service.express),
                ("cutoffs", ", ".join(cutoffs), ", ".join(service.cutoffs)),
                ("promised_days", row.promised_days, service.promised_days),
            )
            row.name, row.express = service.name, service.express
            row.cutoffs, row.promised_days = list(service.cutoffs), service.promised_days
            if not row.active:
                row.active = True
                self.changes.append(Change("bring back", what, diff))
            elif diff:
                self.changes.append(Change("change", what, diff))
        for row in rows.values():
            if row.code in wanted or not row.active:
                continue
            n = s.scalar(
                select(func.count()).where(Order.service_id == row.id, Order.status.not_in(_DONE))
            )
            if n:
                self.refusals.append(
                    f"service {spec.code}/{row.code} cannot retire: {_on_floor(n)} with it "
                    f"(ship or move {'it' if n == 1 else 'them'} first)"
                )
                continue
            row.active = False
            self.changes.append(Change("retire", f"service {spec.code}/{row.code}"))

    def _waiting_by_courier(self) -> dict[int, int]:
        """Closed parcels still in a lane, by courier."""
        return dict(
            self.s.execute(
                select(Parcel.courier_id, func.count())
                .where(Parcel.status == ParcelStatus.CLOSED.value)
                .group_by(Parcel.courier_id)
            ).all()
        )

    # --- packaging ---------------------------------------------------------------------------

    def packaging(self, specs: Sequence[PackagingSpec]) -> None:
        s = self.s
        rows = {p.code: p for p in s.scalars(select(PackagingType).with_for_update())}
        owner = {p.barcode: p.code for p in rows.values()}
        taken = [
            f"packaging {spec.code}: barcode {spec.barcode} is packaging {owner[spec.barcode]}'s;"
            " give one of them another barcode (in two applies, to swap them)"
            for spec in specs
            if owner.get(spec.barcode, spec.code) != spec.code
        ]
        if taken:
            self.refusals.extend(taken)
            return
        for spec in specs:
            row = rows.get(spec.code)
            values = {
                "barcode": spec.barcode, "name": spec.name, "tare_g": spec.tare_g,
                "max_weight_g": spec.max_weight_g, "length_mm": spec.length_mm,
                "width_mm": spec.width_mm, "height_mm": spec.height_mm,
            }  # fmt: skip
            what = f"packaging {spec.code}"
            if row is None:
                s.add(PackagingType(code=spec.code, active=True, **values))
                self.changes.append(Change("add", what, spec.name))
                continue
            diff = _diff(*((k, getattr(row, k), v) for k, v in values.items()))
            for k, v in values.items():
                setattr(row, k, v)
            if not row.active:
                row.active = True
                self.changes.append(Change("bring back", what, diff))
            elif diff:
                self.changes.append(Change("change", what, diff))
        wanted = {p.code for p in specs}
        for row in rows.values():
            if row.code in wanted or not row.active:
                continue
            n = s.scalar(
                select(func.count()).where(
                    Parcel.packaging_type_id == row.id,
                    Parcel.status == ParcelStatus.OPEN.value,
                )
            )
            if n:
                self.refusals.append(
                    f"packaging {row.code} cannot retire: {plural(n, 'open parcel')} "
                    f"{'is' if n == 1 else 'are'} packed in it"
                )
                continue
            row.active = False
            self.changes.append(Change("retire", f"packaging {row.code}", row.name))

    # --- totes -------------------------------------------------------------------------------

    def totes(self, codes: Sequence[str]) -> None:
        s = self.s
        rows = {
            r.code: r
            for r in s.execute(
                select(Tote.id, Tote.code, Tote.active, Tote.order_id).with_for_update()
            )
        }
        wanted = set(codes)
        new = [c for c in codes if c not in rows]
        back = [c for c in codes if c in rows and not rows[c].active]
        gone = [r for r in rows.values() if r.active and r.code not in wanted]
        busy = [r for r in gone if r.order_id is not None]
        if busy:
            numbers = dict(
                s.execute(
                    select(Order.id, Order.number).where(
                        Order.id.in_([r.order_id for r in busy[:_NAMED]])
                    )
                ).all()
            )
            named = ", ".join(f"{r.code} carries {numbers[r.order_id]}" for r in busy[:_NAMED])
            more = f" and {len(busy) - _NAMED} more" if len(busy) > _NAMED else ""
            self.refusals.append(f"totes in use cannot retire: {named}{more}")
            return
        if new:
            s.execute(insert(Tote), [{"code": c, "active": True} for c in new])
            self.changes.append(Change("add", plural(len(new), "tote"), _codes(new)))
        if back:
            s.execute(update(Tote).where(Tote.code.in_(back)).values(active=True))
            self.changes.append(Change("bring back", plural(len(back), "tote"), _codes(back)))
        if gone:
            ids = [r.id for r in gone]
            for at in range(0, len(ids), 1000):
                s.execute(update(Tote).where(Tote.id.in_(ids[at : at + 1000])).values(active=False))
            codes_gone = [r.code for r in gone]
            self.changes.append(Change("retire", plural(len(gone), "tote"), _codes(codes_gone)))


# --- export ----------------------------------------------------------------------------------


def export_setup(db: Database) -> FloorSpec:
    """The floor as it is now, as a file would describe it: what is active."""
    with db.read() as s:
        zones = tuple(
            ZoneSpec(z.code, z.name)
            for z in s.scalars(select(Zone).where(Zone.active.is_(True)).order_by(Zone.code))
        )
        services: dict[int, list[ServiceSpec]] = {}
        for sv in s.scalars(
            select(CourierService)
            .where(CourierService.active.is_(True))
            .order_by(CourierService.courier_id, CourierService.id)
        ):
            services.setdefault(sv.courier_id, []).append(
                ServiceSpec(
                    sv.code, sv.name, sv.express,
                    tuple(map(cutoff_text, parse_cutoffs(sv.cutoffs or ()))),
                    sv.promised_days,
                )
            )  # fmt: skip
        couriers = tuple(
            CourierSpec(
                c.code, c.name, c.lane, c.label_layout, _tracking_spec(c), c.tracking_url,
                tuple(services.get(c.id, ())),
            )
            for c in s.scalars(
                select(Courier).where(Courier.active.is_(True)).order_by(Courier.lane)
            )
        )  # fmt: skip
        packaging = tuple(
            PackagingSpec(
                p.code, p.barcode, p.name, p.tare_g, p.length_mm, p.width_mm, p.height_mm,
                p.max_weight_g,
            )
            for p in s.scalars(
                select(PackagingType)
                .where(PackagingType.active.is_(True))
                .order_by(PackagingType.id)
            )
        )  # fmt: skip
        totes = tuple(s.scalars(select(Tote.code).where(Tote.active.is_(True)).order_by(Tote.code)))
    return FloorSpec(zones, couriers, packaging, totes)


# --- helpers ---------------------------------------------------------------------------------


def _who(actor: Actor) -> str:
    if actor.operator is not None:
        return actor.operator.badge
    return actor.source or f"terminal {actor.terminal_id}"


def _tracking_columns(t: TrackingSpec) -> dict[str, Any]:
    return {
        "tracking_scheme": t.scheme,
        "tracking_prefix": t.prefix,
        "tracking_country": t.country,
        "range_start": t.first,
        "range_end": t.last,
        "tracking_length": t.length,
    }


def _tracking_spec(c: Courier) -> TrackingSpec:
    return TrackingSpec(
        c.tracking_scheme, c.tracking_prefix or "", c.tracking_country, c.range_start,
        c.range_end, c.tracking_length,
    )  # fmt: skip


def _same_block(old: Scheme, new: Scheme) -> bool:
    """Whether ``new`` goes on counting ``old``'s numbers (only its end may differ)."""
    try:
        return (old.kind, old.prefix, old.country, old.width, old.number(0)) == (
            new.kind, new.prefix, new.country, new.width, new.number(0),
        )  # fmt: skip
    except TrackingError:  # the row described no usable scheme: the file's starts afresh
        return False


def _new_service(courier_id: int, spec: ServiceSpec) -> CourierService:
    return CourierService(
        courier_id=courier_id, code=spec.code, name=spec.name, express=spec.express,
        cutoffs=list(spec.cutoffs), promised_days=spec.promised_days, active=True,
    )  # fmt: skip


def _service_words(spec: ServiceSpec) -> str:
    express = ", express" if spec.express else ""
    return f"{spec.name}{express}, cutoffs {', '.join(spec.cutoffs)}"


def _diff(*fields: tuple[str, Any, Any]) -> str:
    """``lane LANE-1 → LANE-4; name Post → Poczta Polska`` for the fields that differ."""
    return "; ".join(
        f"{name} {_shown(old)} → {_shown(new)}" for name, old, new in fields if old != new
    )


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _codes(codes: Sequence[str]) -> str:
    ranges = compress_codes(codes)
    shown = ", ".join(ranges[:_NAMED])
    return shown + (f" and {len(ranges) - _NAMED} more" if len(ranges) > _NAMED else "")


def _shipping_warnings(s: Session, shipping: Mapping[str, tuple[str, str]]) -> list[str]:
    """Shop shipping methods that map to no active service: their orders would be held."""
    active = {
        (courier, service)
        for courier, service in s.execute(
            select(Courier.code, CourierService.code)
            .join(CourierService, CourierService.courier_id == Courier.id)
            .where(Courier.active.is_(True), CourierService.active.is_(True))
        )
    }
    return [
        f"shipping method {method!r} maps to {'/'.join(target)}, which is not set up: "
        "its orders will be held"
        for method, target in sorted(shipping.items())
        if tuple(target) not in active
    ]
