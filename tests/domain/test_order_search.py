"""The keys an order is found by: folding, phone digits, shop numbers, what a search refuses."""

from __future__ import annotations

import pytest

from picker.domain.order_search import (
    SearchRefused,
    fold,
    name_words,
    order_keys,
    phone_key,
    read_query,
    shop_key,
)


@pytest.mark.parametrize(
    ("written", "typed"),
    [
        ("Nguyễn Thị Hương", "nguyen thi huong"),
        ("Łukasz Wiśniewski", "LUKASZ wisniewski"),
        ("Đặng Văn Lâm", "dang van lam"),
        ("Søren Ærø", "soren aero"),
        ("Straße", "STRASSE"),
        ("Zoë Müller", "zoe muller"),
        ("Ｆｕｌｌ　Ｗｉｄｔｈ", "full width"),
    ],
)
def test_names_fold_accents_and_case_alike_on_both_sides(written: str, typed: str) -> None:
    assert name_words(written) == name_words(typed)


def test_other_scripts_stay_in_their_script_and_fold_the_same() -> None:
    assert name_words("太郎 山田") == ["太郎", "山田"]
    assert name_words("ИВАН Петров") == name_words("иван петров")
    assert fold("Ёлка") == fold("ёлка")


def test_a_name_is_split_into_words_and_markup_is_just_text() -> None:
    assert name_words("[bold]Jan[/bold] Novák") == ["bold", "jan", "novak"]
    assert name_words("O'Brien-Smith") == ["o", "brien", "smith"]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("+48 601-234-567", "601234567"),
        ("0048 601 234 567", "(601) 234 567"),
        ("+49 30 1234567", "030 1234567"),
        ("+49(0)7171920150", "07171 920150"),
        ("６０１２３４５６７", "601234567"),  # full-width digits
    ],
)
def test_phones_meet_on_their_last_nine_digits(typed: str, stored: str) -> None:
    assert phone_key(typed) == phone_key(stored) is not None


def test_a_number_too_short_for_a_phone_is_no_phone_key() -> None:
    assert phone_key("1004") is None
    assert phone_key("192-24-90") == "1922490"  # seven digits: a local number is kept whole


def test_the_shop_number_is_read_with_or_without_its_hash() -> None:
    assert shop_key("#1004") == shop_key("1004") == shop_key(" # 1004 ") == "1004"
    assert shop_key("PL-3001") == shop_key("pl-3001")
    assert shop_key("#") is None


def test_an_order_has_each_key_once() -> None:
    keys = order_keys(
        shop_order_no="1003", customer_name="Thị Hương Nguyễn", ship_name="Nguyễn Thị Hương",
        email=" Huong.Nguyen@Example.VN ", phone="+84 28 3822 1234",
    )  # fmt: skip
    assert keys == [
        ("shop", "1003"),
        ("email", "huong.nguyen@example.vn"),
        ("phone", "838221234"),
        ("name", "thi"),
        ("name", "huong"),
        ("name", "nguyen"),
    ]


def test_an_order_without_email_or_phone_has_no_such_keys() -> None:
    keys = order_keys(shop_order_no="7", customer_name="", ship_name="A", email="", phone=None)
    assert keys == [("shop", "7"), ("name", "a")]


def test_a_typed_phone_is_only_read_as_a_phone_when_it_looks_like_one() -> None:
    assert read_query("+48 601-234-567").phone == "601234567"
    assert read_query("EE123456785PL").phone is None  # a tracking number's digits
    assert read_query("jan@example.pl").phone is None


@pytest.mark.parametrize("text", ["", "   ", "jan\x1b[31m", "a\u202eb", "x" * 255])
def test_text_that_is_no_search_is_refused_in_words(text: str) -> None:
    with pytest.raises(SearchRefused) as refused:
        read_query(text)
    assert str(refused.value)


def test_sql_wildcards_are_plain_characters() -> None:
    q = read_query("100%_")
    assert q.shop == "100%_" and q.words == ("100", "_")


def test_a_terminal_escape_stored_in_a_name_is_not_part_of_its_words() -> None:
    assert name_words("[bold]Jan[/bold] \x1b[31mNovák\x1b[0m") == ["bold", "jan", "novak"]
