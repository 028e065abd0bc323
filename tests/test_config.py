"""config.toml → settings; every bad file or value is one clear line naming the key."""

import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from picker.config import ConfigError, TerminalChoice, load_settings

REPO = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_config_is_the_built_in_default(tmp_path, monkeypatch) -> None:
    shipped = load_settings(REPO / "config.toml", environ={})
    monkeypatch.chdir(tmp_path)  # no config.toml here: built-in defaults
    builtin = load_settings(None, environ={})
    assert builtin.source is None and shipped.source == REPO / "config.toml"
    for section in ("terminal", "login", "labels", "warehouse"):
        a, b = getattr(shipped, section), getattr(builtin, section)
        if section == "labels":
            a, b = (a.format, a.output), (b.format, b.output)
        assert a == b, section
    assert {k: p.pattern for k, p in shipped.scanner.patterns.items()} == {
        k: p.pattern for k, p in builtin.scanner.patterns.items()
    }
    assert shipped.database.url == f"sqlite:///{REPO / 'var' / 'picker.db'}"
    assert shipped.notify.events == builtin.notify.events
    # The demo's mail folder and background dispatcher are the shipped file's, not built in:
    # a config without [notify] never marks customers' mail sent into a folder.
    demo = {"smtp_url": "", "dispatch_in_terminal": False}
    assert replace(shipped.notify, **demo) == builtin.notify
    assert shipped.notify.smtp_url == f"file://{REPO / 'var' / 'mail'}"
    assert shipped.notify.dispatch_in_terminal is True


def test_a_relative_sqlite_path_is_relative_to_the_config_file(tmp_path) -> None:
    settings = load_settings(write(tmp_path, '[database]\nurl = "sqlite:///data/f.db"\n'), {})
    assert settings.database.url == f"sqlite:///{tmp_path / 'data' / 'f.db'}"


def test_picker_database_url_overrides_the_file(tmp_path) -> None:
    path = write(tmp_path, '[database]\nurl = "sqlite:///a.db"\n')
    settings = load_settings(path, {"PICKER_DATABASE_URL": "postgresql://pg@db.floor/picker"})
    assert settings.database.url == "postgresql+psycopg://pg@db.floor/picker"


def test_picker_config_chooses_the_file(tmp_path, monkeypatch) -> None:
    path = write(tmp_path, '[terminal]\nid = "PACK-2"\nstation = "packing"\n')
    monkeypatch.setenv("PICKER_CONFIG", str(path))
    settings = load_settings()
    assert (settings.terminal.id, settings.terminal.station) == ("PACK-2", "packing")


def test_scanner_patterns_can_be_overridden_one_by_one(tmp_path) -> None:
    path = write(tmp_path, "[scanner]\nprefix = \"]C1\"\n[scanner.patterns]\nbadge = '^B\\d+$'\n")
    settings = load_settings(path, {})
    assert settings.scanner.prefix == "]C1"
    assert settings.scanner.patterns["badge"].fullmatch("B42")
    assert settings.scanner.patterns["tote"].fullmatch("T-0042")
    assert "parcel" not in settings.scanner.patterns  # optional, none by default
    assert settings.scanner.burst_gap_ms == 30


def test_a_parcel_pattern_makes_a_courier_number_a_parcel_not_a_product(tmp_path) -> None:
    from picker.domain.scanning import ScanKind, ScanRouter

    swift = "73000000000013"  # 14 digits with a valid mod-10 digit: a GTIN-14 by its shape
    path = write(
        tmp_path, "[scanner]\nburst_gap_ms = 40\n[scanner.patterns]\nparcel = '^73\\d{12}$'\n"
    )
    settings = load_settings(path, {})
    assert settings.scanner.burst_gap_ms == 40
    router = ScanRouter(settings.scanner.patterns)
    assert router.classify(swift).kind is ScanKind.PARCEL
    assert (
        ScanRouter(load_settings(None, {}).scanner.patterns).classify(swift).kind
        is ScanKind.PRODUCT
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[terminal\nid = 1", "is not valid TOML"),
        ('[terminal]\nstation = "kitchen"\n', "station: 'kitchen' is not one of picking"),
        ("[terminal]\nid = 7\n", "[terminal] id: must be text in quotes, not a number"),
        ('[terminal]\nid = "a b"\n', "[terminal] id: 'a b' must be 1-16 letters"),
        ("[login]\nmax_failed_pins = 0\n", "[login] max_failed_pins: 0 is out of range (1 to 100)"),
        ("[login]\nlockout_minutes = true\n", "[login] lockout_minutes: must be a whole number"),
        ("[login]\npin_length = 3\n", "[login] pin_length: 3 is out of range (4 to 8)"),
        ("[login]\npin_length = 9\n", "[login] pin_length: 9 is out of range (4 to 8)"),
        ("[scanner.patterns]\nbadge = '(EMP'\n", "[scanner.patterns] badge: '(EMP' is not a valid"),
        ('[printer]\nbackend = "tcp"\n', "[printer] host: must name the printer's host"),
        ("[printer]\nport = 70000\n", "[printer] port: 70000 is out of range"),
        ('[database]\nurl = "mysql://x"\n', "is not a database URL Picker can use"),
        ('[database]\nurl = "sqlite:///:memory:"\n', "an in-memory database would lose"),
        ('[labels]\nformat = "a4"\n', "[labels] format: 'a4' is not one of 4x6, a6"),
        ('[terminal]\nstaton = "packing"\n', "[terminal] staton: unknown key"),
        ("[printers]\n", "[printers]: unknown section"),
        ("terminal = 3\n", "[terminal]: must be a table"),
        ('[warehouse]\ncountry = "Poland"\n', "[warehouse] country: 'Poland' must be a two-letter"),
    ],
)
def test_a_bad_value_is_named_with_its_key(tmp_path, text, message) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_settings(path, {})
    assert message in str(err.value)
    assert str(err.value).startswith(str(path))
    assert "\n" not in str(err.value)


def test_a_missing_or_binary_file_is_named(tmp_path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_settings(tmp_path / "nope.toml", {})
    path = tmp_path / "bin.toml"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        load_settings(path, {})


def test_the_command_line_says_one_line_and_exits_2_never_a_traceback(tmp_path) -> None:
    path = write(tmp_path, '[terminal]\nstation = "kitchen"\n')
    done = subprocess.run(
        [sys.executable, "-m", "picker", "--config", str(path), "db", "current"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert re.search(r"\[terminal\] station: 'kitchen' is not one of", lines[0])


def test_the_printer_is_named_after_the_terminal_unless_the_file_names_it(tmp_path) -> None:
    shipped = load_settings(REPO / "config.toml", environ={}).printer
    builtin = load_settings(write(tmp_path, ""), {}).printer
    assert (shipped.name, shipped.timeout_s, shipped.poll_s) == ("T01", 10.0, 2.0)
    assert (builtin.name, builtin.timeout_s, builtin.poll_s) == ("T01", 10.0, 2.0)
    own = load_settings(write(tmp_path, '[terminal]\nid = "PACK-2"\n'), {}).printer
    assert own.name == "PACK-2"  # each terminal its own printer by default
    shared = load_settings(
        write(tmp_path, '[terminal]\nid = "PACK-2"\n[printer]\nname = "zebra-1"\ntimeout_s = 3\n'),
        {},
    ).printer
    assert (shared.name, shared.timeout_s) == ("zebra-1", 3.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[printer]\nname = "Zebra 1"\n', "[printer] name: 'Zebra 1' must be 1-64 letters"),
        ("[printer]\ntimeout_s = 0\n", "[printer] timeout_s: 0 is out of range (0.5 to 60.0)"),
        ('[printer]\npoll_s = "2"\n', "[printer] poll_s: must be a number, not text"),
    ],
)
def test_a_bad_printer_name_or_timing_is_named_with_its_key(tmp_path, text, message) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_settings(path, {})
    assert message in str(err.value)


def test_the_terminal_is_chosen_by_flag_then_environment_then_file(tmp_path) -> None:
    path = write(tmp_path, '[terminal]\nid = "T07"\nstation = "handoff"\n')
    env = {"PICKER_STATION": "packing", "PICKER_TERMINAL": "PACK-2", "PICKER_PRINTER": "zebra-2"}
    file = load_settings(path, {})
    assert (file.terminal.id, file.terminal.station, file.printer.name) == ("T07", "handoff", "T07")
    by_env = load_settings(path, env)
    assert (by_env.terminal.id, by_env.terminal.station) == ("PACK-2", "packing")
    assert by_env.printer.name == "zebra-2"
    by_flag = load_settings(
        path, env, TerminalChoice(station="picking", terminal="PICK-9", printer="laser-1")
    )
    assert (by_flag.terminal.id, by_flag.terminal.station) == ("PICK-9", "picking")
    assert by_flag.printer.name == "laser-1"
    # A terminal chosen without a printer keeps its own printer, named after it; an empty
    # variable counts as unset.
    own = load_settings(path, {"PICKER_PRINTER": ""}, TerminalChoice(terminal="PACK-3"))
    assert (own.terminal.id, own.terminal.station, own.printer.name) == (
        "PACK-3", "handoff", "PACK-3",
    )  # fmt: skip
    # A printer the file names stays shared unless overridden.
    named = write(tmp_path, '[terminal]\nid = "T07"\n[printer]\nname = "zebra-1"\n')
    assert load_settings(named, {"PICKER_TERMINAL": "T08"}).printer.name == "zebra-1"


@pytest.mark.parametrize(
    ("environ", "choice", "message"),
    [
        ({}, TerminalChoice(station="kitchen"),
         "--station: 'kitchen' is not a station; the stations are picking, packing, handoff"),
        ({"PICKER_STATION": "Packing"}, TerminalChoice(),
         "PICKER_STATION: 'Packing' is not a station; the stations are picking, packing, handoff"),
        ({}, TerminalChoice(terminal="T 1"), "--terminal: 'T 1' is no terminal id"),
        ({"PICKER_TERMINAL": "x" * 17}, TerminalChoice(), "PICKER_TERMINAL: 'xxxxxxxxxxxxxxxxx'"),
        ({"PICKER_PRINTER": "a/b"}, TerminalChoice(), "PICKER_PRINTER: 'a/b' is no printer name"),
    ],
)  # fmt: skip
def test_a_bad_station_terminal_or_printer_is_refused_naming_where_it_came_from(
    tmp_path, environ, choice, message
) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, ""), environ, choice)
    assert str(err.value).startswith(message)
