"""`picker notify` and `picker order show`'s parcels and messages, run as a user would, on both
databases, against a real SMTP server."""

from __future__ import annotations

import email
import json
import os
import socket
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import select, update

from picker.config import load_settings
from picker.store.engine import Database
from picker.store.models import Order, OutboxMessage
from tests.cli.people import demo_pins
from tests.conftest import REPO
from tests.services.floor.test_handoff import packed
from tests.services.notify.smtp_sink import smtp_server
from tests.services.notify.test_outbox import ship

KEYS = {"id", "order", "event", "kind", "status", "to", "attempts", "sent_at", "error"}


def shipped_mail(db: Database) -> int:
    with db.read() as s:
        return int(
            s.scalar(
                select(OutboxMessage.id).where(
                    OutboxMessage.kind == "email", OutboxMessage.event == "shipped"
                )
            )
        )


@pytest.fixture
def floor_cli(cli, tmp_path, db_url):  # type: ignore[no-untyped-def]
    """``make(smtp_url, **order)`` → (run, database, settings, lead's --as, a shipped order's
    number and tracking numbers): a demo floor without orders, one order packed in two parcels
    (its columns then set to ``order``) and handed to its courier."""
    made: list[Database] = []

    def make(smtp_url: str, **order: object):  # type: ignore[no-untyped-def]
        text = (f'[terminal]\nid = "T05"\n[labels]\ndir = "{REPO / "labels"}"\n'
                f'[notify]\nsmtp_url = "{smtp_url}"\n'
                '[couriers.POST]\ntracking_url = "https://track.example/{tracking}"\n')  # fmt: skip
        run = cli(text)
        assert run("demo", "--orders", "0", "--no-sheet")[0] == 0
        settings = load_settings(tmp_path / "config.toml", environ={})
        db = Database(db_url)
        made.append(db)
        number, trackings = packed(db, settings, ("SKU-00001", 1), ("SKU-00002", 1),
                                   tote="T-0901", parcels=2)  # fmt: skip
        if order:
            with db.transaction() as s:
                s.execute(update(Order).where(Order.number == number).values(**order))
        ship(db, settings, *trackings)
        lead = ["--as", "EMP-0001"]
        return run, db, settings, lead, number, trackings

    yield make
    for db in made:
        db.dispose()


def test_list_show_and_order_show_name_the_messages_and_parcels(floor_cli, monkeypatch) -> None:
    run, _, _, _, number, trackings = floor_cli("file://var/mail")
    code, out, err = run("notify", "list", "--format", "json")
    assert code == 0, err
    messages = json.loads(out)["messages"]
    shipped = [m for m in messages if m["event"] == "shipped"]
    assert {m["kind"]: m["status"] for m in shipped} == {"email": "queued", "shop": "skipped"}
    assert all(set(m) >= KEYS for m in messages)
    mail = next(m for m in shipped if m["kind"] == "email")
    shop = next(m for m in shipped if m["kind"] == "shop")
    assert (mail["order"], mail["to"], mail["attempts"], mail["sent_at"]) == (
        number, "huong@example.vn", 0, None)  # fmt: skip
    assert shop["error"] == "the shop channel shopify has no fulfilment_url ([channels.shopify])"
    code, out, _ = run("notify", "list", "--status", "queued", "--order", number)
    assert code == 0 and f"{mail['id']:>6} {number}" in out and "1 message" in out.splitlines()
    assert run("notify", "list", "--status", "failed")[1].splitlines()[-1] == "0 messages"
    code, out, _ = run("notify", "show", str(mail["id"]))
    assert code == 0 and f"message {mail['id']}: shipped email of {number}, queued" in out
    assert "Subject: Your order" in out and number in out
    assert all(f"https://track.example/{t}" in out for t in trackings)
    code, out, err = run("order", "show", number, "--format", "json")
    assert code == 0, err
    shown = json.loads(out)
    parcels = [(p["seq"], p["tracking_no"], p["courier"], p["status"]) for p in shown["parcels"]]
    assert parcels == [(1, trackings[0], "POST", "handed_over"),
                       (2, trackings[1], "POST", "handed_over")]  # fmt: skip
    assert {m["id"] for m in shown["messages"]} >= {mail["id"], shop["id"]}
    assert all(set(m) >= KEYS for m in shown["messages"])
    code, out, _ = run("order", "show", number)
    assert "parcels:" in out and trackings[1] in out and "messages (picker notify show ID):" in out
    code, _, err = run("notify", "show", "999999")
    assert code == 1 and "no message 999999 in the outbox" in err


@pytest.mark.parametrize("address", [None, "bad address\nBcc: x@y.z"])
def test_show_of_a_mail_with_no_address_to_go_to_says_why_in_words(floor_cli, address) -> None:
    run, db, _, _, number, _ = floor_cli("file://var/mail", customer_email=address)
    mail = shipped_mail(db)
    code, out, err = run("notify", "show", str(mail))
    assert code == 0, err
    lines = out.splitlines()
    reason = ("the order has no e-mail address" if address is None
              else "the order's e-mail address is not one mail can go to")  # fmt: skip
    assert lines[0] == f"message {mail}: shipped email of {number}, skipped, 0 attempts; {reason}"
    assert f"To: (none: {reason})" in lines
    assert f"Subject: Your order 0901 is on its way [{number}]" in lines
    assert "Hello Nguyễn Thị Hương," in lines  # what it would have said
    assert not any(line.startswith("Bcc:") for line in lines)  # the smuggled header stays text
    assert "Traceback" not in err and "Error" not in err
    code, out, err = run("notify", "show", str(mail), "--raw")
    assert code == 1 and out == ""
    assert f"message {mail} has no mail to show: " in err and "Traceback" not in err


def test_show_prints_the_mail_decoded_and_raw_prints_it_as_sent(floor_cli) -> None:
    run, db, _, _, number, trackings = floor_cli("file://var/mail", customer_name="王小明",
                                                 customer_locale="pl")  # fmt: skip
    mail = shipped_mail(db)
    code, out, err = run("notify", "show", str(mail))
    assert code == 0, err
    lines = out.splitlines()
    assert "From: Picker Demo Warehouse <orders@picker.invalid>" in lines
    assert "To: 王小明 <huong@example.vn>" in lines
    assert f"Subject: Twoje zamówienie 0901 jest w drodze [{number}]" in lines
    assert "Dzień dobry 王小明," in lines and "Śledź przesyłki:" in lines  # two parcels
    assert all(f"  {t}  https://track.example/{t}" in lines for t in trackings)
    assert "=?utf-8?" not in out and "=C5=9A" not in out and "Content-Type" not in out
    code, raw, err = run("notify", "show", str(mail), "--raw")
    assert code == 0, err
    sent = email.message_from_string(raw, policy=policy.default)
    assert "=?utf-8?" in raw and "quoted-printable" in raw and "王小明" not in raw
    assert f"Message-ID: {sent['Message-ID']}" in lines
    assert sent["Subject"] == f"Twoje zamówienie 0901 jest w drodze [{number}]"


def test_run_sends_and_a_lead_retries_or_cancels(floor_cli, tmp_path, monkeypatch) -> None:
    with smtp_server() as (port, sink):
        run, db, _, lead, number, trackings = floor_cli(f"smtp://127.0.0.1:{port}")
        monkeypatch.setenv("PICKER_PIN", demo_pins(tmp_path / "var")["EMP-0001"])
        sink.refuse.add("huong@example.vn")
        code, out, err = run("notify", "run")
        assert code == 1, err
        assert "1 failed" in out and "550 5.1.1" in out
        mail = shipped_mail(db)
        shown = run("notify", "show", str(mail))[1].splitlines()[0]
        assert shown.startswith(f"message {mail}: shipped email of {number}, failed, 1 attempt; ")
        code, _, err = run("notify", "retry", str(mail))
        assert code == 2 and "notify retry acts with a lead's authority" in err
        sink.refuse.clear()
        code, out, err = run(*lead, "notify", "retry", str(mail))
        assert (code, out.strip()) == (0, f"1 message queued to be sent again: {mail}"), err
        code, out, err = run("notify", "run")
        assert code == 0 and out.startswith("1 sent, 0 waiting"), err
        with db.read() as s:  # this process, not just the terminal id two machines may share
            by = s.scalar(select(OutboxMessage.claimed_by).where(OutboxMessage.id == mail))
        assert by == f"T05:cli@{socket.gethostname()[:30]}:{os.getpid()}"
        [got] = sink.received
        assert number in got.message["Subject"] and all(t in got.raw.decode() for t in trackings)
        code, _, err = run(*lead, "notify", "cancel", str(mail), "--reason", "told by phone")
        assert code == 1 and f"message {mail} is sent: only a queued or failed" in err
        with db.transaction() as s:
            s.execute(update(OutboxMessage).where(OutboxMessage.id == mail)
                      .values(status="failed"))  # fmt: skip
        code, out, _ = run(*lead, "notify", "cancel", str(mail), "--reason", "told by phone")
        assert code == 0 and f"message {mail} cancelled" in out
        code, out, _ = run(*lead, "notify", "retry", "--failed")
        assert (code, out.strip()) == (0, "0 messages queued to be sent again")


def test_preview_writes_the_mail_an_event_would_send(floor_cli, tmp_path) -> None:
    run, db, _, _, number, _ = floor_cli("file://var/mail")
    out_file = tmp_path / "preview.eml"
    code, _, err = run("notify", "preview", number, "shipped", "--out", str(out_file))
    assert code == 0, err
    msg = email.message_from_bytes(out_file.read_bytes(), policy=policy.default)
    assert number in msg["Subject"] and msg["To"].addresses[0].addr_spec == "huong@example.vn"
    shown = run("notify", "show", str(shipped_mail(db)))[1]  # the queued one is the same message
    assert f"Message-ID: {msg['Message-ID']}" in shown.splitlines()
    code, _, err = run("notify", "preview", "PO-9999999", "shipped", "--out", str(out_file))
    assert code == 1 and "no order PO-9999999" in err
    with db.transaction() as s:
        s.execute(update(Order).where(Order.number == number)
                  .values(customer_email="müller@example.de"))  # fmt: skip
    code, _, err = run("notify", "preview", number, "shipped", "--out", str(out_file))
    assert (code, err.strip()) == (1, f"picker: nothing would be sent for order {number}: the "
                                   "address müller@example.de has non-ASCII letters before the "
                                   "@, which this mail server setup cannot send")  # fmt: skip
    with db.transaction() as s:
        s.execute(update(Order).where(Order.number == number).values(customer_email=None))
    code, _, err = run("notify", "preview", number, "cancelled", "--out", str(out_file))
    assert code == 1
    assert f"nothing would be sent for order {number}: the order has no e-mail address" in err
    assert not Path(tmp_path / "var" / "mail").exists()  # a preview sends nothing


def test_bench_notify_mails_shipped_events_to_a_local_server(capsys, config, tmp_path) -> None:
    from tests.cli.test_main import run as picker

    url = f"sqlite:///{tmp_path / 'bench.db'}"
    code, out, err = picker(capsys, config, "bench", "notify", "--messages", "25", "--orders",
                            "400", "--database", url, "--json")  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    metrics = report["metrics"]
    assert (report["bench"], report["database"], report["orders"]) == ("notify", "sqlite", 400)
    assert metrics["mails_sent"]["median"] == 25 and metrics["mails_received"]["median"] == 25
    assert metrics["mails_per_s"]["target"] == 200 and metrics["mails_per_s"]["unit"] == "per_s"
    db = Database(url)
    try:
        with db.read() as s:
            statuses = set(s.scalars(select(OutboxMessage.status).where(
                OutboxMessage.kind == "email")))  # fmt: skip
        assert statuses == {"sent"}
    finally:
        db.dispose()
