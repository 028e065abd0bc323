import itertools

import pytest

from picker.domain.statuses import (
    ORDER_TRANSITIONS,
    PARCEL_TRANSITIONS,
    IllegalTransition,
    OrderStatus,
    ParcelStatus,
    UnknownStatus,
    check_order_transition,
    check_parcel_transition,
    order_path,
)

OS = OrderStatus
PS = ParcelStatus

# The design's state machine, written out pair by pair (not derived from the code under test).
ALLOWED_ORDER = {
    (OS.ON_HOLD, OS.UNHANDLED),
    # Held at packing with every unit picked: released back to the packing table.
    (OS.ON_HOLD, OS.PICKED),
    # Held after packing (a parcel missing at a pickup, since found): back to its lane.
    (OS.ON_HOLD, OS.PACKED),
    (OS.ON_HOLD, OS.CANCELLED),
    (OS.UNHANDLED, OS.ASSIGNED),
    (OS.UNHANDLED, OS.ON_HOLD),
    (OS.UNHANDLED, OS.CANCELLED),
    (OS.ASSIGNED, OS.PICKING),
    (OS.ASSIGNED, OS.ON_HOLD),
    (OS.ASSIGNED, OS.CANCELLED),
    (OS.PICKING, OS.PICKED),
    (OS.PICKING, OS.ON_HOLD),
    (OS.PICKING, OS.CANCELLED),
    (OS.PICKED, OS.PACKING),
    (OS.PICKED, OS.ON_HOLD),
    (OS.PICKED, OS.CANCELLED),
    (OS.PACKING, OS.PACKED),
    (OS.PACKING, OS.ON_HOLD),
    (OS.PACKING, OS.CANCELLED),
    (OS.PACKED, OS.EXECUTED),
    # A lead voids a parcel of a packed order: back to the packing table (void and repack).
    (OS.PACKED, OS.PACKING),
    (OS.PACKED, OS.ON_HOLD),
    (OS.PACKED, OS.CANCELLED),
    (OS.EXECUTED, OS.DELIVERED),
    (OS.EXECUTED, OS.RETURNED),
    (OS.DELIVERED, OS.RETURNED),
}
ALLOWED_PARCEL = {(PS.OPEN, PS.CLOSED), (PS.CLOSED, PS.HANDED_OVER), (PS.CLOSED, PS.VOIDED)}


@pytest.mark.parametrize(("from_", "to"), sorted(ALLOWED_ORDER))
def test_every_allowed_order_transition_is_accepted(from_: OS, to: OS) -> None:
    assert check_order_transition(from_, to) is to


@pytest.mark.parametrize(
    ("from_", "to"),
    sorted(set(itertools.product(OS, OS)) - ALLOWED_ORDER),
)
def test_every_other_order_transition_is_refused_naming_from_and_to(from_: OS, to: OS) -> None:
    with pytest.raises(IllegalTransition) as err:
        check_order_transition(from_, to)
    assert str(err.value) == f"order cannot go from {from_.value} to {to.value}"
    assert (err.value.from_, err.value.to) == (from_.value, to.value)


def test_the_table_in_the_code_is_exactly_the_design() -> None:
    in_code = {(f, t) for f, targets in ORDER_TRANSITIONS.items() for t in targets}
    assert in_code == ALLOWED_ORDER
    in_code = {(f, t) for f, targets in PARCEL_TRANSITIONS.items() for t in targets}
    assert in_code == ALLOWED_PARCEL


def test_nothing_leaves_cancelled_or_returned() -> None:
    for final in (OS.CANCELLED, OS.RETURNED):
        for to in OS:
            with pytest.raises(IllegalTransition):
                check_order_transition(final, to)


def test_executed_orders_can_no_longer_be_cancelled() -> None:
    with pytest.raises(IllegalTransition, match="from executed to cancelled"):
        check_order_transition("executed", "cancelled")


def test_a_new_order_starts_unhandled_or_on_hold_only() -> None:
    assert check_order_transition(None, OS.UNHANDLED) is OS.UNHANDLED
    assert check_order_transition(None, OS.ON_HOLD) is OS.ON_HOLD
    with pytest.raises(IllegalTransition, match="from nothing to picked"):
        check_order_transition(None, OS.PICKED)


@pytest.mark.parametrize(("from_", "to"), sorted(ALLOWED_PARCEL))
def test_every_allowed_parcel_transition_is_accepted(from_: PS, to: PS) -> None:
    assert check_parcel_transition(from_, to) is to


@pytest.mark.parametrize(("from_", "to"), sorted(set(itertools.product(PS, PS)) - ALLOWED_PARCEL))
def test_every_other_parcel_transition_is_refused(from_: PS, to: PS) -> None:
    with pytest.raises(IllegalTransition, match=f"parcel cannot go from {from_} to {to}"):
        check_parcel_transition(from_, to)


def test_an_unknown_status_name_is_its_own_error() -> None:
    with pytest.raises(UnknownStatus, match="'shipped' is not an order status"):
        check_order_transition("shipped", "packed")


@pytest.mark.parametrize("to", list(OS))
def test_order_path_is_a_legal_walk(to: OS) -> None:
    path = order_path(to)
    assert path[-1] is to
    check_order_transition(None, path[0])
    for a, b in itertools.pairwise(path):
        check_order_transition(a, b)
