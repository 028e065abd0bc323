"""The `picker` command, run as a user would (in-process, real databases and files)."""

import json
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp

from picker.cli import main


def run(capsys, config: Path, *args: str):  # type: ignore[no-untyped-def]
    code = main(["--config", str(config), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_db_upgrade_current_and_check_on_both_databases(capsys, config, blank_db, monkeypatch):
    monkeypatch.setenv("PICKER_DATABASE_URL", blank_db.url)
    if blank_db.dialect == "sqlite":  # no file yet: looking is refused and makes none
        file = Path(blank_db.engine.url.database)
        code, _, err = run(capsys, config, "db", "current")
        assert code == 1 and f"no database at {file}" in err and not file.exists()
        file.touch()  # an empty file: a database with no schema, as on PostgreSQL
    code, out, _ = run(capsys, config, "db", "current")
    assert code == 0 and "revision none" in out and "run picker db upgrade" in out
    code, _, err = run(capsys, config, "operator", "list")
    assert code == 2 and "has no Picker schema yet. Run: picker db upgrade" in err
    code, out, _ = run(capsys, config, "db", "upgrade")
    from picker.store.migrate import head_revision

    assert code == 0 and f"upgraded from empty to {head_revision()}" in out
    code, out, _ = run(capsys, config, "db", "upgrade")
    assert "already at the newest schema" in out
    code, out, _ = run(capsys, config, "db", "current")
    assert "up to date" in out
    code, out, _ = run(capsys, config, "db", "check")
    assert code == 0 and "models and migrations agree" in out


def test_the_terminal_refuses_a_database_behind_head_naming_the_command(
    capsys, config, tmp_path, monkeypatch
) -> None:
    (tmp_path / "old.db").touch()  # a database with no schema
    monkeypatch.setenv("PICKER_DATABASE_URL", f"sqlite:///{tmp_path / 'old.db'}")
    code, _out, err = run(capsys, config)
    assert code == 2
    assert err.strip().endswith("has no Picker schema yet. Run: picker db upgrade")
    assert len(err.strip().splitlines()) == 1


def test_operator_add_list_disable_enable_reset(capsys, config, db_url, monkeypatch) -> None:
    monkeypatch.setenv("PICKER_DATABASE_URL", db_url)
    code, out, _ = run(capsys, config, "operator", "add", "EMP-0001", "Lea", "--roles", "lead",
                       "--pin", "1111")  # fmt: skip
    assert code == 0 and out.strip() == "added EMP-0001 Lea (lead)"  # the first lead
    monkeypatch.setenv("PICKER_PIN", "1111")
    lead = ("--as", "EMP-0001")
    code, out, _ = run(
        capsys, config, *lead, "operator", "add", "EMP-0042", "Ewa Kąt", "--roles", "packer",
        "--pin", "2468",
    )  # fmt: skip
    assert code == 0 and out.strip() == "added EMP-0042 Ewa Kąt (packer)"
    code, out, _ = run(capsys, config, *lead, "operator", "disable", "EMP-0042")
    code, out, _ = run(capsys, config, "operator", "list")
    assert "EMP-0042" in out and "disabled" in out and "2 operators" in out
    run(capsys, config, *lead, "operator", "enable", "EMP-0042")
    code, out, _ = run(capsys, config, *lead, "operator", "reset-pin", "EMP-0042", "--pin", "1357")
    assert code == 0 and "new PIN set" in out
    code, out, _ = run(capsys, config, "operator", "list")
    assert "active" in out and "disabled" not in out


def test_operator_errors_are_one_line_and_change_nothing(capsys, config, db_url, monkeypatch):
    monkeypatch.setenv("PICKER_DATABASE_URL", db_url)
    code, _, err = run(
        capsys, config, "operator", "add", "EMP-0042", "Ewa", "--roles", "chef", "--pin", "2468"
    )
    assert (
        code == 1
        and err.strip()
        == "picker: 'chef' is not a role (known: picker, packer, lead, service, returns, receiver)"
    )
    code, _, err = run(capsys, config, "operator", "add", "EMP-0042", "Ewa", "--roles", "lead")
    assert code == 2 and "give the PIN with --pin" in err
    code, out, _ = run(capsys, config, "operator", "list")
    assert "0 operators" in out
    run(capsys, config, "operator", "add", "EMP-0001", "Lea", "--roles", "lead", "--pin", "1111")
    monkeypatch.setenv("PICKER_PIN", "1111")
    code, _, err = run(capsys, config, "--as", "EMP-0001", "operator", "disable", "EMP-0999")
    assert code == 1 and err.strip() == "picker: no operator has badge EMP-0999"


def test_arguments_echoed_in_errors_cannot_drive_the_terminal(capsys, config, db_url, monkeypatch):
    """An argument carrying an OSC title sequence (ESC ] … BEL) or a CSI comes back escaped, in
    the command's own refusal and in argparse's usage errors alike."""
    monkeypatch.setenv("PICKER_DATABASE_URL", db_url)
    code, _, err = run(capsys, config, "order", "show", "PO-1\x1b]0;pwned\x07")
    assert code == 1 and err.strip() == "picker: no order PO-1\\x1b]0;pwned\\x07"
    code, _, err = run(capsys, config, "--as", "EMP-\x9b31m", "operator", "disable", "EMP-0001")
    assert code == 1 and "\x9b" not in err and "EMP-\\x9b31M" in err
    with pytest.raises(SystemExit):
        main(["--config", str(config), "bench", "pick", "--picks", "9\x1b[2J"])
    _, err = capsys.readouterr()
    assert "\x1b" not in err and "\\x1b[2J" in err


def test_an_argument_that_is_not_utf8_is_refused_in_words_not_a_traceback(capsys, config):
    # The OS hands Python bytes it cannot decode as lone surrogates (PEP 383).
    raw = b"PO-1\xff".decode("utf-8", "surrogateescape")
    code, out, err = run(capsys, config, "order", "show", raw)
    assert (code, out) == (2, "")
    assert err == "picker: argument 5 (PO-1\\xff) is not UTF-8 text\n"


def test_a_site_asking_for_six_digit_pins_refuses_four(capsys, config, db_url, monkeypatch):
    monkeypatch.setenv("PICKER_DATABASE_URL", db_url)
    config.write_text(config.read_text() + "[login]\npin_length = 6\n", encoding="utf-8")
    add = ("operator", "add", "EMP-0042", "Ewa", "--roles", "lead", "--pin")
    code, _, err = run(capsys, config, *add, "2468")
    assert code == 1 and err.strip() == "picker: a PIN is 6 to 8 digits"
    assert run(capsys, config, *add, "246813")[0] == 0
    monkeypatch.setenv("PICKER_PIN", "246813")
    code, _, err = run(capsys, config, "--as", "EMP-0042", "operator", "reset-pin", "EMP-0042",
                       "--pin", "1357")  # fmt: skip
    assert code == 1 and "6 to 8 digits" in err
    from picker.domain.pins import LockoutPolicy
    from picker.services.auth import login
    from picker.store.engine import Database

    db = Database(db_url)
    assert login(db, "T05", "EMP-0042", "246813", policy=LockoutPolicy()).badge == "EMP-0042"
    db.dispose()


def test_a_database_from_a_newer_picker_is_named_as_such(capsys, config, db_url, monkeypatch):
    from sqlalchemy import text

    from picker.store.engine import Database

    db = Database(db_url)
    with db.transaction() as s:
        s.execute(text("UPDATE alembic_version SET version_num = 'f00dcafe'"))
    db.dispose()
    monkeypatch.setenv("PICKER_DATABASE_URL", db_url)
    code, out, _ = run(capsys, config, "db", "current")
    assert code == 0 and "made by a newer Picker than this one" in out
    code, _, err = run(capsys, config)
    assert code == 2 and "made by a newer Picker" in err and "Update Picker" in err
    code, _, err = run(capsys, config, "db", "upgrade")
    assert code == 1 and err.startswith("picker: the database schema cannot be changed:")
    assert len(err.strip().splitlines()) == 1


def test_a_database_file_that_cannot_be_made_is_one_line(capsys, config, monkeypatch) -> None:
    monkeypatch.setenv("PICKER_DATABASE_URL", "sqlite:////proc/picker/none.db")
    code, out, err = run(capsys, config, "db", "upgrade")  # the command that makes one
    assert code == 1 and out == ""
    assert err.startswith("picker: /proc/picker:") and "Traceback" not in err


def test_a_malformed_database_url_is_a_configuration_error(capsys, config, monkeypatch) -> None:
    monkeypatch.setenv("PICKER_DATABASE_URL", "postgresql://pick:s3cret@db:port/picker")
    code, _, err = run(capsys, config, "db", "current")
    assert code == 2
    assert "is not a well-formed database URL" in err and "s3cret" not in err


def test_operator_badges_follow_the_configured_badge_pattern(
    capsys, tmp_path, db_url, monkeypatch
) -> None:
    config = tmp_path / "badge.toml"
    config.write_text("[scanner.patterns]\nbadge = '^B[0-9]{3}$'\n", encoding="utf-8")
    monkeypatch.setenv("PICKER_DATABASE_URL", db_url)
    code, _, err = run(capsys, config, "operator", "add", "EMP-0001", "Al", "--roles", "lead",
                       "--pin", "1234")  # fmt: skip
    assert code == 1 and "does not match the badge pattern" in err
    code, out, _ = run(capsys, config, "operator", "add", "B042", "Al", "--roles", "lead",
                       "--pin", "1234")  # fmt: skip
    assert code == 0 and "added B042" in out


def test_an_unreachable_database_is_named_in_one_line(capsys, config, monkeypatch) -> None:
    monkeypatch.setenv("PICKER_DATABASE_URL", "postgresql://postgres@127.0.0.1:9/none")
    code, out, err = run(capsys, config, "db", "current")
    assert code == 1 and out == ""
    assert err.startswith("picker: the database cannot be used:")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_demo_builds_a_floor_prints_badges_and_writes_a_scannable_floor_sheet(
    capsys, config, tmp_path
) -> None:
    code, out, err = run(capsys, config, "demo", "--orders", "30", "--seed", "3")
    assert code == 0
    assert "30 orders" in out and "EMP-0001" in out and "lead" in out
    assert "orders" in err  # the progress bar
    badges = (tmp_path / "var" / "demo-badges.txt").read_text(encoding="utf-8")
    pins = dict(line.split()[:2] for line in badges.splitlines()[1:])
    # Both files hold every PIN: readable by their owner only.
    for secret in ("demo-badges.txt", "floor-sheet.pdf"):
        assert (tmp_path / "var" / secret).stat().st_mode & 0o777 == 0o600, secret
    assert set(pins) == {f"EMP-000{i}" for i in range(1, 7)}
    # The printed badges really scan, and log in with the printed PINs.
    pdf = pypdfium2.PdfDocument(str(tmp_path / "var" / "floor-sheet.pdf"))
    decoded = []
    for page in pdf:
        decoded += [r.text for r in zxingcpp.read_barcodes(page.render(scale=203 / 72).to_pil())]
    pdf.close()
    assert set(pins) <= set(decoded)
    assert {"CMD-LOGOUT", "CMD-UNDO", "A-01-01-1", "BOX-M", "LANE-1", "LANE-3"} <= set(decoded)
    assert any(code.startswith("T-") for code in decoded)  # free totes
    # Every barcode of every product, over as many pages as it takes (once only 10 were).
    from sqlalchemy import select

    from picker.store.engine import Database
    from picker.store.models import ProductBarcode

    floor = Database(f"sqlite:///{tmp_path / 'var' / 'picker.db'}")
    with floor.read() as s:
        barcodes = s.scalars(select(ProductBarcode.barcode)).all()
    floor.dispose()
    products = [code for code in decoded if code.isdigit()]
    assert len(barcodes) > 100 and sorted(products) == sorted(barcodes)
    from picker.domain.pins import LockoutPolicy
    from picker.services.auth import login
    from picker.store.engine import Database

    db = Database(f"sqlite:///{tmp_path / 'var' / 'picker.db'}")
    for badge, pin in pins.items():
        assert login(db, "T05", badge, pin, policy=LockoutPolicy()).badge == badge
    db.dispose()
    code, _, err = run(capsys, config, "demo", "--orders", "5")
    assert code == 1 and "--reset" in err


def test_bench_demo_reports_the_documented_json(capsys, config, tmp_path) -> None:
    code, out, _ = run(
        capsys, config, "bench", "demo", "--orders", "400", "--json",
        "--database", f"sqlite:///{tmp_path / 'bench.db'}",
    )  # fmt: skip
    assert code == 0
    report = json.loads(out)
    assert report["bench"] == "demo" and report["database"] == "sqlite"
    assert report["orders"] == 400
    build = report["metrics"]["build_time"]
    assert set(build) == {"median", "p99", "unit", "target", "pass"} and build["median"] > 0
    assert report["metrics"]["database_size"]["median"] > 0


def test_bench_find_times_every_kind_of_key_and_finds_each_order(capsys, config, tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'find.db'}"
    code, out, _ = run(
        capsys, config, "bench", "find", "--orders", "300", "--queries", "20", "--json",
        "--database", url,
    )  # fmt: skip
    assert code == 0
    report = json.loads(out)
    assert report["bench"] == "find" and report["orders"] == 300
    kinds = ("number", "shop", "tracking", "email", "phone", "name", "no_match", "json_rows")
    for kind in kinds:
        row = report["metrics"][kind]
        assert row["unit"] == "ms" and row["target"] == 50 and row["p99"] >= row["median"] > 0
    assert report["metrics"]["not_found"]["median"] == 0  # every search found its order
    code, out, _ = run(
        capsys, config, "bench", "find", "--orders", "300", "--queries", "5", "--json",
        "--reuse", "--database", url,
    )  # fmt: skip
    assert code == 0 and json.loads(out)["metrics"]["not_found"]["median"] == 0
