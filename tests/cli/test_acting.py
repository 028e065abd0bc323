"""Who the `picker` command acts as: ``--as BADGE`` for a floor role's authority, the machine's
integration (OSUSER@HOST) for the data feeds, anyone for reading — on both databases."""

import getpass
import json
import socket
from pathlib import Path

import pytest
from sqlalchemy import func, select

from picker.cli import main
from picker.store.engine import Database
from picker.store.models import Operator, Order, OrderEvent, StockMovement
from tests.cli.people import demo_pins

FIXTURES = Path(__file__).parents[1] / "fixtures" / "intake"
#: What a data feed run by this test names itself: the OS user at this host.
SOURCE = f"{getpass.getuser()}@{socket.gethostname()}"[:64]
REFUSAL = "acts with a lead's authority: name yourself with --as BADGE (or PICKER_AS)"


@pytest.fixture
def picker(cli):  # type: ignore[no-untyped-def]
    """``picker(*args)`` → (exit code, stdout, stderr) on a demo floor without orders, its
    catalogue from the fixture files (stock comes with the test)."""
    run = cli('[terminal]\nid = "T05"\n')

    assert run("demo", "--orders", "0", "--no-sheet")[0] == 0
    assert run("product", "import", str(FIXTURES / "products.csv"))[0] == 0
    return run


@pytest.fixture
def pins(tmp_path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return demo_pins(tmp_path / "var")


@pytest.fixture
def database(db_url):  # type: ignore[no-untyped-def]
    db = Database(db_url)
    yield db
    db.dispose()


def _floor(picker) -> str:  # type: ignore[no-untyped-def]
    """Stock and the Shopify orders imported (as feeds); an assigned order's number."""
    assert picker("stock", "import", str(FIXTURES / "stock.csv"))[0] == 0
    assert picker("import", str(FIXTURES / "shopify_orders.json"))[0] == 0
    _, out, _ = picker("order", "list", "--status", "assigned", "--format", "json")
    return str(json.loads(out)["orders"][0]["number"])


def _state(db: Database, number: str) -> tuple[str, int, int]:
    """The order's status, its events, the operators: what a refused command must not change."""
    with db.read() as s:
        status = s.scalar(select(Order.status).where(Order.number == number))
        events = s.scalar(select(func.count()).select_from(OrderEvent))
        operators = s.scalar(select(func.count()).select_from(Operator))
    return str(status), int(events or 0), int(operators or 0)


def _events(db: Database, number: str) -> list[tuple[str | None, str | None, str]]:
    """(operator badge, source, to status) of the order's events, oldest first."""
    with db.read() as s:
        rows = s.execute(
            select(Operator.badge, OrderEvent.source, OrderEvent.to_status)
            .join(Order, Order.id == OrderEvent.order_id)
            .outerjoin(Operator, Operator.id == OrderEvent.operator_id)
            .where(Order.number == number)
            .order_by(OrderEvent.id)
        ).all()
    return [(badge, source, str(to)) for badge, source, to in rows]


def test_lead_commands_without_as_are_refused_in_words_and_change_nothing(picker, database) -> None:
    number = _floor(picker)
    before = _state(database, number)
    for args in (
        ("order", "hold", number, "--reason", "x"),
        ("order", "cancel", number, "--reason", "x"),
        ("order", "release", number),
        ("order", "assign", number, "--to", "EMP-0003"),
        ("order", "assign"),
        ("stock", "set", "MUG-CER-350", "A-01-01-1", "3"),
        ("operator", "add", "EMP-7777", "Mal", "--roles", "lead", "--pin", "1234"),
        ("operator", "add", "EMP-7777", "Mal", "--roles", "picker,lead", "--pin", "1234"),
        ("operator", "disable", "EMP-0002"),
        ("operator", "enable", "EMP-0002"),
        ("operator", "reset-pin", "EMP-0002", "--pin", "1234"),
        ("parcel", "void", "NOPE123", "--reason", "x"),
        ("print", "cancel", "1", "--reason", "x"),
        ("manifest", "--date", "2026-11-22"),
    ):
        code, out, err = picker(*args)
        command = " ".join(a for a in args[:2] if not a.startswith(("PO-", "NOPE", "--")))
        assert code == 2 and out == "", args
        assert err.strip() == f"picker: {command} {REFUSAL}", args
    code, _, err = picker("print", "reprint", "NOPE123", "--reason", "x")
    assert code == 2 and "print reprint acts with a packer's authority" in err
    assert _state(database, number) == before
    with database.read() as s:
        stock = s.scalar(select(func.count()).select_from(StockMovement))
    assert picker("stock", "set", "MUG-CER-350", "A-01-01-1", "3")[0] == 2
    with database.read() as s:
        assert s.scalar(select(func.count()).select_from(StockMovement)) == stock


def test_as_a_lead_with_the_right_pin_the_command_runs_and_the_event_names_the_lead(
    picker, database, pins, monkeypatch
) -> None:
    number = _floor(picker)
    monkeypatch.setenv("PICKER_PIN", pins["EMP-0001"])
    code, out, err = picker("--as", "emp-0001", "order", "hold", number, "--reason", "dented")
    assert code == 0 and f"{number} on hold" in out, err
    assert _events(database, number)[-1] == ("EMP-0001", None, "on_hold")
    monkeypatch.setenv("PICKER_AS", "EMP-0001")  # the same, named in the environment
    code, out, err = picker("order", "cancel", number, "--reason", "customer called")
    assert code == 0 and "cancelled" in out, err
    assert _events(database, number)[-1] == ("EMP-0001", None, "cancelled")
    code, out, _ = picker("order", "show", number)
    assert code == 0 and "cancelled EMP-0001" in " ".join(out.split())


def test_a_wrong_pin_is_refused_counts_towards_the_lockout_and_changes_nothing(
    picker, database, pins, monkeypatch
) -> None:
    number = _floor(picker)
    before = _state(database, number)
    wrong = "0000" if pins["EMP-0001"] != "0000" else "1111"
    monkeypatch.setenv("PICKER_PIN", wrong)
    code, _, err = picker("--as", "EMP-0001", "order", "hold", number, "--reason", "x")
    assert code == 1 and err.startswith("picker: --as EMP-0001: Wrong PIN. 4 tries left")
    assert "nothing changed" in err
    with database.read() as s:
        assert s.scalar(select(Operator.failed_pins).where(Operator.badge == "EMP-0001")) == 1
    for _ in range(4):
        picker("--as", "EMP-0001", "order", "hold", number, "--reason", "x")
    monkeypatch.setenv("PICKER_PIN", pins["EMP-0001"])  # the right PIN, too late
    code, _, err = picker("--as", "EMP-0001", "order", "hold", number, "--reason", "x")
    assert code == 1 and "Badge EMP-0001 is locked after too many wrong PINs" in err
    code, _, err = picker("--as", "EMP-0404", "order", "hold", number, "--reason", "x")
    assert code == 1 and "Badge EMP-0404 is not known" in err
    assert _state(database, number)[:2] == before[:2]


def test_without_a_pin_and_no_terminal_to_ask_on_the_refusal_names_picker_pin(picker) -> None:
    code, _, err = picker("--as", "EMP-0001", "order", "assign")
    assert code == 2 and "give the PIN in PICKER_PIN (no terminal to ask it on)" in err


def test_an_operator_without_the_role_is_refused_by_the_service_in_words(
    picker, database, pins, monkeypatch
) -> None:
    number = _floor(picker)
    before = _state(database, number)
    monkeypatch.setenv("PICKER_PIN", pins["EMP-0002"])  # a picker
    code, _, err = picker("--as", "EMP-0002", "order", "hold", number, "--reason", "x")
    assert code == 1 and err.strip() == "picker: putting an order on hold needs the lead role"
    code, _, err = picker("--as", "EMP-0002", "operator", "add", "EMP-7777", "Mal", "--roles",
                          "lead", "--pin", "1234")  # fmt: skip
    assert code == 1 and "managing operators needs the lead role" in err
    code, _, err = picker("--as", "EMP-0002", "stock", "import", str(FIXTURES / "stock.csv"))
    assert code == 1 and "importing stock needs the lead role" in err
    assert _state(database, number) == before


def test_the_first_lead_needs_no_as_and_the_second_does(capsys, config, db_url, monkeypatch):
    monkeypatch.setenv("PICKER_DATABASE_URL", db_url)

    def run(*args: str) -> tuple[int, str]:
        code = main(["--config", str(config), *args])
        return code, capsys.readouterr().err

    code, err = run("operator", "add", "EMP-0002", "Pat", "--roles", "packer", "--pin", "2222")
    assert code == 2 and REFUSAL in err and "the first operator added is a lead" in err
    assert (
        run("operator", "add", "EMP-0001", "Lea", "--roles", "packer,lead", "--pin", "1111")[0] == 0
    )
    code, err = run("operator", "add", "EMP-0003", "Leo", "--roles", "lead", "--pin", "3333")
    assert code == 2 and err.strip() == f"picker: operator add {REFUSAL}"
    monkeypatch.setenv("PICKER_PIN", "1111")
    assert run("--as", "EMP-0001", "operator", "add", "EMP-0003", "Leo", "--roles", "lead",
               "--pin", "3333")[0] == 0  # fmt: skip
    db = Database(db_url)
    with db.read() as s:
        assert s.scalars(select(Operator.badge).order_by(Operator.badge)).all() == [
            "EMP-0001",
            "EMP-0003",
        ]
    db.dispose()


def test_data_feeds_write_the_os_user_and_host_into_events_and_movements(picker, database) -> None:
    code, _, err = picker("stock", "import", str(FIXTURES / "stock.csv"))
    assert code == 0, err
    code, _, err = picker("import", str(FIXTURES / "shopify_orders.json"))
    assert code == 0, err
    with database.read() as s:
        moves = s.execute(
            select(
                StockMovement.source, StockMovement.operator_id, StockMovement.terminal_id
            ).where(StockMovement.reason == "count")
        ).all()
        events = s.execute(select(OrderEvent.source, OrderEvent.operator_id)).all()
    assert len(moves) == 12 and set(moves) == {(SOURCE, None, "T05")}
    assert len(events) >= 5 and set(events) == {(SOURCE, None)}
    code, out, _ = picker("order", "list", "--status", "assigned", "--format", "json")
    number = json.loads(out)["orders"][0]["number"]
    code, out, _ = picker("order", "show", number)
    assert code == 0 and f"unhandled {SOURCE} T05" in " ".join(out.split())
    code, out, _ = picker("order", "show", number, "--format", "json")
    assert {e["source"] for e in json.loads(out)["events"]} == {SOURCE}


def test_a_data_feed_with_as_runs_as_that_operator(picker, database, pins, monkeypatch) -> None:
    monkeypatch.setenv("PICKER_PIN", pins["EMP-0001"])
    code, _, err = picker("--as", "EMP-0001", "stock", "import", str(FIXTURES / "stock.csv"))
    assert code == 0, err
    code, _, err = picker("--as", "EMP-0001", "import", str(FIXTURES / "shopify_orders.json"))
    assert code == 0, err
    with database.read() as s:
        lead = s.scalar(select(Operator.id).where(Operator.badge == "EMP-0001"))
        moves = s.execute(
            select(StockMovement.source, StockMovement.operator_id).where(
                StockMovement.reason == "count"
            )
        ).all()
        events = s.execute(select(OrderEvent.source, OrderEvent.operator_id)).all()
    assert set(moves) == {(None, lead)} and set(events) == {(None, lead)}


def test_reading_needs_no_operator(picker) -> None:
    number = _floor(picker)
    for args in (
        ("order", "list"),
        ("order", "show", number),
        ("operator", "list"),
        ("print", "queue"),
        ("scans",),
        ("check",),
    ):
        code, _, err = picker(*args)
        assert code == 0 and "--as" not in err, args


def test_a_source_is_cut_to_its_column(monkeypatch) -> None:
    from picker.cli import acting

    monkeypatch.setattr(socket, "gethostname", lambda: "h" * 100)
    assert len(acting.machine_source()) == 64
    assert acting.machine_source().startswith(f"{getpass.getuser()}@hhh")
