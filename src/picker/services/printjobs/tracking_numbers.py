"""Courier tracking numbers, handed out by the database so no two terminals give the same one.

A courier row keeps ``next_number``: how many numbers of its scheme were handed out, which is also
the index of the next one (:meth:`~picker.domain.tracking.Scheme.number`). :func:`allocate` takes
a number with one conditional UPDATE … RETURNING inside the caller's transaction (the parcel
close), the way stock is reserved: the database settles the race, not Python memory.

**Numbers are gap-free.** The counter is transactional: a parcel close that rolls back gives its
number back, and the next close gets it. Couriers bill and audit by range, so a hole would be a
number paid for and never seen. The price is that a courier's row stays locked from the
allocation to the caller's commit (PostgreSQL; SQLite's writers take turns anyway): closes of the
same courier's parcels queue one after another, so allocate last, just before committing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from picker.domain.tracking import RangeExhausted, Scheme, TrackingError, usage_warning
from picker.services.errors import NotFound, ServiceError
from picker.store.engine import Database
from picker.store.models import Courier


class TrackingExhausted(RangeExhausted, ServiceError):
    """A courier's numbers are used up: a refusal the UI shows in words, and still a
    :class:`~picker.domain.tracking.RangeExhausted` for code that catches the domain's."""


class SchemeNotUsable(ServiceError):
    """The courier row describes no valid scheme (set up by hand, or half-edited): no number
    can be given until it is corrected."""


class CourierScheme(Protocol):
    """What :func:`scheme_of` reads: a :class:`~picker.store.models.Courier`, or a result row
    with the same column names."""

    @property
    def tracking_scheme(self) -> str: ...

    @property
    def tracking_prefix(self) -> str: ...

    @property
    def tracking_country(self) -> str | None: ...

    @property
    def range_start(self) -> int | None: ...

    @property
    def range_end(self) -> int | None: ...

    @property
    def tracking_length(self) -> int | None: ...


@dataclass(frozen=True)
class Allocated:
    """A tracking number just taken, and how far its scheme is used."""

    number: str
    used: int  # numbers handed out, this one included
    capacity: int
    warning: str | None  # set from WARN_AT of the capacity on: the lead must ask for a new range


@dataclass(frozen=True)
class Usage:
    """How far a courier's scheme is used, for a status command."""

    courier: str  # the courier's code
    scheme: str  # e.g. "range CR500000 to CR999999"
    used: int
    capacity: int  # 0 when the scheme is not usable (the warning says why)
    warning: str | None


def scheme_of(courier: CourierScheme) -> Scheme:
    """The scheme a courier row describes (not validated: a broken row is reported when used).
    A mod10 row's length is the whole number's: prefix, serial and check digit."""
    prefix = courier.tracking_prefix or ""
    length = courier.tracking_length
    return Scheme(
        kind=courier.tracking_scheme,
        prefix=prefix,
        country=courier.tracking_country,
        range_start=courier.range_start,
        range_end=courier.range_end,
        width=length - len(prefix) - 1 if length is not None else 11,
    )


_COLUMNS = (
    Courier.code,
    Courier.name,
    Courier.tracking_scheme,
    Courier.tracking_prefix,
    Courier.tracking_country,
    Courier.range_start,
    Courier.range_end,
    Courier.tracking_length,
    Courier.next_number,
)


def allocate(s: Session, courier_id: int) -> Allocated:
    """The courier's next tracking number, taken inside the caller's transaction.

    Unique across every terminal and gap-free (see the module's docstring): rolled back with the
    caller, the number is given back. Raises :class:`TrackingExhausted` (changing nothing) when
    the scheme has no number left, :class:`SchemeNotUsable` when the row describes no scheme.
    """
    # The row is locked before its scheme is read, so a lead changing the range at that moment
    # cannot make the number below come from a scheme other than the one counted (PostgreSQL).
    # FOR NO KEY UPDATE: a parcel opened for this courier meanwhile (its foreign key takes a
    # key-share lock) need not wait for this close to finish rendering its label.
    row = s.execute(
        select(*_COLUMNS).where(Courier.id == courier_id).with_for_update(key_share=True)
    ).one_or_none()
    if row is None:
        raise NotFound(f"courier {courier_id} does not exist")
    scheme = _usable(scheme_of(row), row.code)
    used = s.execute(
        update(Courier)
        .where(Courier.id == courier_id, Courier.next_number < scheme.capacity)
        .values(next_number=Courier.next_number + 1)
        .returning(Courier.next_number)
        .execution_options(synchronize_session="fetch")
    ).scalar_one_or_none()
    if used is None:
        raise TrackingExhausted.of(scheme, row.code, row.name)
    return Allocated(
        number=scheme.number(used - 1),
        used=used,
        capacity=scheme.capacity,
        warning=usage_warning(used, scheme.capacity, row.code, row.name),
    )


def usage(db: Database) -> list[Usage]:
    """Every courier's use of its scheme, by code, warnings included: what a lead checks before a
    courier's range runs out."""
    with db.read() as s:
        rows = s.execute(select(*_COLUMNS).order_by(Courier.code)).all()
    result = []
    for row in rows:
        scheme = scheme_of(row)
        try:
            scheme.validate()
            capacity = scheme.capacity
        except TrackingError as exc:
            result.append(
                Usage(row.code, scheme.describe(), row.next_number, 0, _not_usable(row.code, exc))
            )
            continue
        warning = usage_warning(row.next_number, capacity, row.code, row.name)
        result.append(Usage(row.code, scheme.describe(), row.next_number, capacity, warning))
    return result


def _usable(scheme: Scheme, code: str) -> Scheme:
    try:
        scheme.validate()
    except TrackingError as exc:
        raise SchemeNotUsable(_not_usable(code, exc)) from exc
    return scheme


def _not_usable(code: str, exc: TrackingError) -> str:
    return f"courier {code} cannot be given tracking numbers: {exc}; correct its tracking scheme"
