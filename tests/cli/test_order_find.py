"""``picker order find`` and ``picker order show`` by the shop's number, end to end on real
export files and both databases."""

import json

from tests.cli.test_intake import FIXTURES, orders, picker  # noqa: F401  (the fixture)


def _imported(picker, *channels: str):  # type: ignore[no-untyped-def]  # noqa: F811
    for channel in channels or ("",):
        extra = ("--channel", channel) if channel else ()
        code, _, err = picker("import", str(FIXTURES / "shopify_orders.json"), *extra)
        assert code == 0, err
    return {(o["channel"], o["shop_order_no"]): o for o in orders(picker)}


def test_find_prints_the_orders_as_order_list_does_in_json(picker) -> None:  # noqa: F811
    by_shop = _imported(picker)
    code, out, _ = picker("order", "find", "HUONG.NGUYEN@example.vn", "--format", "json")
    assert code == 0
    assert json.loads(out) == {"orders": [by_shop[("shopify", "1003")]]}


def test_find_by_phone_name_and_shop_number_in_a_table(picker) -> None:  # noqa: F811
    by_shop = _imported(picker)
    n1001 = by_shop[("shopify", "1001")]["number"]
    for text in ("+48 601-234-567", "601234567", "lukasz wisniewski", "#1001"):
        code, out, _ = picker("order", "find", text)
        assert code == 0, text
        lines = out.splitlines()
        assert lines[0].split()[:2] == ["number", "status"]
        assert lines[1].startswith(n1001) and lines[-1] == "1 order"
    code, out, _ = picker("order", "find", "nguyen")
    assert "Thị Hương Nguyễn" in out and out.splitlines()[1].endswith(" name")


def test_customer_text_is_shown_literally(picker) -> None:  # noqa: F811
    _imported(picker)
    code, out, _ = picker("order", "find", "novak")
    assert code == 0
    assert "\x1b" not in out and "[bold]Jan[/bold] \\x1b" in out  # shown, not acted on


def test_no_match_says_so_and_exits_1(picker) -> None:  # noqa: F811
    _imported(picker)
    code, out, err = picker("order", "find", "nobody%_")
    assert (code, out) == (1, "") and "no order matches 'nobody%_'" in err
    code, out, err = picker("order", "find", "x", "--format", "json")
    assert code == 1 and json.loads(out) == {"orders": []}


def test_hostile_text_is_refused_in_words(picker) -> None:  # noqa: F811
    _imported(picker)
    code, out, err = picker("order", "find", "jan\x1b[31m")
    assert code == 1 and out == ""
    assert "control characters" in err and "Traceback" not in err


def test_the_limit_says_there_are_more(picker) -> None:  # noqa: F811
    _imported(picker, "", "second-shop", "third-shop")
    code, out, _ = picker("order", "find", "#1004", "--limit", "2")
    assert code == 0
    assert out.splitlines()[-1].startswith("2 orders (more match")
    code, out, _ = picker("order", "find", "#1004", "--limit", "3", "--format", "json")
    assert [o["channel"] for o in json.loads(out)["orders"]] == [
        "third-shop", "second-shop", "shopify"
    ]  # fmt: skip


def test_show_takes_the_shops_number_when_it_names_one_order(picker) -> None:  # noqa: F811
    by_shop = _imported(picker)
    number = by_shop[("shopify", "1004")]["number"]
    for text in ("1004", "#1004"):
        code, out, _ = picker("order", "show", text, "--format", "json")
        detail = json.loads(out)
        assert code == 0 and detail["number"] == number
        assert (detail["email"], detail["phone"]) == ("zoe.mueller@example.de", "+49 30 1234567")
        assert detail["parcels"] == []
    code, out, _ = picker("order", "show", "#1004")
    assert code == 0 and out.startswith(f"{number}  ")


def test_show_lists_the_candidates_when_the_shop_number_names_several(picker) -> None:  # noqa: F811
    by_shop = _imported(picker, "", "second-shop")
    code, out, err = picker("order", "show", "#1004")
    assert code == 1
    assert {line.split()[0] for line in out.splitlines()} == {
        by_shop[("shopify", "1004")]["number"], by_shop[("second-shop", "1004")]["number"],
    }  # fmt: skip
    assert "shop number of 2 orders" in err
    code, out, err = picker("order", "show", "#9999")
    assert code == 1 and "no order #9999" in err
