"""Service-test fixtures shared across files: the repository's settings and a demo floor."""

from __future__ import annotations

from pathlib import Path

import pytest

from picker.config import Settings, load_settings
from picker.demo.builder import build_demo
from picker.store.engine import Database
from tests.conftest import NOW

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def settings() -> Settings:
    return load_settings(REPO / "config.toml", environ={})


@pytest.fixture
def floor(db: Database) -> Database:
    """The demo catalogue, bins, couriers and operators, with no orders."""
    build_demo(db, orders=0, seed=1, now=NOW)
    return db
