"""TUI tests run the real app on a real SQLite file built by the demo seeder."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from picker.config import load_settings
from picker.demo.builder import build_demo
from picker.services import auth
from picker.services.actors import Actor
from picker.store.engine import Database
from picker.tui.app import PickerApp, make_app
from tests.conftest import NOW

# Operators of the tests' own, so screens do not depend on the names Faker draws.
PICKER = ("EMP-0101", "Zofia Wróbel", "picker", "4821")
LEAD = ("EMP-0102", "Łucja [b]Kowalska[/b]", "lead", "7350")
PACKER = ("EMP-0103", "Jan Pakowacz", "packer", "5162")
SERVICE = ("EMP-0104", "Sam Obsługa", "service", "2938")
RECEIVER = ("EMP-0111", "Rita Odbiór", "receiver", "3947")
#: A second picker: a count's recount must be made by someone else.
PICKER2 = ("EMP-0112", "Piotr Liczący", "picker", "6274")


@pytest.fixture(scope="session")
def demo_floor(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("floor") / "floor.db"
    db = Database(f"sqlite:///{path}")
    build_demo(db, orders=60, seed=11, now=NOW)
    for badge, name, roles, pin in (PICKER, LEAD, PACKER, SERVICE, RECEIVER, PICKER2):
        auth.add_operator(db, Actor("T00"), badge, name, roles, pin)
    db.dispose()
    return path


@pytest.fixture
def floor_url(demo_floor: Path, tmp_path: Path) -> str:
    path = tmp_path / "picker.db"
    shutil.copyfile(demo_floor, path)
    return f"sqlite:///{path}"


@pytest.fixture
def settings(tmp_path: Path, floor_url: str):  # type: ignore[no-untyped-def]
    config = tmp_path / "config.toml"
    labels = Path(__file__).resolve().parents[2] / "labels"
    config.write_text(
        f'[terminal]\nid = "T07"\nstation = "picking"\n\n[labels]\ndir = "{labels}"\n'
        # As make run's demo: mail into a folder (here, the test's), sent from the terminal.
        '\n[notify]\nsmtp_url = "file://var/mail"\ndispatch_in_terminal = true\n',
        encoding="utf-8",
    )
    return load_settings(config, environ={"PICKER_DATABASE_URL": floor_url})


@pytest.fixture
def app_factory(settings) -> Iterator:  # type: ignore[no-untyped-def]
    made: list[Database] = []

    def make(url: str | None = None, *, station: str | None = None) -> PickerApp:
        db = Database(url or settings.database.url)
        made.append(db)
        here = settings
        if station is not None:  # a terminal at another station of the floor
            here = replace(settings, terminal=replace(settings.terminal, station=station))
        app = make_app(here, db, clock=lambda: NOW)
        app.bells = 0  # type: ignore[attr-defined]

        def bell() -> None:
            app.bells += 1  # type: ignore[attr-defined]

        app.bell = bell  # type: ignore[method-assign]
        return app

    yield make
    for db in made:
        db.dispose()
