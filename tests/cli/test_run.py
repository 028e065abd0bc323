"""``picker run``: one config, any terminal — the station, id and printer chosen at start."""

from __future__ import annotations

import shutil
import sys

from picker.cli import main
from tests.cli.terminal import on_a_terminal


def start_on_a_terminal(args: list[str], env: dict[str, str], shown: str) -> tuple[int, str]:
    code, screen, _ = on_a_terminal([sys.executable, "-m", "picker", *args], env, shown)
    return code, screen


def test_picker_run_starts_the_station_and_terminal_it_is_given(
    tmp_path, config, sqlite_template
) -> None:
    database = tmp_path / "picker.db"
    shutil.copyfile(sqlite_template, database)
    env = {"PICKER_DATABASE_URL": f"sqlite:///{database}"}
    args = ["--config", str(config), "run", "--station", "packing", "--terminal", "PACK-1"]
    code, screen = start_on_a_terminal(args, env, "PACK-1 · packing")
    assert "PACK-1 · packing" in screen and code == 0, screen[-2000:]
    # Without a command it is the terminal too, and the environment chooses the station.
    code, screen = start_on_a_terminal(
        ["--config", str(config)], {**env, "PICKER_STATION": "handoff"}, "T05 · handoff"
    )
    assert "T05 · handoff" in screen and code == 0, screen[-2000:]


def test_an_unknown_station_is_refused_listing_the_stations(capsys, config, tmp_path) -> None:
    code = main(["--config", str(config), "run", "--station", "kitchen", "--terminal", "K-1"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err == (
        "picker: configuration: --station: 'kitchen' is not a station; the stations are "
        "picking, packing, handoff, service, returns, receiving, counting\n"
    )
    assert not (tmp_path / "var").exists()  # the config's database: nothing made


def test_other_commands_terminal_and_printer_options_are_filters_not_overrides(cli) -> None:
    """`picker scans --terminal X` filters the journal by terminal; it does not become this
    terminal's id (an id too long for one would refuse the command)."""
    run = cli("")
    assert run("db", "upgrade")[0] == 0
    long_id = "SCANNER-TERMINAL-LONG-ID-OF-ANOTHER-FLOOR"
    code, _, err = run("scans", "--terminal", long_id)
    assert (code, err) == (0, ""), err
    code, _, err = run("print", "queue", "--printer", "a printer with spaces")
    assert (code, err) == (0, ""), err
