"""[notify], [notify.events], [couriers.CODE] and [channels.NAME] in config.toml: read, or
refused in one line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from picker.config import ConfigError, load_settings


def settings_of(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, environ={})


def test_notify_settings_are_read(tmp_path) -> None:
    (tmp_path / "mail-templates").mkdir()
    s = settings_of(
        tmp_path,
        """
[notify]
smtp_url = "smtp+starttls://mail.example.com:587"
sender = "Shop <orders@example.com>"
user = "orders"
default_locale = "pl"
templates_dir = "mail-templates"
give_up_after_h = 6
[notify.events]
accepted = true
cancelled = false
[couriers.post]
tracking_url = "https://track.example/{tracking}"
[channels.my-shop]
kind = "woocommerce"
fulfilment_url = "https://shop.example/wp-json/wc/v3/"
auth_header = "Authorization"
auth_env = "PICKER_WOO_AUTH"
""",
    )
    n = s.notify
    assert (n.smtp_url, n.user, n.default_locale, n.give_up_after_h) == (
        "smtp+starttls://mail.example.com:587", "orders", "pl", 6.0)  # fmt: skip
    assert n.templates_dir == tmp_path / "mail-templates" and n.folder is None
    assert n.events == {"shipped": True, "accepted": True, "on_hold_customer": False,
                        "cancelled": False, "delivered": True,
                        "return_received": True}  # fmt: skip
    assert s.couriers["POST"].tracking_url == "https://track.example/{tracking}"
    assert s.channels["my-shop"].kind == "woocommerce"
    # The API's base, without its trailing slash: Picker adds each request's path.
    assert s.channels["my-shop"].fulfilment_url == "https://shop.example/wp-json/wc/v3"


def test_without_notify_mail_is_not_configured_and_no_terminal_dispatches(tmp_path) -> None:
    n = settings_of(tmp_path, '[terminal]\nid = "T01"\n').notify
    assert (n.smtp_url, n.mail_configured, n.folder, n.dispatch_in_terminal) == (
        "", False, None, False)  # fmt: skip
    assert settings_of(tmp_path, '[notify]\nsmtp_url = ""\n').notify.mail_configured is False
    assert settings_of(tmp_path, '[notify]\nsmtp_url = "file://out"\n').notify.folder == (
        tmp_path / "out")  # fmt: skip


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('[notify]\nsmtp_url = "mail.example.com"\n', "[notify] smtp_url: 'mail.example.com' "
         "must start with one of smtp://, smtp+starttls://, smtps://, file://"),
        ('[notify]\nsmtp_url = "smtp://:25"\n', "[notify] smtp_url: 'smtp://:25' must name a host"),
        ('[notify]\nsender = "Shop"\n', "[notify] sender: 'Shop' must hold an e-mail address"),
        ("[notify.events]\nreturned = true\n", "[notify.events] returned: is not an event"),
        ('[notify.events]\nshipped = "yes"\n', "[notify.events] shipped: must be true or false"),
        ('[couriers.POST]\ntracking_url = "https://x/"\n',
         "[couriers.POST] tracking_url: 'https://x/' must contain {tracking}"),
        ('[channels.s]\nkind = "magento"\n', "[channels.s] kind: 'magento' is not one of"),
        ('[channels.s]\nkind = "shopify"\nfulfilment_url = "ftp://x"\n',
         "[channels.s] fulfilment_url: 'ftp://x' must start with http:// or https://"),
        ('[channels.s]\nkind = "shopify"\nfulfilment_url = '
         '"https://s.myshopify.com/admin/api/2025-01/orders/{shop_order_no}/fulfillments.json"\n',
         "[channels.s] fulfilment_url: 'https://s.myshopify.com/admin/api/2025-01/orders/"
         "{shop_order_no}/fulfillments.json': name the API's base URL without {placeholders} "
         "(Picker adds each request's path and the shop's order id)"),
        ('[channels.s]\nkind = "shopify"\nfulfilment_url = "https://s.myshopify.com/admin"\n',
         "[channels.s] fulfilment_url: 'https://s.myshopify.com/admin' must be the shop's Admin "
         "API with its version, e.g. https://SHOP.myshopify.com/admin/api/2025-01"),
        ('[channels.s]\nkind = "shopify"\n'
         'fulfilment_url = "https://s.myshopify.com/admin/api/2024-10"\n',
         "[channels.s] fulfilment_url: API version 2024-10: Picker speaks 2025-01 or later"),
        ('[channels.s]\nkind = "woocommerce"\nfulfilment_url = "https://shop.example/"\n',
         "[channels.s] fulfilment_url: 'https://shop.example/' must be the shop's REST API v3, "
         "e.g. https://shop.example.com/wp-json/wc/v3"),
        ('[channels.s]\nkind = "shopify"\nauth_header = "X-Token"\n',
         "[channels.s] auth_header: auth_header and auth_env go together"),
    ],
)  # fmt: skip
def test_a_notify_setting_picker_cannot_use_is_refused_naming_it(tmp_path, text, words) -> None:
    with pytest.raises(ConfigError) as refused:
        settings_of(tmp_path, text)
    assert words in str(refused.value) and "\n" not in str(refused.value)


def test_a_templates_dir_that_is_not_a_folder_is_refused_naming_the_path(tmp_path) -> None:
    with pytest.raises(ConfigError) as refused:
        settings_of(tmp_path, '[notify]\ntemplates_dir = "mail-templtes"\n')
    assert str(refused.value).endswith(
        f"[notify] templates_dir: {tmp_path / 'mail-templtes'} does not exist: name a folder "
        "of templates, or leave templates_dir out to use the shipped ones"
    )
    (tmp_path / "a-file").write_text("")
    with pytest.raises(ConfigError, match=r"templates_dir: .*a-file is not a folder"):
        settings_of(tmp_path, '[notify]\ntemplates_dir = "a-file"\n')


def test_smtp_cafile_names_a_file_next_to_the_config_or_is_refused(tmp_path) -> None:
    (tmp_path / "mail-ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    s = settings_of(tmp_path, '[notify]\nsmtp_cafile = "mail-ca.pem"\n')
    assert s.notify.smtp_cafile == tmp_path / "mail-ca.pem"
    assert settings_of(tmp_path, "").notify.smtp_cafile is None  # the system's CAs
    with pytest.raises(ConfigError) as refused:
        settings_of(tmp_path, '[notify]\nsmtp_cafile = "ca.pem"\n')
    assert str(refused.value).endswith(
        f"[notify] smtp_cafile: {tmp_path / 'ca.pem'} is not a file of CA certificates (PEM)"
    )


def test_a_couriers_status_words_and_stale_days_are_read_and_checked(tmp_path) -> None:
    path = tmp_path / "config.toml"
    text = ('[couriers.post]\nstale_days = 5\n[couriers.post.statuses]\n'
            '"Doręczono" = "delivered"\n"W drodze" = "in_transit"\n')  # fmt: skip
    path.write_text(text, encoding="utf-8")
    post = load_settings(path, environ={}).couriers["POST"]
    assert post.stale_days == 5
    assert post.statuses == {"doręczono": "delivered", "w_drodze": "in_transit"}
    path.write_text('[couriers.POST.statuses]\n"Doręczono" = "deliverd"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[couriers.POST.statuses\] Doręczono: 'deliverd' "
                                          "is not one of in_transit"):  # fmt: skip
        load_settings(path, environ={})
    path.write_text("[couriers.POST]\nstale_days = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[couriers.POST\] stale_days: 0 is out of range"):
        load_settings(path, environ={})
