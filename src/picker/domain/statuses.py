"""The order and parcel state machines: the only place a status transition is decided."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

_E = TypeVar("_E", bound=StrEnum)


class OrderStatus(StrEnum):
    ON_HOLD = "on_hold"
    UNHANDLED = "unhandled"
    ASSIGNED = "assigned"
    PICKING = "picking"
    PICKED = "picked"
    PACKING = "packing"
    PACKED = "packed"
    EXECUTED = "executed"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    RETURNED = "returned"


class ParcelStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    HANDED_OVER = "handed_over"
    VOIDED = "voided"


class IllegalTransition(Exception):
    """A status change the state machine does not allow."""

    def __init__(self, what: str, from_: str, to: str) -> None:
        self.what, self.from_, self.to = what, from_, to
        super().__init__(f"{what} cannot go from {from_} to {to}")


class UnknownStatus(ValueError):
    """A status name that is not part of the state machine."""

    def __init__(self, what: str, value: str) -> None:
        self.what, self.value = what, value
        article = "an" if what[:1] in "aeiou" else "a"
        super().__init__(f"{value!r} is not {article} {what} status")


_O = OrderStatus

ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    # Released by a lead once fixed; validated and reserved again on the way — or, when all its
    # goods are picked (held at the packing table), back to packing with its tote; or, when all
    # are in closed parcels (one was missing at a pickup, since found), back to its lane.
    _O.ON_HOLD: frozenset({_O.UNHANDLED, _O.PICKED, _O.PACKED, _O.CANCELLED}),
    _O.UNHANDLED: frozenset({_O.ASSIGNED, _O.ON_HOLD, _O.CANCELLED}),
    _O.ASSIGNED: frozenset({_O.PICKING, _O.ON_HOLD, _O.CANCELLED}),
    # Shortage with no stock elsewhere puts a picking order on hold (reason short).
    _O.PICKING: frozenset({_O.PICKED, _O.ON_HOLD, _O.CANCELLED}),
    _O.PICKED: frozenset({_O.PACKING, _O.ON_HOLD, _O.CANCELLED}),
    # A packer sends a doubtful order to the lead (wrong address, damaged item).
    _O.PACKING: frozenset({_O.PACKED, _O.ON_HOLD, _O.CANCELLED}),
    # A parcel found missing at handoff puts the order on hold; a lead voiding a parcel sends
    # the order back to the packing table (void and repack).
    _O.PACKED: frozenset({_O.EXECUTED, _O.PACKING, _O.ON_HOLD, _O.CANCELLED}),
    _O.EXECUTED: frozenset({_O.DELIVERED, _O.RETURNED}),
    _O.DELIVERED: frozenset({_O.RETURNED}),
    _O.CANCELLED: frozenset(),
    _O.RETURNED: frozenset(),
}

#: Where a new order may begin: valid orders are unhandled, invalid ones on hold.
ORDER_INITIAL = frozenset({_O.UNHANDLED, _O.ON_HOLD})

#: Done with the floor: shipped (and after), or cancelled. Any other order is open.
ORDER_FINISHED = frozenset({_O.EXECUTED, _O.DELIVERED, _O.RETURNED, _O.CANCELLED})
#: The same as the strings stored in ``orders.status`` (for SQL ``IN``).
ORDER_FINISHED_VALUES = tuple(sorted(s.value for s in ORDER_FINISHED))

_P = ParcelStatus
PARCEL_TRANSITIONS: dict[ParcelStatus, frozenset[ParcelStatus]] = {
    _P.OPEN: frozenset({_P.CLOSED}),
    _P.CLOSED: frozenset({_P.HANDED_OVER, _P.VOIDED}),
    _P.HANDED_OVER: frozenset(),
    _P.VOIDED: frozenset(),
}


def check_order_transition(from_: OrderStatus | str | None, to: OrderStatus | str) -> OrderStatus:
    """Return the new status if ``from_ → to`` is allowed; raise :class:`IllegalTransition`.

    ``from_`` is ``None`` for a new order.
    """
    target = _coerce(OrderStatus, to, "order")
    if from_ is None:
        if target not in ORDER_INITIAL:
            raise IllegalTransition("a new order", "nothing", target.value)
        return target
    source = _coerce(OrderStatus, from_, "order")
    if target not in ORDER_TRANSITIONS[source]:
        raise IllegalTransition("order", source.value, target.value)
    return target


def check_parcel_transition(from_: ParcelStatus | str, to: ParcelStatus | str) -> ParcelStatus:
    """Return the new parcel status if ``from_ → to`` is allowed; raise otherwise."""
    source = _coerce(ParcelStatus, from_, "parcel")
    target = _coerce(ParcelStatus, to, "parcel")
    if target not in PARCEL_TRANSITIONS[source]:
        raise IllegalTransition("parcel", source.value, target.value)
    return target


def order_path(to: OrderStatus) -> list[OrderStatus]:
    """The statuses an order walks through from intake to ``to`` on the ordinary floor flow."""
    flow = [
        _O.UNHANDLED,
        _O.ASSIGNED,
        _O.PICKING,
        _O.PICKED,
        _O.PACKING,
        _O.PACKED,
        _O.EXECUTED,
        _O.DELIVERED,
    ]
    if to in flow:
        return flow[: flow.index(to) + 1]
    if to is _O.ON_HOLD:
        return [_O.ON_HOLD]
    if to is _O.CANCELLED:
        return [_O.UNHANDLED, _O.CANCELLED]
    return [*flow, _O.RETURNED]


def _coerce(enum: type[_E], value: _E | str, what: str) -> _E:
    try:
        return enum(value)
    except ValueError:
        raise UnknownStatus(what, str(value)) from None
