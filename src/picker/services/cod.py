"""Cash on delivery settled: couriers' remittance files imported, what is still owed, and what
the lead must look at.

``import_remittances`` reads a whole file first (:func:`picker.domain.cod.read_remittance`): a
file with a line that cannot be read is refused and nothing is imported. Then each line is one
transaction, and is stored whatever becomes of it:

- it **settles** its order's cash when its tracking number names a live parcel of the order (any
  of them: the courier may quote the parcel it collected on, or another of the order's), of the
  importing courier, of a cash-on-delivery order that is delivered and not yet settled, and pays
  exactly the order's COD amount in the order's currency;
- otherwise it is **kept for the lead** with its problem (:class:`CodProblem`): short-paid,
  over-paid, another currency, an unknown tracking number, another courier's or a voided parcel,
  a prepaid order, not delivered yet, or a duplicate (the order settled already, or the same
  reference and tracking number twice in the file). A kept line settles nothing.

A line is imported once: its key is (courier, reference, tracking number, occurrence in its file),
so importing the same file again changes nothing and reports every line already imported. An
order is settled once: the database holds at most one settling line per order, so two imports at
the same moment cannot both settle it.

"Delivered" is decided in one place, :func:`_delivered`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, Table, and_, case, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from picker.domain.cod import (
    CodProblem,
    RemittanceLine,
    format_minor,
    judge,
    known_currency,
    read_remittance,
    to_minor,
)
from picker.domain.courier_events import CourierStatus
from picker.domain.statuses import OrderStatus, ParcelStatus
from picker.services.actors import Actor, Clock, allow, system_clock
from picker.services.errors import Conflict, NotFound
from picker.services.intake.reports import ImportProblem, ImportReport
from picker.store.engine import Database
from picker.store.models import CodRemittance, Courier, Operator, Order, OrderEvent, Parcel

#: How often (in lines) an import calls its ``progress(done, total)``.
PROGRESS_EVERY = 1000
#: Parcels that left the packing table with the order (a voided one did not).
_LIVE = (ParcelStatus.CLOSED.value, ParcelStatus.HANDED_OVER.value)

Progress = Callable[[int, int], None]
#: Written through Core: the ORM's bulk-insert path costs more than the line's own queries.
_TABLE: Table = CodRemittance.__table__  # type: ignore[assignment]


# --- delivered: the one place it is decided -------------------------------------------------


@cache  # a statement is immutable: built once (building one costs more than running it)
def _delivered() -> Select[int, datetime]:
    """The delivered parcels and when: rows (``parcel_id``, ``delivered_at``).

    A parcel is delivered when the courier says so (``picker tracking import``: its courier
    state ``delivered``, at the courier's time), so the cash its label asked for can be
    settled while another parcel of the order is still on its way; or when its order is
    ``delivered``, at the time of the order's event into ``delivered`` (its last change, if no
    event says so). Callers narrow it with ``.where(Parcel.… )`` or use it as a subquery."""
    by_courier = Parcel.courier_status == CourierStatus.DELIVERED.value
    return (
        select(
            Parcel.id.label("parcel_id"),
            func.coalesce(
                func.max(case((by_courier, Parcel.courier_status_at))),
                func.max(OrderEvent.at),
                func.max(Order.updated_at),
            ).label("delivered_at"),
        )
        .join(Order, Order.id == Parcel.order_id)
        .outerjoin(
            OrderEvent,
            and_(
                OrderEvent.order_id == Order.id,
                OrderEvent.to_status == OrderStatus.DELIVERED.value,
                # not an event on an order already delivered (a note, a hand-over)
                OrderEvent.from_status != OrderStatus.DELIVERED.value,
            ),
        )
        .where(or_(by_courier, Order.status == OrderStatus.DELIVERED.value))
        .group_by(Parcel.id)
    )


@cache
def _carries_cod() -> Any:
    """The parcel whose label asks for the order's cash: number 1 of its live parcels (kept at
    close), or, for a parcel closed before label numbers were kept, the first of them."""
    other = aliased(Parcel)
    first = ~exists().where(
        other.order_id == Parcel.order_id, other.status.in_(_LIVE), other.seq < Parcel.seq
    )
    return and_(
        Parcel.status.in_(_LIVE),
        or_(Parcel.label_no == 1, and_(Parcel.label_no.is_(None), first)),
    )


# --- import ----------------------------------------------------------------------------------


@dataclass
class CodReport(ImportReport):
    """Counts: ``settled``, ``failed`` (kept for the lead, each with its problem, this run) and
    ``already_imported`` (lines of an earlier import of the file, of which ``already_kept``
    were kept for the lead then)."""

    already_kept: int = 0
    kinds: Counter[CodProblem] = field(default_factory=Counter)


@dataclass(frozen=True)
class _Judged:
    problem: CodProblem | None
    detail: str
    order_id: int | None = None
    parcel_id: int | None = None
    expected_minor: int | None = None


def import_remittances(
    db: Database,
    actor: Actor,
    data: bytes,
    *,
    courier: str,
    file_name: str,
    clock: Clock = system_clock,
    progress: Progress | None = None,
) -> CodReport:
    """Import a courier's remittance file (see the module's words). Raises
    :class:`~picker.domain.cod.RemittanceRefused` (nothing imported) for a file that cannot be
    read whole, :class:`NotFound` for an unknown courier code."""
    allow(actor, "cod.import_remittances")
    courier_id, code = _courier(db, courier)
    lines = read_remittance(data, file_name)
    first_line: dict[tuple[str, str], int] = {}
    report = CodReport()
    for done, line in enumerate(lines, start=1):
        first_line.setdefault((line.reference, line.tracking_no), line.line)
        twin = first_line[(line.reference, line.tracking_no)]
        outcome, judged = _import_line(db, actor, courier_id, code, line, twin, file_name, clock)
        if outcome == "failed" and judged is not None and judged.problem is not None:
            report.kinds[judged.problem] += 1
            words = f"{judged.problem.words}: {judged.detail}"
            report.fail(ImportProblem(file_name, line.line, line.tracking_no, words))
        elif outcome == "already_kept":
            report.add("already_imported")
            report.already_kept += 1
        else:
            report.add(outcome)
        if progress is not None and (done % PROGRESS_EVERY == 0 or done == len(lines)):
            progress(done, len(lines))
    return report


def _courier(db: Database, code: str) -> tuple[int, str]:
    with db.read() as s:
        return _courier_in(s, code)


def _import_line(
    db: Database,
    actor: Actor,
    courier_id: int,
    courier: str,
    line: RemittanceLine,
    twin: int,
    file_name: str,
    clock: Clock,
) -> tuple[str, _Judged | None]:
    """One line in its own transaction: ("settled" | "failed", how it was judged), or
    ("already_imported" | "already_kept", None) for a line stored before. Run once more when a
    unique key lost a race (the same line, or another settling the same order, meanwhile)."""
    for attempt in (1, 2):
        try:
            with db.transaction() as s:
                prior = _stored(s, courier_id, line)
                if prior is not None:
                    return ("already_kept" if prior.problem else "already_imported"), None
                judged = _judge(s, courier_id, courier, line, twin)
                s.execute(_TABLE.insert().values(
                    courier_id=courier_id, reference=line.reference,
                    tracking_no=line.tracking_no, occurrence=line.occurrence,
                    file_name=file_name[:200], line_no=line.line, amount_minor=line.amount_minor,
                    currency=line.currency, remitted_at=line.remitted_at,
                    order_id=judged.order_id, parcel_id=judged.parcel_id,
                    expected_minor=judged.expected_minor,
                    problem=judged.problem.value if judged.problem else None,
                    detail=judged.detail, imported_at=clock(), operator_id=actor.operator_id,
                    terminal_id=actor.terminal_id, source=actor.source,
                ))  # fmt: skip
                return ("failed" if judged.problem else "settled"), judged
        except IntegrityError:
            if attempt == 2:
                raise Conflict(
                    f"{file_name}:{line.line}: another import settled the same order at the same "
                    "moment: import the file again"
                ) from None
    raise AssertionError("unreachable")


def _stored(s: Session, courier_id: int, line: RemittanceLine) -> Any:
    """The line as an earlier import stored it (its id and problem), or None."""
    return s.execute(
        select(CodRemittance.id, CodRemittance.problem).where(
            CodRemittance.courier_id == courier_id,
            CodRemittance.reference == line.reference,
            CodRemittance.tracking_no == line.tracking_no,
            CodRemittance.occurrence == line.occurrence,
        )
    ).first()


def _judge(s: Session, courier_id: int, courier: str, line: RemittanceLine, twin: int) -> _Judged:
    """What the line does: settle its order's cash, or which problem keeps it for the lead."""
    found = s.execute(
        select(Parcel.id, Parcel.status, Parcel.courier_id, Order.id.label("order_id"),
               Order.number, Order.status.label("order_status"), Order.cod_amount,
               Order.currency, Courier.code)
        .join(Order, Order.id == Parcel.order_id)
        .join(Courier, Courier.id == Parcel.courier_id)
        .where(Parcel.tracking_no == line.tracking_no)
    ).first()  # fmt: skip
    if found is None:
        return _Judged(CodProblem.UNKNOWN, "no parcel of ours has this tracking number")
    ids = {"order_id": found.order_id, "parcel_id": found.id}
    number = found.number
    if found.courier_id != courier_id:
        detail = f"the parcel of order {number} goes with {found.code}, not {courier}"
        return _Judged(CodProblem.OTHER_COURIER, detail, **ids)
    if found.status not in _LIVE:
        detail = f"the parcel of order {number} was voided at packing and never left"
        return _Judged(CodProblem.VOIDED, detail, **ids)
    if found.cod_amount is None:
        return _Judged(CodProblem.NOT_COD, f"order {number} was prepaid: no cash to collect", **ids)
    if not known_currency(found.currency):
        detail = f"order {number} is in {found.currency}, a currency without known minor units"
        return _Judged(CodProblem.CURRENCY, detail, **ids)
    expected = to_minor(found.cod_amount, found.currency)
    ids_owed = {**ids, "expected_minor": expected}
    if line.occurrence > 1:
        detail = f"the same reference and tracking number as line {twin} of this file"
        return _Judged(CodProblem.DUPLICATE, detail, **ids_owed)
    settled = _settlement(s, found.order_id)
    if settled is not None:
        detail = (f"order {number} was settled already, by reference {settled.reference} "
                  f"({settled.file_name} line {settled.line_no})")  # fmt: skip
        return _Judged(CodProblem.DUPLICATE, detail, **ids_owed)
    if not _cod_parcel_delivered(s, found.order_id):
        detail = f"order {number} is not delivered yet (it is {found.order_status})"
        return _Judged(CodProblem.NOT_DELIVERED, detail, **ids_owed)
    problem = judge(line, found.currency, expected)
    return _Judged(problem, _money_words(problem, line, number, found.currency, expected),
                   **ids_owed)  # fmt: skip


def _settlement(s: Session, order_id: int) -> Any:
    return s.execute(
        select(CodRemittance.reference, CodRemittance.file_name, CodRemittance.line_no).where(
            CodRemittance.order_id == order_id, CodRemittance.problem.is_(None)
        )
    ).first()


def _cod_parcel_delivered(s: Session, order_id: int) -> bool:
    """Whether the parcel carrying the order's cash is delivered (the courier collected it)."""
    query = _delivered().where(Parcel.order_id == order_id, _carries_cod())
    return s.execute(query).first() is not None


def _money_words(
    problem: CodProblem | None, line: RemittanceLine, number: str, currency: str, expected: int
) -> str:
    paid = f"{format_minor(line.amount_minor, line.currency)} {line.currency}"
    owed = f"{format_minor(expected, currency)} {currency}"
    if problem is CodProblem.CURRENCY:
        return f"paid {paid}, but order {number} is in {currency} ({owed})"
    if problem is None:
        return f"{paid} for order {number}"
    gap = format_minor(abs(line.amount_minor - expected), currency)
    how = "short" if problem is CodProblem.SHORT_PAID else "over"
    return f"paid {paid}, order {number} owes {owed}: {gap} {currency} {how}"


# --- what is still owed ----------------------------------------------------------------------


@dataclass(frozen=True)
class OpenCod:
    """A delivered COD parcel whose cash the courier has not paid yet."""

    order: str
    tracking_no: str
    courier: str
    currency: str
    amount_minor: int
    delivered_at: datetime

    @property
    def amount(self) -> str:
        return format_minor(self.amount_minor, self.currency)

    def as_json(self) -> dict[str, Any]:
        return {"order": self.order, "tracking_no": self.tracking_no, "courier": self.courier,
                "currency": self.currency, "amount": self.amount,
                "amount_minor": self.amount_minor,
                "delivered_at": self.delivered_at.isoformat()}  # fmt: skip


@dataclass(frozen=True)
class CodTotal:
    courier: str
    currency: str
    parcels: int
    amount_minor: int

    @property
    def amount(self) -> str:
        return format_minor(self.amount_minor, self.currency)

    def as_json(self) -> dict[str, Any]:
        return {"courier": self.courier, "currency": self.currency, "parcels": self.parcels,
                "amount": self.amount, "amount_minor": self.amount_minor}  # fmt: skip


@dataclass(frozen=True)
class CodOpen:
    parcels: tuple[OpenCod, ...]
    #: Per courier and currency, by courier then currency.
    totals: tuple[CodTotal, ...]
    #: Remittance lines kept for the lead (of the same courier, when one is asked for).
    problems: int

    def as_json(self) -> dict[str, Any]:
        return {
            "open": [p.as_json() for p in self.parcels],
            "totals": [t.as_json() for t in self.totals],
            "problems": self.problems,
        }


def open_cod(db: Database, *, courier: str | None = None) -> CodOpen:
    """Delivered COD parcels not yet paid for, oldest delivery first, with the totals per
    courier and currency (exact, in minor units) and how many lines wait for the lead."""
    delivered = _delivered().subquery()
    query = (
        select(Order.number, Parcel.tracking_no, Courier.code, Order.currency, Order.cod_amount,
               delivered.c.delivered_at)
        .select_from(Parcel)
        .join(delivered, delivered.c.parcel_id == Parcel.id)
        .join(Order, Order.id == Parcel.order_id)
        .join(Courier, Courier.id == Parcel.courier_id)
        .where(Order.cod_amount.is_not(None), _carries_cod(), ~_settled(Order.id))
        .order_by(delivered.c.delivered_at, Order.number)
    )  # fmt: skip
    problems = select(func.count()).select_from(CodRemittance)
    problems = problems.where(CodRemittance.problem.is_not(None))
    with db.read() as s:
        if courier is not None:
            courier_id, _ = _courier_in(s, courier)
            query = query.where(Parcel.courier_id == courier_id)
            problems = problems.where(CodRemittance.courier_id == courier_id)
        rows = s.execute(query).all()
        kept = s.scalar(problems) or 0
    parcels = tuple(
        OpenCod(r.number, r.tracking_no or "", r.code, r.currency,
                to_minor(r.cod_amount, r.currency), r.delivered_at)
        for r in rows
    )  # fmt: skip
    return CodOpen(parcels, _totals(parcels), kept)


def _settled(order_id: Any) -> Any:
    return exists().where(CodRemittance.order_id == order_id, CodRemittance.problem.is_(None))


def _courier_in(s: Session, code: str) -> tuple[int, str]:
    row = s.execute(
        select(Courier.id, Courier.code).where(func.upper(Courier.code) == code.upper())
    ).first()
    if row is None:
        known = ", ".join(s.scalars(select(Courier.code).order_by(Courier.code)))
        raise NotFound(f"no courier {code!r} (known: {known or 'none'})")
    return row.id, row.code


def _totals(parcels: tuple[OpenCod, ...]) -> tuple[CodTotal, ...]:
    sums: Counter[tuple[str, str]] = Counter()
    counts: Counter[tuple[str, str]] = Counter()
    for p in parcels:
        sums[(p.courier, p.currency)] += p.amount_minor
        counts[(p.courier, p.currency)] += 1
    return tuple(CodTotal(c, cur, counts[(c, cur)], sums[(c, cur)]) for c, cur in sorted(sums))


# --- the lines kept for the lead, and an order's settlement ----------------------------------


@dataclass(frozen=True)
class CodLine:
    """A stored remittance line: one that settled its order's cash (``problem`` None), or one
    kept for the lead. ``at`` is when it was imported, ``remitted_at`` the courier's date."""

    id: int
    at: datetime
    courier: str
    reference: str
    tracking_no: str
    amount_minor: int
    currency: str
    remitted_at: datetime
    problem: CodProblem | None
    detail: str
    order: str | None
    file_name: str
    line_no: int
    operator: str | None  # the badge of who imported it; None for a data feed
    source: str | None  # the feed's OSUSER@HOST
    terminal: str

    @property
    def amount(self) -> str:
        return format_minor(self.amount_minor, self.currency)

    @property
    def who(self) -> str:
        return self.operator or self.source or "-"

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at.isoformat(), "courier": self.courier,
                "reference": self.reference, "tracking_no": self.tracking_no,
                "amount": self.amount, "amount_minor": self.amount_minor,
                "currency": self.currency, "remitted_at": self.remitted_at.isoformat(),
                "problem": self.problem.value if self.problem else None,
                "detail": self.detail, "order": self.order, "file": self.file_name,
                "line": self.line_no, "operator": self.operator, "source": self.source,
                "terminal": self.terminal}  # fmt: skip


def _lines() -> Select[CodRemittance, str, str, str]:
    return (
        select(CodRemittance, Courier.code, Order.number, Operator.badge)
        .join(Courier, Courier.id == CodRemittance.courier_id)
        .outerjoin(Order, Order.id == CodRemittance.order_id)
        .outerjoin(Operator, Operator.id == CodRemittance.operator_id)
    )


def _line_of(row: Any) -> CodLine:
    r: CodRemittance = row[0]
    return CodLine(
        r.id, r.imported_at, row.code, r.reference, r.tracking_no, r.amount_minor, r.currency,
        r.remitted_at, CodProblem(r.problem) if r.problem else None, r.detail, row.number,
        r.file_name, r.line_no, row.badge, r.source, r.terminal_id,
    )  # fmt: skip


def cod_problems(db: Database, *, courier: str | None = None) -> list[CodLine]:
    """Remittance lines kept for the lead, in the order they were imported."""
    query = _lines().where(CodRemittance.problem.is_not(None)).order_by(CodRemittance.id)
    with db.read() as s:
        if courier is not None:
            query = query.where(CodRemittance.courier_id == _courier_in(s, courier)[0])
        return [_line_of(row) for row in s.execute(query)]


def settlements_in(s: Session, order_id: int) -> list[CodLine]:
    """Every remittance line about an order (settling or kept), in the order they were
    imported, read in the caller's session (an order's timeline)."""
    query = _lines().where(CodRemittance.order_id == order_id).order_by(CodRemittance.id)
    return [_line_of(row) for row in s.execute(query)]


def order_settlements(db: Database, number: str) -> list[CodLine]:
    """Every remittance line about the order ``number`` (settling or kept), oldest first."""
    with db.read() as s:
        order_id = s.scalar(select(Order.id).where(Order.number == number))
        if order_id is None:
            raise NotFound(f"no order {number!r}")
        return settlements_in(s, order_id)
