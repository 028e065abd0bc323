"""The dispatcher against a real SMTP server (aiosmtpd), on both databases: one mail per order
shipped; refusals fail at once, passing failures are retried; a dispatcher killed mid-batch
loses nothing; two dispatchers racing send each message once."""

from __future__ import annotations

import email
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from picker.config import Settings
from picker.services.notify import dispatcher
from picker.services.notify.dispatcher import dispatch_due
from picker.store.engine import Database
from picker.store.models import Order, OutboxMessage
from tests.services.floor.test_handoff import packed
from tests.services.floor.test_picking import clock, order_id
from tests.services.intake.test_order_import import order, run, stock
from tests.services.notify.smtp_sink import free_port, smtp_server
from tests.services.notify.test_outbox import rows, ship, with_notify


def mailing(settings: Settings, port: int, **notify: object) -> Settings:
    """``settings`` sending mail to the local server on ``port``; shop messages skipped."""
    s = with_notify(settings, shop=False, accepted=True)
    notify = {"smtp_url": f"smtp://127.0.0.1:{port}", **notify}
    return replace(s, notify=replace(s.notify, **notify))  # type: ignore[arg-type]


def statuses(db: Database) -> Counter[str]:
    with db.read() as s:
        return Counter(dict(s.execute(
            select(OutboxMessage.status, func.count()).where(OutboxMessage.kind == "email")
            .group_by(OutboxMessage.status)).all()))  # fmt: skip


def accepted_orders(db: Database, settings: Settings, n: int, first: int = 0) -> None:
    """``n`` orders imported (customers c{first}… @example.com): each queues its "accepted"
    mail."""
    stock(db, "SKU-00001", A_01_01_1=n + 5)
    run(db, settings, *(order(str(5000 + i), customer_email=f"c{i}@example.com")
                        for i in range(first, first + n)))  # fmt: skip


def test_shipping_orders_ends_with_exactly_one_mail_per_order_naming_all_its_parcels(
    floor, settings
) -> None:
    with smtp_server() as (port, sink):
        mail = mailing(settings, port)
        one, [a] = packed(floor, mail, ("SKU-00001", 1), tote="T-0901")
        two, [b1, b2] = packed(floor, mail, ("SKU-00001", 1), ("SKU-00002", 1), tote="T-0902",
                               parcels=2)  # fmt: skip
        with floor.transaction() as s:  # accepted mails are not this test's business
            s.execute(update(OutboxMessage).values(status="skipped"))
        ship(floor, mail, a, b1, b2)
        done = dispatch_due(floor, mail, clock=clock)
        assert len(done.sent) == 2 and not done.failed and not done.retrying
        assert dispatch_due(floor, mail, clock=lambda: clock() + timedelta(hours=2)).handled == 0
        assert sink.count() == 2
        by_subject = {r.message["Subject"]: r for r in sink.received}
        for number, trackings in ((one, [a]), (two, [b1, b2])):
            [got] = [r for subject, r in by_subject.items() if number in subject]
            text = got.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
            assert all(t in text for t in trackings)
            assert got.rcpt_tos == ["huong@example.vn"]
        sent = rows(floor, event="shipped", kind="email")
        assert [m.status for m in sent] == ["sent", "sent"]
        assert all(m.sent_at == clock() and m.attempts == 1 for m in sent)


def test_a_rolled_back_close_sends_nothing(floor, settings, monkeypatch) -> None:
    from picker.services.floor import handoff
    from tests.services.floor.test_packing import LEAD

    with smtp_server() as (port, sink):
        mail = mailing(settings, port)
        _, [a] = packed(floor, mail, ("SKU-00001", 1), tote="T-0901")
        with floor.transaction() as s:
            s.execute(update(OutboxMessage).values(status="skipped"))
        pickup = handoff.open_pickup(floor, LEAD, "POST", clock=clock)
        handoff.hand_over_parcel(floor, LEAD, pickup.id, a, clock=clock)

        def broken(*_: object) -> bytes:
            raise OSError(5, "Input/output error")

        monkeypatch.setattr(handoff, "render_manifest", broken)
        with pytest.raises(OSError):
            handoff.close_pickup(floor, LEAD, mail, pickup.id, clock=clock)
        assert dispatch_due(floor, mail, clock=clock).handled == 0
        assert sink.count() == 0


def test_a_refused_recipient_fails_at_once_with_the_servers_words(floor, settings) -> None:
    with smtp_server() as (port, sink):
        mail = mailing(settings, port)
        accepted_orders(floor, mail, 3)
        sink.refuse.add("c1@example.com")
        done = dispatch_due(floor, mail, clock=clock)
        assert len(done.sent) == 2 and len(done.failed) == 1
        [(failed_id, words)] = done.failed
        assert words == (
            "the server refused the recipient: 550 5.1.1 <c1@example.com>: no such mailbox here"
        )
        [m] = rows(floor, id=failed_id)
        assert (m.status, m.error, m.next_attempt_at, m.attempts) == ("failed", words, None, 1)
        later = dispatch_due(floor, mail, clock=lambda: clock() + timedelta(hours=3))
        assert later.handled == 0 and sink.count() == 2  # never retried by itself


def test_a_server_that_is_down_leaves_mail_queued_and_it_is_sent_once_when_it_is_back(
    floor, settings
) -> None:
    port = free_port()  # nothing listens there yet
    mail = mailing(settings, port)
    accepted_orders(floor, mail, 3)
    done = dispatch_due(floor, mail, clock=clock)
    assert len(done.retrying) == 1 and len(done.released) == 2  # the rest not even tried
    assert "cannot be reached" in done.retrying[0][1]
    assert statuses(floor) == {"queued": 3}
    [first] = rows(floor, id=done.retrying[0][0])
    assert first.next_attempt_at == clock() + timedelta(seconds=30) and first.attempts == 1
    assert {m.attempts for m in rows(floor, kind="email") if m.id != first.id} == {0}
    # Down again 30 s later: the next try a minute after that.
    again = dispatch_due(floor, mail, clock=lambda: clock() + timedelta(seconds=30))
    [second] = rows(floor, id=again.retrying[0][0])
    assert second.attempts == 2
    assert second.next_attempt_at == clock() + timedelta(seconds=30 + 60)
    with smtp_server(port) as (_, sink):
        # The two given back unsent wait 30 s from the failure that stopped the pass.
        early = dispatch_due(floor, mail, clock=lambda: clock() + timedelta(seconds=60))
        assert len(early.sent) == 2 and second.id not in early.sent  # its back-off is not over
        late = dispatch_due(floor, mail, clock=lambda: clock() + timedelta(seconds=91))
        assert late.sent == [second.id]
        assert sink.count() == 3 and len({r.message_id for r in sink.received}) == 3
    assert statuses(floor) == {"sent": 3}


def test_greylisting_is_retried_and_a_message_is_given_up_after_the_configured_hours(
    floor, settings
) -> None:
    with smtp_server() as (port, sink):
        mail = mailing(settings, port, give_up_after_h=1.0)
        accepted_orders(floor, mail, 2)
        sink.greylist.add("c0@example.com")
        done = dispatch_due(floor, mail, clock=clock)
        assert len(done.sent) == 1 and len(done.retrying) == 1 and not done.released
        assert "451 4.7.1 Greylisted" in done.retrying[0][1]
        later = dispatch_due(floor, mail, clock=lambda: clock() + timedelta(seconds=30))
        assert later.sent == [done.retrying[0][0]] and sink.count() == 2
    port = free_port()
    down = mailing(settings, port, give_up_after_h=1.0)
    accepted_orders(floor, down, 3, first=10)  # their mail cannot go anywhere
    at = clock()
    while True:
        pass_ = dispatch_due(floor, down, clock=lambda: at)  # noqa: B023
        if pass_.failed:
            break
        assert pass_.retrying, "the message must be retried until it is given up"
        at = rows(floor, id=pass_.retrying[0][0])[0].next_attempt_at  # type: ignore[assignment]
    [(_, words)] = pass_.failed
    assert words.startswith("gave up after 1 h: the mail server cannot be reached")
    assert at - clock() >= timedelta(hours=1)


def _dispatch_forever(url: str, settings: Settings) -> None:
    """A dispatcher process of its own (killed by the test)."""
    db = Database(url)
    dispatcher.Dispatcher(db, settings, claimed_by="doomed").run()


def test_a_dispatcher_killed_mid_batch_loses_nothing_and_duplicates_keep_their_message_id(
    floor, settings
) -> None:
    with smtp_server() as (port, sink):
        mail = mailing(settings, port, lease_s=1.0, batch=10, timeout_s=0.5)
        accepted_orders(floor, mail, 30)
        with floor.transaction() as s:  # due by the real clock the dispatcher process reads
            s.execute(update(OutboxMessage).values(next_attempt_at=datetime.now(UTC)))
        sink.delay = 0.05
        context = multiprocessing.get_context("spawn")
        child = context.Process(target=_dispatch_forever, args=(floor.url, mail))
        child.start()
        deadline = time.monotonic() + 60
        while sink.count() < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
        child.join()
        assert 5 <= sink.count() < 30, "the kill must land mid-batch"
        assert statuses(floor)["sending"] >= 1  # claimed by the dead one, not settled
        sink.delay = 0.0
        later = datetime.now(UTC) + timedelta(seconds=2)  # its lease ran out
        while dispatch_due(floor, mail, clock=lambda: later, claimed_by="heir").handled:
            pass
        assert statuses(floor) == {"sent": 30}
        with floor.read() as s:
            expected = {f"c{i}@example.com" for i in range(30)}
            assert {m.recipient for m in s.scalars(select(OutboxMessage))} == expected
        ids = Counter(r.message_id for r in sink.received)
        assert len(ids) == 30  # every message arrived
        for r in sink.received:  # a duplicate is the same message, byte for byte
            first = next(x for x in sink.received if x.message_id == r.message_id)
            assert r.raw == first.raw
        assert sum(ids.values()) >= 30


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_dispatchers_racing_on_postgresql_send_every_message_exactly_once(
    floor, settings, db_url
) -> None:
    with smtp_server() as (port, sink):
        mail = mailing(settings, port, batch=5)
        accepted_orders(floor, mail, 60)
        other = Database(floor.url)
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def work(db: Database, name: str) -> None:
            barrier.wait()
            try:
                while dispatch_due(db, mail, clock=clock, claimed_by=name).handled:
                    pass
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(d, n))
                   for d, n in ((floor, "one"), (other, "two"))]  # fmt: skip
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        other.dispose()
        assert not errors
        ids = Counter(r.message_id for r in sink.received)
        assert len(ids) == 60 and set(ids.values()) == {1}
        assert statuses(floor) == {"sent": 60}
        with floor.read() as s:
            by = Counter(s.scalars(select(OutboxMessage.claimed_by)))
        assert set(by) == {"one", "two"}, by  # both took part


def test_the_mail_folder_gets_one_eml_per_message(floor, settings, tmp_path: Path) -> None:
    folder = tmp_path / "mail"
    s = with_notify(settings, shop=False, accepted=True)
    mail = replace(s, notify=replace(s.notify, smtp_url=f"file://{folder}"))
    accepted_orders(floor, mail, 3)
    done = dispatch_due(floor, mail, clock=clock)
    assert len(done.sent) == 3
    files = sorted(folder.glob("*.eml"))
    assert len(files) == 3 and not list(folder.glob("*.part"))
    mails = [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    assert {str(m["To"]) for m in mails} == {f"Nguyễn Thị Hương <c{i}@example.com>"
                                             for i in range(3)}  # fmt: skip
    assert all(m["Message-ID"] and m.get_body(("plain",)) is not None for m in mails)


def test_an_internationalised_domain_is_sent_to_in_ascii_and_a_non_ascii_mailbox_is_refused(
    floor, settings
) -> None:
    with smtp_server() as (port, sink):
        mail = mailing(settings, port)
        stock(floor, "SKU-00001", A_01_01_1=5)
        run(floor, mail, order("5001", customer_email="x@bücher.de"),
            order("5002", customer_email="müller@example.de"))  # fmt: skip
        refused = ("the address müller@example.de has non-ASCII letters before the @, which "
                   "this mail server setup cannot send")  # fmt: skip
        by_to = {m.recipient: m for m in rows(floor, event="accepted", kind="email")}
        assert (by_to["müller@example.de"].status, by_to["müller@example.de"].error) == (
            "skipped", refused)  # fmt: skip
        done = dispatch_due(floor, mail, clock=clock)
        assert done.sent == [by_to["x@bücher.de"].id] and not done.failed
        [got] = sink.received
        assert got.rcpt_tos == ["x@xn--bcher-kva.de"]
        assert got.message["To"].addresses[0].addr_spec == "x@xn--bcher-kva.de"
        # One queued before the rule (or its address changed under it): failed at once, in
        # words, never tried for a day.
        with floor.transaction() as s:
            s.execute(update(OutboxMessage).where(OutboxMessage.id == by_to["x@bücher.de"].id)
                      .values(status="queued", next_attempt_at=clock(),
                              recipient="müller@example.de"))  # fmt: skip
        again = dispatch_due(floor, mail, clock=clock)
        assert again.failed == [(by_to["x@bücher.de"].id, refused)] and not again.retrying
        assert sink.count() == 1


def test_a_broken_template_waits_to_be_mended_and_a_mail_that_cannot_be_made_fails_at_once(
    floor, settings, tmp_path: Path
) -> None:
    with smtp_server() as (port, sink):
        mail = mailing(settings, port)
        accepted_orders(floor, mail, 2)
        english, polish = (m.id for m in rows(floor, event="accepted", kind="email"))
        with floor.transaction() as s:
            s.execute(update(OutboxMessage).where(OutboxMessage.id == polish)
                      .values(locale="pl"))  # fmt: skip

        def templates(name: str, files: dict[str, bytes]) -> Settings:
            folder = tmp_path / name
            for path, data in files.items():
                (folder / path).parent.mkdir(parents=True, exist_ok=True)
                (folder / path).write_bytes(data)
            return replace(mail, notify=replace(mail.notify, templates_dir=folder))

        typo = b"Hello {{ customer.name\n"
        typos = templates("typo", {"en/accepted.txt": typo, "pl/accepted.txt": typo})
        done = dispatch_due(floor, typos, clock=clock)
        assert dict(done.retrying).keys() == {english, polish} and not done.failed
        assert dict(done.retrying)[polish].startswith(
            "the mail cannot be made: the template pl/accepted.txt cannot be used (line 1)"
        )
        # A Polish template saved as cp1250 waits too; a subject the email package cannot
        # encode (a lone surrogate) will never be sent: failed at once, in words.
        odd = templates(
            "odd",
            {
                "pl/accepted.txt": "Dzień dobry\n".encode("cp1250"),
                "en/accepted.subject.txt": b'Order {{ "\\udcff" }}\n',
            },
        )
        later = dispatch_due(floor, odd, clock=lambda: clock() + timedelta(minutes=1))
        assert [i for i, _ in later.retrying] == [polish]
        assert later.retrying[0][1] == (
            "the mail cannot be made: the template pl/accepted.txt "
            "cannot be used: it is not UTF-8 text (save it as UTF-8)"
        )
        [(failed, words)] = later.failed
        assert failed == english and words.startswith("the mail cannot be made: UnicodeEncodeError")
        [m] = rows(floor, id=english)
        assert (m.status, m.next_attempt_at) == ("failed", None)
        assert sink.count() == 0


def test_starttls_asked_of_a_server_without_it_is_a_setup_problem_and_the_mail_waits(
    floor, settings
) -> None:
    with smtp_server() as (port, sink):  # aiosmtpd with no TLS: it offers no STARTTLS
        mail = mailing(settings, port, smtp_url=f"smtp+starttls://127.0.0.1:{port}")
        accepted_orders(floor, mail, 3)
        done = dispatch_due(floor, mail, clock=clock)
        assert not done.failed and len(done.retrying) == 1 and len(done.released) == 2
        assert done.retrying[0][1] == (
            f"the mail server 127.0.0.1:{port} does not offer STARTTLS, which [notify] smtp_url "
            "(smtp+starttls://) asks for: use smtps:// or smtp:// as that server wants, or "
            "another server"
        )
        assert statuses(floor) == {"queued": 3} and sink.count() == 0
        # Once smtp_url is put right, every one of them goes.
        fixed = dispatch_due(floor, mailing(settings, port),
                             clock=lambda: clock() + timedelta(minutes=1))  # fmt: skip
        assert len(fixed.sent) == 3 and sink.count() == 3


def _claimant_of_another_process(name: str) -> str:
    return dispatcher.claimant(name)


def test_two_dispatchers_of_one_terminal_id_claim_under_names_of_their_own() -> None:
    here = dispatcher.claimant("T05:cli")
    assert here == f"T05:cli@{socket.gethostname()[:30]}:{os.getpid()}"
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        there = pool.apply(_claimant_of_another_process, ("T05:cli",))
    assert there != here and there.startswith("T05:cli@")
    longest = dispatcher.claimant("T" * 16 + ":cli")
    assert len(longest) <= 64 and longest.endswith(f":{os.getpid()}")  # the pid is never cut


def test_a_waiting_mail_whose_news_is_out_of_date_is_skipped_saying_why(floor, settings) -> None:
    from picker.services.orders import lead_actions
    from tests.services.intake.test_order_import import CLI

    with smtp_server() as (port, sink):
        mail = mailing(settings, port)
        mail = replace(
            mail,
            notify=replace(mail.notify, events={**mail.notify.events, "on_hold_customer": True}),
        )
        stock(floor, "SKU-00001", A_01_01_1=10)
        no_street = order("5003", customer_email="c3@example.com")
        no_street = replace(no_street, ship=replace(no_street.ship, street=""))
        run(floor, mail, order("5001", customer_email="c1@example.com"),
            order("5002", customer_email="c2@example.com"), no_street)  # fmt: skip
        with floor.read() as s:
            cancelled, kept, fixed = s.scalars(select(Order.number).order_by(Order.shop_order_no))
        sink.greylist.update({"c1@example.com", "c2@example.com", "c3@example.com"})
        first = dispatch_due(floor, mail, clock=clock)  # every first try waits: backing off
        assert len(first.retrying) == 3 and sink.count() == 0
        lead_actions.cancel_order(floor, CLI, cancelled, "fraud suspected", clock=clock,
                                  settings=mail)  # fmt: skip
        with floor.transaction() as s:
            s.execute(update(Order).where(Order.number == fixed).values(ship_street="Hàng Bài 12"))
        assert lead_actions.release_order(floor, CLI, fixed, settings=mail, clock=clock).released
        done = dispatch_due(floor, mail, clock=lambda: clock() + timedelta(minutes=5))
        skipped = {
            (m.order_id, m.event): m.error for m in rows(floor, kind="email", status="skipped")
        }
        assert skipped == {
            (order_id(floor, cancelled), "accepted"):
                "the order is cancelled now: the 'accepted' mail is out of date",
            (order_id(floor, fixed), "on_hold_customer"):
                "the order is no longer on hold: the 'on_hold_customer' mail is out of date",
        }  # fmt: skip
        told = {(r.message["X-Picker-Order"], r.message["X-Picker-Event"]) for r in sink.received}
        assert told == {(cancelled, "cancelled"), (kept, "accepted"), (fixed, "accepted")}
        assert len(done.skipped) == 2 and not done.failed
