"""The lead's actions on an order: release (checked again), retry the held-short, hold, cancel,
and give an order to a named picker. Run on SQLite and PostgreSQL, on the demo catalogue."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import text

from picker.services.errors import NotFound, ServiceError
from picker.services.orders import lead_actions, views
from tests.conftest import NOW
from tests.services.intake.test_order_import import CLI, order, reserved, run, stock


def test_release_after_the_catalogue_is_fixed_reserves_and_assigns(floor, settings) -> None:
    run(floor, settings, order("1007", ("NEW-SKU", 1)))
    with floor.transaction() as s:
        s.execute(text("INSERT INTO products (sku, name, weight_g, fragile, active) "
                       "VALUES ('NEW-SKU', 'New', 100, false, true)"))  # fmt: skip
    stock(floor, "NEW-SKU", C_01_01_1=3)
    result = lead_actions.release_order(
        floor, CLI, "PO-0000001", settings=settings, clock=lambda: NOW
    )
    assert result.released
    detail = views.order_detail(floor, "PO-0000001")
    assert detail.summary.status == "assigned" and detail.lines[0].reserved == 1
    assert [e.to_status for e in detail.events] == ["on_hold", "unhandled", "assigned"]


def test_orders_held_for_stock_are_retried_when_stock_arrives(floor, settings) -> None:
    stock(floor, "SKU-00001", A_01_01_1=0)
    run(floor, settings, order("1008", ("SKU-00001", 2)), order("1009", ("SKU-00001", 2)))
    stock(floor, "SKU-00001", A_01_01_1=3)
    results = lead_actions.retry_short_orders(floor, CLI, settings=settings, clock=lambda: NOW)
    assert [(r.number, r.released) for r in results] == [
        ("PO-0000001", True),
        ("PO-0000002", False),
    ]
    assert reserved(floor, "SKU-00001") == 2
    assert views.list_orders(floor, status="on_hold")[0].hold_reasons == ("short: SKU-00001",)


def test_cancelling_gives_the_reservation_back(floor, settings) -> None:
    stock(floor, "SKU-00001", A_01_01_1=10)
    run(floor, settings, order("1010", ("SKU-00001", 4)))
    assert reserved(floor, "SKU-00001") == 4
    lead_actions.cancel_order(floor, CLI, "PO-0000001", "customer changed their mind")
    assert reserved(floor, "SKU-00001") == 0
    assert views.list_orders(floor)[0].status == "cancelled"


def test_a_lead_can_give_an_order_to_a_named_picker(floor, settings) -> None:
    stock(floor, "SKU-00001", A_01_01_1=10)
    limited = replace(settings, intake=replace(settings.intake, max_orders_per_picker=1))
    run(floor, limited, order("3001"), order("3002"), order("3003"))
    waiting = views.list_orders(floor, status="unhandled")
    assert len(waiting) == 1
    lead_actions.assign_order(floor, CLI, waiting[0].number, "EMP-0003", clock=lambda: NOW)
    assert views.order_detail(floor, waiting[0].number).summary.assignee == "EMP-0003"
    with pytest.raises(NotFound, match="no picker has badge EMP-0004"):
        lead_actions.assign_order(floor, CLI, waiting[0].number, "EMP-0004")


def test_hold_then_release_reserves_once_and_gives_the_order_to_a_picker_again(
    floor, settings
) -> None:
    stock(floor, "SKU-00001", A_01_01_1=10)
    run(floor, settings, order("7001", ("SKU-00001", 3)))
    lead_actions.hold_order(floor, CLI, "PO-0000001", "customer asked to wait", clock=lambda: NOW)
    held = views.order_detail(floor, "PO-0000001")
    assert held.summary.assignee is None and reserved(floor, "SKU-00001") == 0
    assert lead_actions.release_order(floor, CLI, "PO-0000001", settings=settings).released
    again = views.order_detail(floor, "PO-0000001")
    assert again.summary.status == "assigned" and again.summary.assignee is not None
    assert reserved(floor, "SKU-00001") == 3 and again.lines[0].reserved == 3


def test_orders_with_goods_out_are_not_held_or_cancelled_from_the_command_line(
    floor, settings
) -> None:
    stock(floor, "SKU-00001", A_01_01_1=10)
    run(floor, settings, order("7002"))
    with floor.transaction() as s:
        s.execute(text("UPDATE orders SET status = 'picking'"))
    for action in (lead_actions.hold_order, lead_actions.cancel_order):
        with pytest.raises(ServiceError, match="picked goods must be put back first"):
            action(floor, CLI, "PO-0000001", "no")
    assert reserved(floor, "SKU-00001") == 1


def test_a_shipping_method_known_by_its_title_is_still_known_on_release(floor, settings) -> None:
    stock(floor, "SKU-00001", A_01_01_1=10)
    titled = order("7003", ("NEW-1", 1), shipping_code="dpd_custom_42", shipping_title="Express")
    run(floor, settings, titled)
    assert views.list_orders(floor)[0].hold_reasons == ("unknown SKU: NEW-1",)
    with floor.transaction() as s:
        s.execute(text("UPDATE order_lines SET sku = 'SKU-00001'"))
    assert lead_actions.release_order(floor, CLI, "PO-0000001", settings=settings).released
    assert views.list_orders(floor)[0].courier == "SWIFT"


def test_stock_arriving_retries_only_orders_held_short_of_that_very_sku_read_in_sql(
    floor, settings
) -> None:
    """After a put-away or a count that found more: the held orders are found by the database
    (no whole on-hold list, no whole catalogue read), a SKU the arriving one is a prefix of is
    not taken for it, and only what was released is assigned."""
    from sqlalchemy import event

    from picker.services.actors import Actor

    with floor.transaction() as s:  # SKU-00001 is a prefix of this one
        s.execute(text("UPDATE products SET sku = 'SKU-000012' WHERE sku = 'SKU-00002'"))
    stock(floor, "SKU-00001", A_01_01_1=0)
    stock(floor, "SKU-000012", A_01_01_2=0)
    run(floor, settings, order("1008", ("SKU-000012", 1)), order("1009", ("SKU-00001", 2)),
        order("1010", ("SKU-00001", 1), ("SKU-000012", 1)))  # fmt: skip
    stock(floor, "SKU-00001", A_01_01_1=5)
    stock(floor, "SKU-000012", A_01_01_2=5)
    statements: list[str] = []

    def grab(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(floor.engine, "before_cursor_execute", grab)
    try:
        results = lead_actions.retry_held_short(
            floor, actor=Actor("T01"), settings=settings, clock=lambda: NOW, sku="SKU-00001"
        )
    finally:
        event.remove(floor.engine, "before_cursor_execute", grab)
    # PO-0000001 waits for SKU-000012 only: not retried for SKU-00001; PO-0000003 for both.
    assert [(r.number, r.released) for r in results] == [
        ("PO-0000002", True), ("PO-0000003", True)]  # fmt: skip
    held = [q for q in statements if "hold_reasons" in q and "LIKE" in q.upper()]
    assert held, statements  # the on-hold orders filtered by the database
    whole = [q for q in statements if "FROM products" in q and "products.sku IN" not in q]
    assert whole == [], whole  # never the whole catalogue
    detail = views.order_detail(floor, "PO-0000002")
    assert detail.summary.status == "assigned"
