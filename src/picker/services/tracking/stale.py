"""Parcels gone quiet and orders delivered late: what the lead chases the courier about.

**Stale**: a parcel handed over (its order still ``executed``), not yet delivered nor coming
back, whose last courier event — or, with none, its handoff — is more than the courier's
``stale_days`` ago (``[couriers.CODE] stale_days``, default 3; ``days`` overrides).

**Late**: an order delivered in the last :data:`LATE_WINDOW_DAYS` days, more calendar days
(in the warehouse's time zone) after its first parcel left than its service promises
(``courier_services.promised_days``); a service that promises nothing is never late.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select

from picker.config import DEFAULT_STALE_DAYS, Settings
from picker.domain.courier_events import FINAL, WORDS, CourierStatus
from picker.domain.statuses import OrderStatus, ParcelStatus
from picker.services.errors import NotFound
from picker.store.engine import Database
from picker.store.models import Courier, CourierService, Order, Parcel

#: How far back the late list looks (orders delivered since then).
LATE_WINDOW_DAYS = 30
_FINAL = tuple(s.value for s in FINAL)


@dataclass(frozen=True)
class StaleParcel:
    tracking_no: str
    order: str
    courier: str
    handed_over_at: datetime
    last_status: str | None
    last_at: datetime | None
    quiet_days: int

    def as_json(self) -> dict[str, Any]:
        return {
            "tracking_no": self.tracking_no, "order": self.order, "courier": self.courier,
            "handed_over_at": self.handed_over_at.isoformat(), "last_status": self.last_status,
            "last_at": self.last_at.isoformat() if self.last_at else None,
            "quiet_days": self.quiet_days,
        }  # fmt: skip

    @property
    def last_words(self) -> str:
        return WORDS[CourierStatus(self.last_status)] if self.last_status else "no event"


@dataclass(frozen=True)
class LateOrder:
    order: str
    courier: str
    service: str
    handed_over_at: datetime
    delivered_at: datetime
    promised_days: int
    took_days: int

    def as_json(self) -> dict[str, Any]:
        return {
            "order": self.order, "courier": self.courier, "service": self.service,
            "handed_over_at": self.handed_over_at.isoformat(),
            "delivered_at": self.delivered_at.isoformat(), "promised_days": self.promised_days,
            "took_days": self.took_days,
        }  # fmt: skip


def _stale_days(settings: Settings, code: str, days: int | None) -> int:
    if days is not None:
        return days
    found = settings.couriers.get(code)
    return found.stale_days if found else DEFAULT_STALE_DAYS


def _couriers(s: Any, courier: str | None) -> list[tuple[int, str]]:
    query = select(Courier.id, Courier.code).order_by(Courier.code)
    if courier is not None:
        query = query.where(Courier.code == courier.strip().upper())
    found = [(r.id, r.code) for r in s.execute(query)]
    if courier is not None and not found:
        raise NotFound(f"no courier {courier.strip().upper()}")
    return found


def _stale_where(courier_id: int, cutoff: datetime) -> Any:
    last_sign = func.coalesce(Parcel.courier_status_at, Parcel.handed_over_at)
    return and_(
        Parcel.courier_id == courier_id,
        Parcel.status == ParcelStatus.HANDED_OVER.value,
        or_(Parcel.courier_status.is_(None), Parcel.courier_status.not_in(_FINAL)),
        last_sign < cutoff,
        Order.status == OrderStatus.EXECUTED.value,
    )


def stale_parcels(
    db: Database, settings: Settings, *, now: datetime, days: int | None = None,
    courier: str | None = None,
) -> list[StaleParcel]:  # fmt: skip
    """The stale parcels (see the module), longest quiet first."""
    found: list[StaleParcel] = []
    with db.read() as s:
        for courier_id, code in _couriers(s, courier):
            cutoff = now - timedelta(days=_stale_days(settings, code, days))
            for r in s.execute(
                select(Parcel.tracking_no, Order.number, Parcel.handed_over_at,
                       Parcel.courier_status, Parcel.courier_status_at)
                .join(Order, Order.id == Parcel.order_id)
                .where(_stale_where(courier_id, cutoff))
            ):  # fmt: skip
                last = r.courier_status_at or r.handed_over_at
                found.append(StaleParcel(r.tracking_no, r.number, code, r.handed_over_at,
                                         r.courier_status, r.courier_status_at,
                                         (now - last).days))  # fmt: skip
    return sorted(found, key=lambda p: (-p.quiet_days, p.courier, p.tracking_no))


def stale_count(db: Database, settings: Settings, *, now: datetime) -> int:
    """How many parcels are stale, each courier by its own ``stale_days`` (the handoff
    screen's line)."""
    total = 0
    with db.read() as s:
        for courier_id, code in _couriers(s, None):
            cutoff = now - timedelta(days=_stale_days(settings, code, None))
            total += (
                s.scalar(
                    select(func.count())
                    .select_from(Parcel)
                    .join(Order, Order.id == Parcel.order_id)
                    .where(_stale_where(courier_id, cutoff))
                )
                or 0
            )
    return total


def late_orders(
    db: Database, settings: Settings, *, now: datetime, courier: str | None = None
) -> list[LateOrder]:
    """Orders delivered late (see the module), latest delivery first."""
    tz = settings.warehouse.tz
    since = now - timedelta(days=LATE_WINDOW_DAYS)
    query = (
        select(
            Order.number, Courier.code, CourierService.code.label("service"),
            CourierService.promised_days,
            func.min(Parcel.handed_over_at).label("handed"),
            func.max(Parcel.courier_status_at).label("delivered"),
        )
        .join(Parcel, and_(Parcel.order_id == Order.id,
                           Parcel.status == ParcelStatus.HANDED_OVER.value))
        .join(CourierService, CourierService.id == Order.service_id)
        .join(Courier, Courier.id == CourierService.courier_id)
        .where(Order.status == OrderStatus.DELIVERED.value,
               CourierService.promised_days.is_not(None), Order.updated_at >= since)
        .group_by(Order.number, Courier.code, CourierService.code, CourierService.promised_days)
    )  # fmt: skip
    if courier is not None:
        query = query.where(Courier.code == courier.strip().upper())
    late: list[LateOrder] = []
    with db.read() as s:
        _couriers(s, courier)  # an unknown one is said, not listed as nothing late
        for r in s.execute(query):
            if r.handed is None or r.delivered is None:
                continue
            took = (r.delivered.astimezone(tz).date() - r.handed.astimezone(tz).date()).days
            if took > r.promised_days:
                late.append(LateOrder(r.number, r.code, r.service, r.handed, r.delivered,
                                      r.promised_days, took))  # fmt: skip
    return sorted(late, key=lambda o: (o.delivered_at, o.order), reverse=True)
