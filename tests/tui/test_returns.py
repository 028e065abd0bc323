"""The returns desk on the real app, by scans alone: a parcel's tracking number opens its return,
each unit is scanned and judged, a resellable one put away by a bin scan, a damaged one sent to
quarantine; refusals in red with the bell; a return held at another terminal; park and resume;
an exchange. Snapshots at 80x24 and on a 40x16 handheld.

The floor is built from scratch: the demo catalogue, bins and couriers with no orders, and orders
imported, picked, packed and handed to their courier by the services, as the floor would."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from picker.config import load_settings
from picker.demo.builder import build_demo
from picker.services import auth
from picker.services.actors import Actor
from picker.store.engine import Database
from picker.store.models import Bin, Order, Product, ProductBarcode, Stock
from picker.tui.screens.returns import ReturnsScreen
from tests.conftest import NOW, REPO
from tests.tui.conftest import LEAD
from tests.tui.helpers import scan, settle

RETURNS = ("EMP-0105", "Rita Zwrot", "returns", "6043")
RETURNS_2 = ("EMP-0106", "Olek Drugi", "returns", "1357")
#: The orders of the floor, handed over to their courier: shop number → lines.
ORDERS: dict[str, tuple[tuple[str, int], ...]] = {
    "0901": (("SKU-00001", 2), ("SKU-00002", 1)),
    "0902": (("SKU-00003", 1),),
    "0903": (("SKU-00002", 2),),
}


@pytest.fixture(scope="session")
def returns_floor(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A small floor built once per session: the demo catalogue with no orders, the tests'
    operators, and the orders of ORDERS shipped (order number and tracking numbers of each)."""
    from tests.services.tracking.test_events import shipped

    path = tmp_path_factory.mktemp("returns") / "floor.db"
    db = Database(f"sqlite:///{path}")
    build_demo(db, orders=0, seed=1, now=NOW)
    for badge, name, roles, pin in (RETURNS, RETURNS_2, LEAD):
        auth.add_operator(db, Actor("T00"), badge, name, roles, pin)
    settings = load_settings(REPO / "config.toml", environ={})
    made = {no: shipped(db, settings, *lines, tote=f"T-{no}") for no, lines in ORDERS.items()}
    db.dispose()
    return {"path": path, "orders": made}


@pytest.fixture
def floor_url(returns_floor, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / "picker.db"
    shutil.copyfile(returns_floor["path"], path)
    return f"sqlite:///{path}"


def shipped_order(returns_floor, shop_no: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """(order number, tracking number) of a shipped order of the floor."""
    number, tracking = returns_floor["orders"][shop_no]
    return number, tracking[0]


def with_db(url: str, fn):  # type: ignore[no-untyped-def]
    db = Database(url)
    try:
        return fn(db)
    finally:
        db.dispose()


def barcode_of(url: str, sku: str) -> str:
    def read(db: Database) -> str:
        with db.read() as s:
            return s.scalar(
                select(ProductBarcode.barcode).join(Product).where(Product.sku == sku).limit(1)
            )

    return with_db(url, read)


def on_hand(url: str, sku: str, bin_code: str) -> int:
    def read(db: Database) -> int:
        with db.read() as s:
            return s.scalar(
                select(Stock.on_hand).join(Bin, Bin.id == Stock.bin_id)
                .join(Product, Product.id == Stock.product_id)
                .where(Product.sku == sku, Bin.code == bin_code)
            ) or 0  # fmt: skip

    return with_db(url, read)


def order_status(url: str, number: str) -> str:
    def read(db: Database) -> str:
        with db.read() as s:
            return s.scalar(select(Order.status).where(Order.number == number))

    return with_db(url, read)


async def to_desk(pilot, who=RETURNS) -> ReturnsScreen:  # type: ignore[no-untyped-def]
    await scan(pilot, who[0])
    await scan(pilot, who[3])
    await pilot.press("enter")  # home: Enter opens this terminal's station, the returns desk
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReturnsScreen)
    return screen


def bells(pilot) -> int:  # type: ignore[no-untyped-def]
    return pilot.app.bells  # type: ignore[no-any-return]
