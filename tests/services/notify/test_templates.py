"""The customer's mails, rendered from orders shipped through the services (both databases):
every part in every shipped language, money and dates by Babel, hostile names harmless."""

from __future__ import annotations

import email
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import parseaddr
from pathlib import Path

import pytest
from babel.dates import format_date
from babel.numbers import format_currency
from sqlalchemy import select, update

from picker.config import CourierSettings, Settings
from picker.services.notify import compose, templates
from picker.services.notify.templates import SHIPPED_LANGUAGES, TemplateProblem
from picker.store.engine import Database
from picker.store.models import Order, OutboxMessage
from tests.services.floor.test_handoff import packed
from tests.services.floor.test_picking import clock
from tests.services.notify.test_outbox import ship, with_notify

TRACKING = "https://track.example/{tracking}"


def tracked(settings: Settings) -> Settings:
    return replace(with_notify(settings), couriers={"POST": CourierSettings(TRACKING)})


def shipped_mail(db: Database, settings: Settings, *, parcels: int = 1, **order: object) -> int:
    """An order (its columns set to ``order``) packed, handed over and closed: its mail's id."""
    lines = [("SKU-00001", 1), ("SKU-00002", 2)][:parcels]
    number, trackings = packed(db, settings, *lines, tote="T-0901", parcels=parcels)
    if order:
        with db.transaction() as s:
            s.execute(update(Order).where(Order.number == number).values(**order))
    ship(db, settings, *trackings)
    with db.read() as s:
        return s.scalar(
            select(OutboxMessage.id).where(
                OutboxMessage.event == "shipped", OutboxMessage.kind == "email"
            )
        )


def built(db: Database, settings: Settings, message_id: int) -> tuple[compose.Letter, bytes]:
    with db.read() as s:
        return compose.preview(s, message_id, settings)


def parsed(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


def parsed_compat(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=policy.compat32)


def parts(msg: EmailMessage) -> tuple[str, str]:
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def test_the_shipped_mail_names_courier_every_tracking_number_link_items_and_address(
    floor, settings
) -> None:
    settings = tracked(settings)
    mail = shipped_mail(floor, settings, parcels=2)
    letter, raw = built(floor, settings, mail)
    msg = parsed(raw)
    text, html = parts(msg)
    assert len(letter.parcels) == 2
    assert msg["To"] == "Nguyễn Thị Hương <huong@example.vn>"
    assert letter.order_number in msg["Subject"] and letter.shop_order_no in msg["Subject"]
    assert msg["Subject"].startswith("Your order")  # no customer_locale: the default, English
    for p in letter.parcels:
        url = TRACKING.replace("{tracking}", p.tracking_no)
        assert p.tracking_no in text and url in text
        assert f'<a href="{url}">{p.tracking_no}</a>' in html
    assert "Poczta" in text or letter.courier_name in text  # the courier by name
    for item in letter.items:
        assert f"{item.quantity} x {item.name}" in text
    assert [i.quantity for i in letter.items] == [1, 2]
    money = format_currency(Decimal("300000"), "VND", locale="en")  # 2 x 150,000
    assert money in text and money in html
    assert "Hà Nội" in text and "Hàng Bài" in html
    assert format_date(clock().astimezone(settings.warehouse.tz), "long", locale="en") in text


def test_a_polish_customer_gets_polish_with_polish_money_and_dates(floor, settings) -> None:
    settings = tracked(settings)
    mail = shipped_mail(floor, settings, customer_locale="pl-PL", currency="PLN")
    _, raw = built(floor, settings, mail)
    msg = parsed(raw)
    text, html = parts(msg)
    assert msg["Subject"].startswith("Twoje zamówienie") and msg["Content-Language"] == "pl"
    assert "Śledź przesyłkę" in text and '<html lang="pl"' in html
    money = format_currency(Decimal("150000"), "PLN", locale="pl_PL")
    assert money in text and money.endswith("zł")
    assert format_date(clock().astimezone(settings.warehouse.tz), "long", locale="pl") in text


def test_an_unknown_language_falls_back_to_the_default_locale(floor, settings) -> None:
    settings = tracked(settings)
    settings = replace(settings, notify=replace(settings.notify, default_locale="pl"))
    mail = shipped_mail(floor, settings, customer_locale="xx-Qq")
    msg = parsed(built(floor, settings, mail)[1])
    assert msg["Subject"].startswith("Twoje zamówienie")


def test_the_same_message_built_twice_is_the_same_message(floor, settings) -> None:
    settings = tracked(settings)
    mail = shipped_mail(floor, settings)
    first, again = built(floor, settings, mail)[1], built(floor, settings, mail)[1]
    assert first == again  # Message-ID and Date included: a resend is recognisable
    assert parsed(first)["Message-ID"].endswith("@picker.invalid>")


HOSTILE = "Eve\r\nBcc: victim@example.com\r\n\r\n<script>alert('x')</script> & co"
RTL = "محمد بن سلمان"
CJK = "山田太郎"
LONG = ("Zażółć gęślą jaźń " * 11).strip()  # as long as an order keeps (200)


@pytest.mark.parametrize("name", [HOSTILE, RTL, CJK, LONG], ids=["crlf-script", "rtl", "cjk",
                                                                  "long"])  # fmt: skip
def test_hostile_names_leave_headers_intact_html_escaped_and_text_readable(
    floor, settings, name: str
) -> None:
    settings = tracked(settings)
    mail = shipped_mail(floor, settings, customer_name=name, ship_name=name,
                        shop_order_no="1001\r\nX-Injected: yes")  # fmt: skip
    raw = built(floor, settings, mail)[1]
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc:" not in head and b"\nX-Injected" not in head
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))  # RFC 5322's hard limit
    assert head.isascii()  # non-ASCII only as RFC 2047 encoded words
    msg = parsed(raw)
    assert msg["Bcc"] is None and msg["X-Injected"] is None
    assert len(msg["To"].addresses) == 1
    # Decoded as RFC 2047 says (whitespace between encoded words dropped; Python's own
    # address parser inserts spaces there), the name is whole.
    to = parseaddr(str(make_header(decode_header(parsed_compat(raw)["To"]))))
    readable = " ".join(name.split())  # line breaks in a header become spaces
    assert to[1] == "huong@example.vn"
    assert to[0] in (readable, readable[:119] + "…")
    text, html = parts(msg)
    assert name.splitlines()[0] in text  # as written, in the text part
    assert "<script>" not in html
    if "<script>" in name:
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co" in html
    else:
        assert f"<bdi>{name}</bdi>" in html


def test_every_event_renders_completely_in_every_shipped_language(settings) -> None:
    context = {
        "event": "", "order": {"number": "PO-000001", "shop_number": "1001",
                               "placed_at": datetime(2026, 11, 20, 9, tzinfo=UTC),
                               "currency": "EUR", "total": Decimal("12.50"),
                               "cod": Decimal("12.50"), "note": ""},
        "customer": {"name": "Ana"}, "ship_to": ["Ana", "Rua 1", "1000 Lisboa", "PT"],
        "items": [{"sku": "S", "name": "Mug", "quantity": 1, "unit_price": Decimal("12.50"),
                   "total": Decimal("12.50")}],
        "courier": {"code": "POST", "name": "Poczta"},
        "parcels": [{"number": 1, "tracking_no": "RR123456785PL", "url": None,
                     "weight_g": 400}],
        "detail": {"reason": "out_of_stock", "missing": ["street", "postal_code"]},
        "shipped_at": datetime(2026, 11, 21, 15, tzinfo=UTC),
        "delivered_at": datetime(2026, 11, 23, 11, tzinfo=UTC),
        "warehouse": {"name": "W", "street": "S", "postal_code": "P", "city": "C",
                      "country": "PL"},
    }  # fmt: skip
    seen: dict[str, set[str]] = {}
    for language in SHIPPED_LANGUAGES:
        for event in ("shipped", "accepted", "on_hold_customer", "cancelled", "delivered"):
            out = templates.render(event, context, locale_tag=language, default_locale="en",
                                   timezone=settings.warehouse.tz)  # fmt: skip
            assert out.language == language
            assert "1001" in out.subject and "PO-000001" in out.subject
            assert out.text.strip() and "</html>" in out.html
            assert "{{" not in out.text + out.html + out.subject
            seen.setdefault(event, set()).add(out.text)
    assert all(len(texts) == len(SHIPPED_LANGUAGES) for texts in seen.values())
    polish = templates.render("on_hold_customer", context, locale_tag="pl", default_locale="en",
                              timezone=settings.warehouse.tz)  # fmt: skip
    assert "brakuje ulicy i numeru domu i kodu pocztowego" in polish.text
    english = templates.render("cancelled", context, locale_tag="en", default_locale="en",
                               timezone=settings.warehouse.tz)  # fmt: skip
    assert "because an item of it is no longer available" in english.text


@pytest.mark.parametrize(
    ("language", "reason", "sentence"),
    [
        ("en", "other", "we have cancelled your order 1001 of November 20, 2026. We are sorry."),
        ("en", "payment", "we have cancelled your order 1001 of November 20, 2026 because of a "
                          "problem with its payment. We are sorry."),
        ("en", "customer_request", "we have cancelled your order 1001 of November 20, 2026 as "
                                   "you asked us to. We are sorry."),
        ("pl", "other", "anulowaliśmy Twoje zamówienie 1001 z dnia 20 listopada 2026. "
                        "Przepraszamy."),
        ("pl", "address", "anulowaliśmy Twoje zamówienie 1001 z dnia 20 listopada 2026, "
                          "ponieważ nie możemy doręczyć przesyłki pod podany adres. "
                          "Przepraszamy."),
    ],
)  # fmt: skip
def test_a_cancellation_gives_the_reason_the_lead_chose_and_other_gives_none(
    settings, language: str, reason: str, sentence: str
) -> None:
    from picker.domain.notify import CUSTOMER_REASONS

    assert reason in CUSTOMER_REASONS
    context = {
        "event": "cancelled", "order": {"number": "PO-000001", "shop_number": "1001",
                                        "placed_at": datetime(2026, 11, 20, 9, tzinfo=UTC),
                                        "currency": "EUR", "total": Decimal("12.50"),
                                        "cod": None, "note": ""},
        "customer": {"name": "Ana"}, "ship_to": ["Ana"], "items": [],
        "courier": {"code": "", "name": ""}, "parcels": [], "detail": {"reason": reason},
        "shipped_at": None,
        "warehouse": {"name": "W", "street": "S", "postal_code": "P", "city": "C",
                      "country": "PL"},
    }  # fmt: skip
    out = templates.render("cancelled", context, locale_tag=language, default_locale="en",
                           timezone=settings.warehouse.tz)  # fmt: skip
    assert sentence in out.text.splitlines()
    assert sentence.split(" 1001 ")[1] in " ".join(out.html.split())


def test_a_templates_dir_overrides_the_shipped_templates_file_by_file(
    floor, settings, tmp_path: Path
) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "shipped.subject.txt").write_text(
        "{{ order.shop_number }} shipped by {{ warehouse.name }} [{{ order.number }}]\n"
    )
    settings = tracked(settings)
    own = replace(settings, notify=replace(settings.notify, templates_dir=tmp_path))
    mail = shipped_mail(floor, own)
    msg = parsed(built(floor, own, mail)[1])
    assert msg["Subject"].endswith("]") and "shipped by Picker Demo Warehouse" in msg["Subject"]
    assert "Follow your parcel" in parts(msg)[0]  # the rest: the shipped templates
    (tmp_path / "en" / "shipped.txt").write_text("{{ order.nope.deeper }}")
    templates.environment.cache_clear()
    with pytest.raises(TemplateProblem, match=r"en/shipped.txt cannot be used"):
        built(floor, own, mail)


def test_a_templates_dir_gone_since_the_config_was_read_is_said_not_replaced(
    settings, tmp_path: Path
) -> None:
    context = {"order": {}, "customer": {}}
    with pytest.raises(TemplateProblem) as refused:
        templates.render("shipped", context, locale_tag="en", default_locale="en",
                         timezone=settings.warehouse.tz,
                         templates_dir=tmp_path / "gone")  # fmt: skip
    assert str(refused.value) == (
        f"the templates folder {tmp_path / 'gone'} ([notify] templates_dir) does not exist or "
        "is not a folder"
    )


@pytest.mark.parametrize(("parcels", "heading"), [(1, "Śledź przesyłkę"), (2, "Śledź przesyłki")])
def test_the_polish_tracking_heading_is_plural_for_several_parcels(
    floor, settings, parcels: int, heading: str
) -> None:
    settings = tracked(settings)
    mail = shipped_mail(floor, settings, parcels=parcels, customer_locale="pl")
    text, html = parts(parsed(built(floor, settings, mail)[1]))
    assert f"{heading}:" in text.splitlines() and f">{heading}</h3>" in html
