"""Mail that is not configured (no ``[notify] smtp_url``, the built-in default) is never taken
for sent or failed: it waits, queued and untried, while shop messages go on being sent; the
title line and ``picker notify run`` say why (both databases)."""

from __future__ import annotations

from dataclasses import replace

from picker.config import load_settings
from picker.services.notify import outbox
from picker.services.notify.dispatcher import dispatch_due
from tests.services.floor.test_picking import clock
from tests.services.notify.test_outbox import rows
from tests.services.notify.test_shop import TOKEN, later, shipped, shop_server, to_shop


def test_without_smtp_url_mail_waits_queued_and_the_shop_is_still_told(
    floor, settings, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("PICKER_TEST_SHOP_TOKEN", TOKEN)
    config = tmp_path / "config.toml"
    config.write_text('[terminal]\nid = "T01"\n', encoding="utf-8")  # no [notify]
    built_in = load_settings(config, environ={}).notify
    with shop_server("shopify") as shop:
        s = to_shop(settings, shop, tmp_path)
        unconfigured = replace(s, notify=replace(built_in, timeout_s=5.0))
        shipped(floor, unconfigured, shop, parcels=1)
        done = dispatch_due(floor, unconfigured, clock=clock)
        [mail] = rows(floor, event="shipped", kind="email")
        [shop_message] = rows(floor, event="shipped", kind="shop")
        assert done.sent == [shop_message.id] and len(shop.fulfillments) == 1
        assert (mail.status, mail.attempts, mail.error) == ("queued", 0, None)  # untried
        # Long past [notify] give_up_after_h: still waiting, never failed.
        assert dispatch_due(floor, unconfigured, clock=later(25 * 60)).handled == 0
        [mail] = rows(floor, event="shipped", kind="email")
        assert (mail.status, mail.attempts, mail.error) == ("queued", 0, None)

        current = outbox.summary(floor)
        assert current.alert(mail_configured=False) == "mail: not configured, 1 waiting"
        assert current.alert(mail_configured=True) is None  # waiting, nothing failed
        assert outbox.mail_not_configured(floor, unconfigured) == (
            "mail is not configured ([notify] smtp_url is empty): 1 e-mail message waits, "
            "queued, to be sent once it is set"
        )

        # Configured at last: the mail that waited goes.
        folder = tmp_path / "mail"
        configured = replace(unconfigured, notify=replace(unconfigured.notify,
                                                          smtp_url=f"file://{folder}"))  # fmt: skip
        assert outbox.mail_not_configured(floor, configured) is None
        assert dispatch_due(floor, configured, clock=later(25 * 60)).sent == [mail.id]
        assert len(list(folder.glob("*.eml"))) == 1


def test_the_title_line_says_mail_is_not_configured_beside_what_failed() -> None:
    both = outbox.Summary(failed={"email": 2, "shop": 1}, waiting={"email": 3})
    assert both.alert(mail_configured=False) == (
        "mail: not configured, 2 failed, 3 waiting; shop: 1 failed")  # fmt: skip
    assert both.alert() == both.words == "mail: 2 failed, 3 waiting; shop: 1 failed"
    assert outbox.Summary(failed={}, waiting={}).alert(mail_configured=False) is None
