from datetime import UTC, datetime, timedelta

import pytest

from picker.domain.pins import BadPin, LockoutPolicy, hash_pin, validate_pin, verify_pin
from picker.domain.roles import (
    NotAllowed,
    Role,
    Station,
    check_use_case,
    parse_roles,
    require,
    stations_for,
)

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def test_a_pin_verifies_against_its_own_hash_only() -> None:
    stored = hash_pin("4821")
    assert stored.startswith("scrypt$")
    assert "4821" not in stored
    assert verify_pin("4821", stored)
    assert not verify_pin("4822", stored)
    assert not verify_pin("", stored)


def test_the_same_pin_hashes_differently_each_time_salted() -> None:
    assert hash_pin("1234") != hash_pin("1234")


@pytest.mark.parametrize("stored", ["", "md5$abc", "scrypt$x$y$z$00$00", "scrypt$16384$8$1$zz$00"])
def test_a_malformed_stored_hash_never_verifies_and_never_raises(stored: str) -> None:
    assert verify_pin("1234", stored) is False


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", " 1234", ""])
def test_a_pin_must_be_4_to_8_digits(pin: str) -> None:
    with pytest.raises(BadPin):
        hash_pin(pin)


def test_a_site_may_ask_for_longer_pins() -> None:
    with pytest.raises(BadPin, match="a PIN is 6 to 8 digits"):
        validate_pin("12345", 6)
    assert validate_pin("123456", 6) == "123456" and validate_pin("12345678", 8) == "12345678"


def test_the_fifth_wrong_pin_locks_for_five_minutes() -> None:
    policy = LockoutPolicy(max_failed=5, lock_for=timedelta(minutes=5))
    failed, locked = 0, None
    for _ in range(4):
        failed, locked = policy.after_failure(failed, T0)
        assert locked is None
    assert failed == 4
    failed, locked = policy.after_failure(failed, T0)
    assert locked == T0 + timedelta(minutes=5)
    assert policy.is_locked(locked, T0 + timedelta(minutes=4, seconds=59))
    assert not policy.is_locked(locked, T0 + timedelta(minutes=5))


def test_roles_parse_from_text_and_refuse_unknown_names() -> None:
    assert parse_roles("picker, lead") == {Role.PICKER, Role.LEAD}
    with pytest.raises(ValueError, match="'boss' is not a role"):
        parse_roles("picker,boss")
    with pytest.raises(ValueError, match="at least one role"):
        parse_roles(" , ")


def test_each_role_reaches_its_station_and_a_lead_reaches_all() -> None:
    assert stations_for({Role.PICKER}) == [Station.PICKING, Station.COUNTING]
    assert stations_for({Role.PACKER}) == [Station.PACKING]
    assert stations_for({Role.PICKER, Role.PACKER}) == [
        Station.PICKING, Station.PACKING, Station.COUNTING,
    ]  # fmt: skip
    assert stations_for({Role.RECEIVER}) == [Station.RECEIVING, Station.COUNTING]
    assert stations_for({Role.LEAD}) == [
        Station.PICKING, Station.PACKING, Station.HANDOFF, Station.SERVICE, Station.RETURNS,
        Station.RECEIVING, Station.COUNTING,
    ]  # fmt: skip


def test_the_returns_role_reaches_the_returns_desk_only() -> None:
    assert stations_for({Role.RETURNS}) == [Station.RETURNS]
    assert parse_roles("returns") == {Role.RETURNS}
    check_use_case({Role.RETURNS}, "returns.desk.put_away")
    with pytest.raises(NotAllowed, match="needs the returns role"):
        check_use_case({Role.PACKER}, "returns.desk.open_return")
    with pytest.raises(NotAllowed, match="needs the lead role"):
        check_use_case({Role.RETURNS}, "orders.lead_actions.release_order")


def test_customer_service_reaches_its_desk_only_and_may_change_nothing() -> None:
    assert stations_for({Role.SERVICE}) == [Station.SERVICE]
    assert parse_roles("service") == {Role.SERVICE}
    for use_case in ("orders.lead_actions.hold_order", "orders.lead_actions.release_order",
                     "notify.outbox.resend"):  # fmt: skip
        with pytest.raises(NotAllowed, match="needs the lead role"):
            check_use_case({Role.SERVICE}, use_case)


def test_require_refuses_a_missing_role_but_never_a_lead() -> None:
    with pytest.raises(NotAllowed, match="voiding a parcel needs the lead role"):
        require({Role.PACKER}, Role.LEAD, "voiding a parcel")
    require({Role.LEAD}, Role.PACKER, "packing")
