"""A database that is not there is refused in words, never made empty by a command that only
looks (a mistyped path, or a config elsewhere whose var/ is read next to it)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from picker.cli import main

#: Commands that only read the floor (and the terminal, which must not start on a new floor).
LOOKING = [
    [],  # the terminal
    ["run", "--station", "packing"],
    ["db", "current"],
    ["order", "list"],
    ["order", "show", "PO-0000001"],
    ["operator", "list"],
    ["scans"],
    ["check"],
    ["print", "queue"],
    ["setup", "export"],
]


def files_under(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


@pytest.mark.parametrize("args", LOOKING, ids=lambda a: " ".join(a) or "terminal")
def test_a_config_elsewhere_is_refused_naming_the_file_and_creates_nothing(
    capsys, tmp_path, args
) -> None:
    config = tmp_path / "site" / "config.toml"
    config.parent.mkdir()
    config.write_text('[terminal]\nid = "T05"\n', encoding="utf-8")
    before = files_under(tmp_path)
    code = main(["--config", str(config), *args])
    out, err = capsys.readouterr()
    wanted = tmp_path / "site" / "var" / "picker.db"
    assert code == 1 and out == ""
    assert err.startswith(f"picker: no database at {wanted} (from the default url "), err
    assert f"read next to {config}" in err
    assert "picker demo" in err and "picker db upgrade" in err
    assert len(err.splitlines()) == 1
    assert files_under(tmp_path) == before  # no var/ folder, no empty database


def test_a_mistyped_database_path_creates_no_folders(capsys, tmp_path, monkeypatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PICKER_DATABASE_URL", "sqlite:///var/pikcer/picker.db")  # mistyped
    code = main(["--config", str(config), "order", "list"])
    _, err = capsys.readouterr()
    assert code == 1
    assert err.startswith(
        f"picker: no database at {tmp_path / 'var' / 'pikcer' / 'picker.db'} (from "
        "PICKER_DATABASE_URL): the file does not exist, and nothing was created."
    )
    assert files_under(tmp_path) == {config}


def test_the_commands_that_make_a_database_still_do(capsys, tmp_path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[database]\nurl = "sqlite:///data/floor.db"\n', encoding="utf-8")
    assert main(["--config", str(config), "order", "list"]) == 1
    assert not (tmp_path / "data").exists()
    assert main(["--config", str(config), "db", "upgrade"]) == 0
    assert (tmp_path / "data" / "floor.db").is_file()
    capsys.readouterr()
    assert main(["--config", str(config), "order", "list"]) == 0
    assert capsys.readouterr().out.endswith("\n0 orders\n")


def test_a_postgresql_database_the_server_lacks_is_named_in_words(
    capsys, config, monkeypatch, postgres_available
) -> None:
    from tests.conftest import PG_ADMIN_URL

    name = f"picker_none_{uuid.uuid4().hex[:8]}"
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    monkeypatch.setenv("PICKER_DATABASE_URL", url)
    for args in ([], ["order", "list"], ["db", "upgrade"]):
        code = main(["--config", str(config), *args])
        out, err = capsys.readouterr()
        assert code == 1 and out == ""
        assert f"has no database '{name}'" in err and "createdb -h 127.0.0.1" in err, err
        assert "picker db upgrade" in err and len(err.splitlines()) == 1
