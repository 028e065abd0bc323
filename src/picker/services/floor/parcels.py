"""Parcels at the packing table: one closed (tracking number, label), one voided.

Closing one gives it a tracking number and a rendered, queued label in the same transaction;
voiding a closed one voids its label and puts its items back on the checklist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from picker.config import Settings
from picker.domain.packing import (
    ParcelState,
    missing_for_close,
    weight_problem,
)
from picker.domain.statuses import OrderStatus, ParcelStatus, check_parcel_transition
from picker.domain.text import plural
from picker.services import scans
from picker.services.actors import Actor, Clock, allow, system_clock
from picker.services.errors import Conflict, ServiceError
from picker.services.floor.pack_state import (
    STATION,
    PackRefused,
    expected_g,
    lock_order,
    my_order,
    open_parcel,
    verified_counts,
)
from picker.services.orders.status import move_order, record_event
from picker.services.printjobs import labels, print_queue, tracking_numbers
from picker.services.scans import ScanOutcome
from picker.store.engine import LANES, Database, announce
from picker.store.models import (
    Courier,
    OrderLine,
    PackagingType,
    Parcel,
    PrintJob,
    Tote,
)


@dataclass(frozen=True)
class Closed:
    parcel_seq: int
    tracking_no: str
    label_job: int
    order_packed: bool
    """That was the last parcel: the order is ``packed``."""
    lane: str
    courier: str
    next_parcel: int | None
    """The parcel opened after this one (CMD-NEWPARCEL), else None."""
    warnings: tuple[str, ...]
    """The label's own (a name cut short, a letter the font lacks) and the tracking range's."""


def close_parcel(
    db: Database,
    actor: Actor,
    settings: Settings,
    order_id: int,
    *,
    more_to_come: bool,
    scans_: Sequence[ScanOutcome] = (),
    screen: str = "pack",
    clock: Clock = system_clock,
) -> Closed:
    """Close the open parcel: tracking number, label rendered and queued for this station's
    printer, all in one transaction with the close (a label that cannot be rendered closes
    nothing). ``more_to_come`` (CMD-NEWPARCEL) opens the next parcel at once and needs units
    still to verify; otherwise (CMD-CLOSE) every unit must be verified and the order becomes
    ``packed`` (its tote free again)."""
    allow(actor, "floor.parcels.close_parcel")
    now = clock()
    # The label's fonts are read before the write transaction: a CJK font's glyphs take up to
    # a second the first time, and that transaction holds the courier's tracking counter
    # locked (every other close for the courier waits) until it commits.
    with db.read() as s:
        recipient = labels.order_recipient(s, order_id)
    if recipient is not None:
        labels.ready_fonts(settings, recipient)

    def work(s: Session) -> Closed:
        order = my_order(s, order_id, actor)
        parcel = s.execute(
            select(Parcel.id, Parcel.seq, Parcel.weight_g, PackagingType.code,
                   PackagingType.tare_g)
            .outerjoin(PackagingType, PackagingType.id == Parcel.packaging_type_id)
            .where(Parcel.order_id == order_id, Parcel.status == ParcelStatus.OPEN.value)
        ).one_or_none()  # fmt: skip
        counts = verified_counts(s, order_id)
        in_open = sum(o for _, o in counts.values())
        state = ParcelState(in_open, parcel.code if parcel else None,
                            parcel.weight_g if parcel else None)  # fmt: skip
        total = s.scalar(select(func.sum(OrderLine.quantity)).where(OrderLine.order_id == order_id))
        left = int(total or 0) - sum(v for v, _ in counts.values())
        if more_to_come and left == 0:
            raise PackRefused("Every unit is verified: CMD-CLOSE closes this last parcel.")
        if not more_to_come and left > 0:
            raise PackRefused(
                f"{plural(left, 'unit')} still to verify. Scan them, or "
                "CMD-NEWPARCEL to close this parcel and start another."
            )
        missing = missing_for_close(state, order.address_confirmed_at is not None)
        if parcel is None or missing:
            raise PackRefused("Before this parcel can close: " + ", ".join(missing) + ".")
        packing = settings.packing
        problem = weight_problem(
            parcel.weight_g, expected_g(s, parcel.id, parcel.tare_g),
            packing.weight_tolerance_pct, packing.weight_tolerance_g,
        )  # fmt: skip
        if problem:
            raise PackRefused(problem)
        check_parcel_transition(ParcelStatus.OPEN, ParcelStatus.CLOSED)
        number = tracking_numbers.allocate(s, order.courier_id)
        s.execute(
            update(Parcel)
            .where(Parcel.id == parcel.id, Parcel.status == ParcelStatus.OPEN.value)
            .values(status=ParcelStatus.CLOSED.value, tracking_no=number.number,
                    closed_by=actor.operator_id, closed_at=now,
                    label_no=_label_no(s, order_id, parcel.id))
        )  # fmt: skip
        next_seq = None
        if more_to_come:  # opened now, so this label counts it: parcel 1 of 2
            _, next_seq = open_parcel(s, order_id, order.courier_id, actor, now)
        label = labels.parcel_label(s, settings, parcel.id)
        job = print_queue.enqueue(
            s, kind="label", printer=settings.printer.name, content=label.content,
            content_type=label.content_type, terminal_id=actor.terminal_id,
            parcel_id=parcel.id, order_id=order_id, title=number.number, at=now,
        )  # fmt: skip
        courier = s.execute(
            select(Courier.lane, Courier.name).where(Courier.id == order.courier_id)
        ).one()
        if not more_to_come:
            move_order(
                s, order_id=order_id, number=order.number, from_=OrderStatus.PACKING,
                version=order.version, to=OrderStatus.PACKED, actor=actor,
                reason=f"packed, parcels to lane {courier.lane}", at=now, held_by_terminal=None,
            )  # fmt: skip
            s.execute(
                update(Tote)
                .where(Tote.order_id == order_id)
                .values(order_id=None, bound_at=None, location=None)
            )
        for outcome in scans_:
            scans.journal(s, actor, STATION, screen, outcome.for_order(order_id), at=now)
        announce(s, LANES)  # a new parcel in its courier's lane
        warnings = (*label.warnings, *((number.warning,) if number.warning else ()))
        return Closed(
            parcel.seq, number.number, job, not more_to_come, courier.lane, courier.name,
            next_seq, warnings,
        )  # fmt: skip

    return db.run(work)


def _label_no(s: Session, order_id: int, parcel_id: int) -> int:
    """The lowest parcel number no other live closed parcel of the order carries on its label
    (one closed before label numbers were kept counts by its place among them)."""
    others = s.execute(
        select(Parcel.label_no)
        .where(
            Parcel.order_id == order_id,
            Parcel.id != parcel_id,
            Parcel.status.in_((ParcelStatus.CLOSED.value, ParcelStatus.HANDED_OVER.value)),
        )
        .order_by(Parcel.seq)
    ).scalars()
    used = {n or place for place, n in enumerate(others, start=1)}
    return next(n for n in range(1, len(used) + 2) if n not in used)


@dataclass(frozen=True)
class Voided:
    order_number: str
    tracking_no: str
    order_status: str
    """The order's status now: ``packing`` again when it was packed."""
    cancelled_jobs: int
    """Label jobs of the parcel that had not printed yet, now cancelled."""
    printing_jobs: int
    """Label jobs being sent at this moment: the label may still come out (take it off)."""


def void_parcel(
    db: Database,
    actor: Actor,
    reference: str,
    reason: str,
    *,
    clock: Clock = system_clock,
) -> Voided:
    """A lead voids a closed parcel (tracking number or id): its label is void (a label job
    still waiting is cancelled), its items are back on the order's checklist, and a packed order
    goes back to the packing table (the lead's, or any packer's from the command line). Refused,
    nothing changed, for a parcel open, voided or already handed to the courier."""
    allow(actor, "floor.parcels.void_parcel")
    why = " ".join((reason or "").split())
    if not why:
        raise ServiceError("say why the parcel is voided (e.g. 'box damaged')")
    now = clock()

    def work(s: Session) -> Voided:
        found = print_queue.find_parcel(s, reference)
        order = lock_order(
            s, s.execute(select(Parcel.order_id).where(Parcel.id == found.id)).scalar_one()
        )
        status = s.scalar(select(Parcel.status).where(Parcel.id == found.id))
        name = found.tracking_no or f"#{found.id}"
        if status == ParcelStatus.HANDED_OVER.value:
            raise ServiceError(f"parcel {name} is with the courier already; it cannot be voided")
        if status != ParcelStatus.CLOSED.value:
            raise ServiceError(f"parcel {name} is {status}: only a closed parcel is voided")
        cancelled, printing = void_closed(s, found.id, name, why, actor)
        words = f"parcel {name} voided: {why}"
        if order.status == OrderStatus.PACKED.value:
            move_order(
                s, order_id=order.id, number=order.number, from_=OrderStatus.PACKED,
                version=order.version, to=OrderStatus.PACKING, actor=actor,
                reason=f"{words}; to repack", at=now, packer_id=actor.operator_id,
                held_by_terminal=actor.terminal_id if actor.operator else None,
            )  # fmt: skip
            now_status = OrderStatus.PACKING.value
        else:
            record_event(
                s, order_id=order.id, status=OrderStatus(order.status), actor=actor,
                reason=words, at=now,
            )  # fmt: skip
            now_status = order.status
        return Voided(order.number, name, now_status, cancelled, printing)

    return db.run(work)


def void_closed(s: Session, parcel_id: int, name: str, why: str, actor: Actor) -> tuple[int, int]:
    """A closed parcel becomes voided (refused if it is not closed any more) and its label jobs
    that wait are cancelled; returns (jobs cancelled, jobs being sent right now)."""
    check_parcel_transition(ParcelStatus.CLOSED, ParcelStatus.VOIDED)
    done = s.execute(
        update(Parcel)
        .where(Parcel.id == parcel_id, Parcel.status == ParcelStatus.CLOSED.value)
        .values(status=ParcelStatus.VOIDED.value)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"parcel {name} changed on another terminal; look again")
    who = f" by {actor.operator.name}" if actor.operator else ""
    cancelled = s.execute(
        update(PrintJob)
        .where(PrintJob.parcel_id == parcel_id, PrintJob.status.in_(("queued", "failed")))
        .values(status="cancelled", last_error=f"parcel voided{who}: {why}")
    ).rowcount  # type: ignore[attr-defined]
    printing = s.scalar(
        select(func.count())
        .select_from(PrintJob)
        .where(PrintJob.parcel_id == parcel_id, PrintJob.status == "printing")
    )
    announce(s, LANES)  # it leaves its lane
    return int(cancelled or 0), int(printing or 0)
