"""Finding any order by number, shop number, tracking, e-mail, phone or name, on both
databases: the keys are written by intake with the order, and by migration 0015 for orders
that were there before."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from picker.services.actors import Actor
from picker.services.errors import ServiceError
from picker.services.intake import order_import
from picker.services.orders.find import find_by_shop_number, find_orders
from picker.store import migrate
from picker.store.engine import Database
from picker.store.models import Courier, Order, OrderSearchKey, Parcel
from tests.conftest import NOW

FIXTURES = Path(__file__).parents[2] / "fixtures" / "intake"
LEAD = Actor("T01")


def _import(db: Database, settings, name: str, channel: str | None = None) -> None:  # type: ignore[no-untyped-def]
    data = (FIXTURES / name).read_bytes()
    parsed = order_import.read_export(data, settings=settings, file_name=name, channel=channel)
    report = order_import.import_orders(
        db, LEAD, parsed, settings=settings, file_name=name, clock=lambda: NOW
    )
    assert not report.failed


@pytest.fixture
def shop(floor: Database, settings) -> Database:  # type: ignore[no-untyped-def]
    """The demo catalogue, with the Shopify fixture's five orders and the CSV fixture's."""
    _import(floor, settings, "shopify_orders.json")
    _import(floor, settings, "orders.csv", channel="wholesale")
    return floor


def _number(db: Database, shop_order_no: str) -> str:
    with db.read() as s:
        return s.scalars(select(Order.number).where(Order.shop_order_no == shop_order_no)).one()


def _found(db: Database, text_: str, limit: int = 20) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(o.number, o.shop_order_no, o.matched) for o in find_orders(db, text_, limit)]


def test_intake_writes_each_orders_keys_with_it(shop: Database) -> None:
    with shop.read() as s:
        order_id = s.scalar(select(Order.id).where(Order.shop_order_no == "1003"))
        keys = set(
            s.execute(
                select(OrderSearchKey.kind, OrderSearchKey.key).where(
                    OrderSearchKey.order_id == order_id
                )
            ).all()
        )
        orders = s.scalar(select(Order.id).order_by(Order.id.desc()).limit(1))
        with_keys = s.scalar(text("SELECT COUNT(DISTINCT order_id) FROM order_search_keys"))
    assert keys == {
        ("shop", "1003"), ("email", "huong.nguyen@example.vn"), ("phone", "838221234"),
        ("name", "thi"), ("name", "huong"), ("name", "nguyen"),
    }  # fmt: skip
    assert with_keys == orders  # every order imported, on hold or not, has its keys


def test_each_kind_of_key_finds_its_order(shop: Database) -> None:
    n1001, n1003 = _number(shop, "1001"), _number(shop, "1003")
    assert _found(shop, n1001) == [(n1001, "1001", ("number",))]
    assert _found(shop, n1001.lower()) == [(n1001, "1001", ("number",))]
    assert _found(shop, "#1001") == [(n1001, "1001", ("shop",))]
    assert _found(shop, "1001") == [(n1001, "1001", ("shop",))]
    assert _found(shop, "HUONG.NGUYEN@example.VN") == [(n1003, "1003", ("email",))]
    assert _found(shop, "+84 (28) 3822-1234") == [(n1003, "1003", ("phone",))]
    assert _found(shop, "nguyen") == [(n1003, "1003", ("name",))]


def test_a_tracking_number_finds_the_order_of_its_parcel(shop: Database) -> None:
    with shop.transaction() as s:
        order_id = s.scalar(select(Order.id).where(Order.shop_order_no == "1002"))
        courier = s.scalar(select(Courier.id).order_by(Courier.id).limit(1))
        for seq, tracking in enumerate(("EE123456785PL", "EE000000017PL"), start=1):
            s.add(Parcel(order_id=order_id, seq=seq, courier_id=courier, status="closed",
                         tracking_no=tracking, closed_at=NOW))  # fmt: skip
    n1002 = _number(shop, "1002")
    assert _found(shop, "EE123456785PL") == [(n1002, "1002", ("tracking",))]
    assert _found(shop, " ee000000017pl ") == [(n1002, "1002", ("tracking",))]


def test_names_are_found_whatever_the_accents_and_case(shop: Database) -> None:
    n1001, n1004 = _number(shop, "1001"), _number(shop, "1004")
    n3001 = _number(shop, "PL-3001")
    assert _found(shop, "lukasz WISNIEWSKI") == [(n1001, "1001", ("name",))]
    assert _found(shop, "Łukasz") == [(n1001, "1001", ("name",))]
    assert _found(shop, "zoe muller") == [(n1004, "1004", ("name",))]
    assert _found(shop, "WÓJCIK katarzyna") == [(n3001, "PL-3001", ("name",))]
    assert [o[0] for o in _found(shop, "山田")] == [_number(shop, "1002")]


def test_every_word_of_a_name_must_match(shop: Database) -> None:
    assert _found(shop, "lukasz nguyen") == []
    assert _found(shop, "zoe nobody") == []


def test_hostile_text_is_searched_literally(shop: Database) -> None:
    n1005 = _number(shop, "1005")
    # The customer's name holds Rich markup and an escape: found by its words, shown as data.
    found = find_orders(shop, "novak")
    assert [(o.number, o.customer) for o in found] == [(n1005, "[bold]Jan[/bold] \x1b[31mNovák")]
    assert _found(shop, "[bold]Jan[/bold]") == [(n1005, "1005", ("name",))]
    for wildcard in ("%", "_", "%@%", "1%", "'; DROP TABLE orders; --", "*"):
        assert _found(shop, wildcard) == []
    with shop.read() as s:
        assert s.scalar(text("SELECT COUNT(*) FROM orders")) > 0


@pytest.mark.parametrize("bad", ["", "  ", "jan\x1b[31m", "\u202ejan", "x" * 300])
def test_text_that_is_no_search_is_refused_in_words(shop: Database, bad: str) -> None:
    with pytest.raises(ServiceError) as refused:
        find_orders(shop, bad)
    assert "search" in str(refused.value)


def test_no_match_is_an_empty_list(shop: Database) -> None:
    assert find_orders(shop, "nobody@nowhere.test") == []
    assert find_orders(shop, "PO-9999999") == []


def test_the_limit_keeps_the_newest_orders(floor: Database, settings) -> None:  # type: ignore[no-untyped-def]
    _import(floor, settings, "shopify_orders.json")
    _import(floor, settings, "shopify_orders.json", channel="second-shop")
    _import(floor, settings, "shopify_orders.json", channel="third-shop")
    with floor.read() as s:
        numbers = list(
            s.scalars(
                select(Order.number).where(Order.shop_order_no == "1004").order_by(Order.id.desc())
            )
        )
    assert len(numbers) == 3
    assert [o.number for o in find_orders(floor, "#1004", limit=2)] == numbers[:2]
    assert [o.number for o in find_orders(floor, "zoë müller", limit=5)] == numbers
    assert [o.channel for o in find_by_shop_number(floor, "1004")] == [
        "third-shop", "second-shop", "shopify",
    ]  # fmt: skip
    with pytest.raises(ServiceError):
        find_orders(floor, "1004", limit=0)


def test_a_common_first_name_with_a_rare_surname_is_found(floor: Database, settings) -> None:  # type: ignore[no-untyped-def]
    from tests.services.intake.test_order_import import order, run

    anna = [order(str(5000 + n), customer_name=f"Anna Kowalska{n}") for n in range(30)]
    run(floor, settings, *anna, order("6000", customer_name="Anna Rzadka"))
    found = find_orders(floor, "anna rzadka", limit=5)
    assert [o.shop_order_no for o in found] == ["6000"]
    assert len(find_orders(floor, "ANNA", limit=50)) == 31


def _add_order_before_0015(conn, n: int, name: str, email: str | None, phone: str | None) -> None:  # type: ignore[no-untyped-def]
    placed = (NOW - timedelta(days=n)).replace(tzinfo=None)
    conn.execute(
        text(
            "INSERT INTO orders (id, number, channel, shop_order_no, customer_name, "
            "customer_email, ship_name, ship_street, ship_postal_code, ship_city, ship_country, "
            "ship_phone, shipping_method, currency, total_amount, paid, placed_at, priority, "
            "status, hold_reasons, version, created_at, updated_at) VALUES (:id, :number, "
            "'shopify', :shop, :name, :email, :name, 'Kwiatowa 1', '00-950', 'Warszawa', 'PL', "
            ":phone, 'post_standard', 'PLN', 199000, true, :at, 0, 'unhandled', '[]', 1, :at, :at)"
        ),
        {"id": n, "number": f"PO-{n:07d}", "shop": f"#{900 + n}", "name": name, "email": email,
         "phone": phone, "at": placed},
    )  # fmt: skip


def test_the_migration_writes_the_keys_of_orders_already_there(blank_db: Database) -> None:
    migrate.upgrade(blank_db.engine, "0013")
    with blank_db.engine.begin() as conn:
        _add_order_before_0015(conn, 1, "Nguyễn Văn An", "An@Example.vn", "+84 90 123 4567")
        _add_order_before_0015(conn, 2, "Łucja Żak", None, None)
    migrate.upgrade(blank_db.engine)
    assert _found(blank_db, "nguyen an") == [("PO-0000001", "#901", ("name",))]
    assert _found(blank_db, "an@example.VN") == [("PO-0000001", "#901", ("email",))]
    assert _found(blank_db, "090 123 4567") == [("PO-0000001", "#901", ("phone",))]
    assert _found(blank_db, "902") == [("PO-0000002", "#902", ("shop",))]
    assert _found(blank_db, "lucja zak") == [("PO-0000002", "#902", ("name",))]
    migrate.downgrade(blank_db.engine, "0013")
    with blank_db.engine.connect() as conn:
        from sqlalchemy import inspect

        assert "order_search_keys" not in inspect(conn).get_table_names()
        assert conn.execute(text("SELECT COUNT(*) FROM orders")).scalar() == 2
