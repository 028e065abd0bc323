"""Login, lockout across terminals, operator administration — on SQLite and PostgreSQL."""

from datetime import timedelta

import pytest

from picker.domain.pins import LockoutPolicy
from picker.domain.roles import NotAllowed, Role, Station
from picker.services import auth
from picker.services.actors import Actor
from picker.services.errors import Conflict, NotFound, ServiceError
from picker.store.engine import Database
from tests.conftest import NOW

CLI = Actor(terminal_id="T01")
POLICY = LockoutPolicy(max_failed=5, lock_for=timedelta(minutes=5))


def clock_at(moment):  # type: ignore[no-untyped-def]
    return lambda: moment


@pytest.fixture
def anna(db: Database) -> auth.OperatorInfo:
    return auth.add_operator(db, CLI, "EMP-0007", "Anna Nowak", "picker,packer", "4821")


def test_badge_and_right_pin_log_in_and_record_the_terminal(db, anna) -> None:
    op = auth.login(db, "T03", "EMP-0007", "4821", policy=POLICY, clock=clock_at(NOW))
    assert op == anna
    assert op.roles == {Role.PICKER, Role.PACKER}
    row = next(r for r in auth.list_operators(db) if r.badge == "EMP-0007")
    assert row.last_login_at == NOW


def test_unknown_badge_is_refused_by_name(db) -> None:
    with pytest.raises(auth.LoginRefused, match="Badge EMP-9999 is not known") as err:
        auth.login(db, "T01", "EMP-9999", "1234", policy=POLICY)
    assert err.value.reason == "unknown"
    with pytest.raises(auth.LoginRefused):
        auth.identify_badge(db, "EMP-9999")


def test_wrong_pin_counts_down_the_tries_left(db, anna) -> None:
    for left in (4, 3):
        with pytest.raises(auth.LoginRefused, match=f"Wrong PIN. {left} tries left") as err:
            auth.login(db, "T01", "EMP-0007", "0000", policy=POLICY, clock=clock_at(NOW))
        assert err.value.reason == "wrong_pin"


def test_a_good_login_resets_the_count_of_wrong_pins(db, anna) -> None:
    for _ in range(4):
        with pytest.raises(auth.LoginRefused):
            auth.login(db, "T01", "EMP-0007", "0000", policy=POLICY, clock=clock_at(NOW))
    auth.login(db, "T01", "EMP-0007", "4821", policy=POLICY, clock=clock_at(NOW))
    with pytest.raises(auth.LoginRefused, match="4 tries left"):
        auth.login(db, "T01", "EMP-0007", "0000", policy=POLICY, clock=clock_at(NOW))


def test_five_wrong_pins_on_two_terminals_lock_the_badge_on_both(db_url, anna) -> None:
    # Two terminals: two engines on one database, alternating wrong PINs.
    t1, t2 = Database(db_url), Database(db_url)
    try:
        for i in range(4):
            with pytest.raises(auth.LoginRefused, match="Wrong PIN"):
                auth.login(
                    (t1, t2)[i % 2], f"T0{i % 2 + 1}", "EMP-0007", "0000", policy=POLICY,
                    clock=clock_at(NOW),
                )  # fmt: skip
        with pytest.raises(auth.LoginRefused, match="now locked for 5 min") as err:
            auth.login(t1, "T01", "EMP-0007", "9999", policy=POLICY, clock=clock_at(NOW))
        assert err.value.locked_until == NOW + timedelta(minutes=5)
        # The right PIN on the other terminal is refused while the lock holds…
        later = NOW + timedelta(minutes=4)
        with pytest.raises(auth.LoginRefused, match=r"locked .* Try again in 1 min") as err:
            auth.login(t2, "T02", "EMP-0007", "4821", policy=POLICY, clock=clock_at(later))
        assert err.value.reason == "locked"
        with pytest.raises(auth.LoginRefused, match="locked"):
            auth.identify_badge(t2, "EMP-0007", clock=clock_at(later))
        # …and accepted once it has run out.
        after = NOW + timedelta(minutes=5, seconds=1)
        op = auth.login(t2, "T02", "EMP-0007", "4821", policy=POLICY, clock=clock_at(after))
        assert op.badge == "EMP-0007"
    finally:
        t1.dispose()
        t2.dispose()


def test_a_disabled_badge_cannot_log_in_until_enabled(db, anna) -> None:
    auth.disable_operator(db, CLI, "EMP-0007")
    with pytest.raises(auth.LoginRefused, match="disabled"):
        auth.login(db, "T01", "EMP-0007", "4821", policy=POLICY)
    auth.enable_operator(db, CLI, "EMP-0007")
    assert auth.login(db, "T01", "EMP-0007", "4821", policy=POLICY).name == "Anna Nowak"


def test_reset_pin_replaces_the_pin_and_lifts_the_lock(db, anna) -> None:
    for _ in range(5):
        with pytest.raises(auth.LoginRefused):
            auth.login(db, "T01", "EMP-0007", "0000", policy=POLICY, clock=clock_at(NOW))
    auth.reset_pin(db, CLI, "EMP-0007", "7777")
    with pytest.raises(auth.LoginRefused, match="Wrong PIN"):
        auth.login(db, "T01", "EMP-0007", "4821", policy=POLICY, clock=clock_at(NOW))
    assert auth.login(db, "T01", "EMP-0007", "7777", policy=POLICY, clock=clock_at(NOW))


def test_the_pin_is_never_stored_in_clear(db, anna) -> None:
    from sqlalchemy import select

    from picker.store.models import Operator

    with db.read() as s:
        stored = s.scalars(select(Operator.pin_hash)).one()
    assert "4821" not in stored and stored.startswith("scrypt$")


def test_a_badge_belongs_to_one_operator_only(db, anna) -> None:
    with pytest.raises(Conflict, match="EMP-0007 already belongs"):
        auth.add_operator(db, CLI, "EMP-0007", "Someone Else", "picker", "1111")


@pytest.mark.parametrize(
    ("badge", "name", "roles", "pin", "problem"),
    [
        ("BADGE-1", "Ann", "picker", "1234", "does not match the badge pattern"),
        ("EMP-0100", "Ann\u202e", "picker", "1234", "control characters"),
        ("EMP-0100", "", "picker", "1234", "name is empty"),
        ("EMP-0100", "Ann\x1b[2J", "picker", "1234", "control characters"),
        ("EMP-0100", "Ann", "boss", "1234", "'boss' is not a role"),
        ("EMP-0100", "Ann", "picker", "12", "4 to 8 digits"),
    ],
)
def test_bad_operator_data_is_refused_and_nothing_is_added(
    db, badge, name, roles, pin, problem
) -> None:
    with pytest.raises(ValueError if problem == "4 to 8 digits" else ServiceError, match=problem):
        auth.add_operator(db, CLI, badge, name, roles, pin)
    assert auth.list_operators(db) == []


def test_admin_actions_need_a_lead_when_done_by_an_operator(db, anna) -> None:
    as_picker = Actor("T01", anna)
    with pytest.raises(NotAllowed, match="lead"):
        auth.disable_operator(db, as_picker, "EMP-0007")
    lead = auth.add_operator(db, CLI, "EMP-0001", "Lea Lead", "lead", "1111")
    auth.disable_operator(db, Actor("T01", lead), "EMP-0007")
    assert not next(r for r in auth.list_operators(db) if r.badge == "EMP-0007").active


def test_actions_on_an_unknown_badge_say_so(db) -> None:
    with pytest.raises(NotFound, match="no operator has badge EMP-0404"):
        auth.reset_pin(db, CLI, "EMP-0404", "1234")


def test_stations_follow_roles(db, anna) -> None:
    assert auth.enter_station(anna, "picking") is Station.PICKING
    with pytest.raises(NotAllowed, match="may not work at the handoff station"):
        auth.enter_station(anna, Station.HANDOFF)


def test_a_first_lead_is_added_only_while_no_active_operator_is_a_lead(db, anna) -> None:
    with pytest.raises(auth.FloorHasALead, match="only a lead"):
        auth.add_operator(db, CLI, "EMP-0002", "Pat", "packer", "1111", first_lead=True)
    lead = auth.add_operator(db, CLI, "EMP-0001", "Lea", "picker,lead", "1111", first_lead=True)
    assert Role.LEAD in lead.roles and auth.has_active_lead(db)
    with pytest.raises(auth.FloorHasALead, match="has a lead already"):
        auth.add_operator(db, CLI, "EMP-0003", "Leo", "lead", "1111", first_lead=True)
    auth.disable_operator(db, Actor("T01", lead), "EMP-0001")  # the only lead gone: a new first
    assert not auth.has_active_lead(db)
    auth.add_operator(db, CLI, "EMP-0003", "Leo", "lead", "1111", first_lead=True)
    assert sorted(r.badge for r in auth.list_operators(db)) == ["EMP-0001", "EMP-0003", "EMP-0007"]


def test_two_first_leads_added_at_once_cannot_both_pass(db, monkeypatch) -> None:
    """Each add counts the leads, then dawdles before its insert: without the lock (PostgreSQL)
    or the write lock (SQLite) taken before the count, both would count none and both insert."""
    import threading
    import time

    counted = auth._active_leads

    def slow_count(s):  # type: ignore[no-untyped-def]
        n = counted(s)
        time.sleep(0.3)
        return n

    monkeypatch.setattr(auth, "_active_leads", slow_count)
    outcomes: list[str] = []

    def add(badge: str) -> None:
        try:
            auth.add_operator(db, CLI, badge, "Lead", "lead", "1111", first_lead=True)
            outcomes.append("added")
        except auth.FloorHasALead:
            outcomes.append("refused")

    threads = [threading.Thread(target=add, args=(f"EMP-000{i}",)) for i in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["added", "refused"]
    assert len(auth.list_operators(db)) == 1


def test_a_service_operator_is_added_and_reaches_only_the_service_desk(db: Database) -> None:
    agent = auth.add_operator(db, Actor("T00"), "EMP-0400", "Sam Obsługa", "service", "2938")
    assert agent.roles == {Role.SERVICE}
    assert auth.enter_station(agent, "service") is Station.SERVICE
    with pytest.raises(NotAllowed, match="may not work at the handoff station"):
        auth.enter_station(agent, Station.HANDOFF)


def test_migration_0018_lets_an_operator_have_the_service_role(blank_db: Database) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from picker.store import migrate

    def give_service_role(conn) -> None:  # type: ignore[no-untyped-def]
        conn.execute(text("INSERT INTO operator_roles (operator_id, role) VALUES (1, 'service')"))

    migrate.upgrade(blank_db.engine, "0017")
    with blank_db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO operators (id, badge, name, pin_hash, active, failed_pins, created_at) "
            "VALUES (1, 'EMP-0400', 'Sam', 'x', true, 0, '2026-12-05 10:00:00')"
        ))  # fmt: skip
        conn.execute(text("INSERT INTO operator_roles (operator_id, role) VALUES (1, 'packer')"))
    with pytest.raises(IntegrityError), blank_db.engine.begin() as conn:
        give_service_role(conn)  # before 0018 the database refuses the role
    migrate.upgrade(blank_db.engine)
    with blank_db.engine.begin() as conn:
        give_service_role(conn)
    migrate.downgrade(blank_db.engine, "0017")  # the role taken back; the operator stays
    with blank_db.engine.connect() as conn:
        roles = conn.execute(text("SELECT role FROM operator_roles")).scalars().all()
        assert roles == ["packer"]
