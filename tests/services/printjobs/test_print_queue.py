"""The print queue on both databases, with real printers: a spool folder and a TCP listener."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from picker.domain.roles import NotAllowed, Role
from picker.printing.backends import SpoolBackend, TcpBackend
from picker.services.actors import Actor, OperatorInfo
from picker.services.errors import ServiceError
from picker.services.printjobs import print_queue
from picker.services.printjobs.print_queue import (
    STALE_AFTER,
    PrinterStatus,
    PrintWorker,
    deliver_due,
    enqueue,
)
from picker.store.engine import Database
from picker.store.models import Courier, Operator, Order, Parcel, PrintJob
from tests.conftest import NOW
from tests.printing.test_backends import Listener, free_port
from tests.services.intake.test_order_import import order, run

CLI = Actor("T01")
PDF = b"%PDF-1.4 label of EE123456785PL %%EOF"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def queue(
    db: Database,
    content: bytes = PDF,
    *,
    printer: str = "T01",
    kind: str = "label",
    at: datetime = NOW,
) -> int:
    with db.transaction() as s:
        return enqueue(
            s,
            kind=kind,
            printer=printer,
            content=content,
            content_type="application/pdf",
            terminal_id="T01",
            at=at,
        )


def row(db: Database, job_id: int) -> PrintJob:
    with db.read() as s:
        found = s.get(PrintJob, job_id)
        assert found is not None
        return found


def count_jobs(db: Database) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(PrintJob)) or 0)


@pytest.fixture
def printer():  # type: ignore[no-untyped-def]
    listener = Listener()
    yield listener
    listener.close()


# --- queueing and sending --------------------------------------------------------------------


def test_a_job_is_queued_in_the_callers_transaction_and_undone_with_it(db) -> None:
    with pytest.raises(ZeroDivisionError), db.transaction() as s:
        enqueue(s, kind="label", printer="T01", content=PDF, content_type="application/pdf",
                terminal_id="T01", at=NOW)  # fmt: skip
        raise ZeroDivisionError  # the parcel close failed after queueing its label
    assert count_jobs(db) == 0
    job_id = queue(db)
    job = row(db, job_id)
    assert (job.status, job.attempts, job.next_attempt_at, job.content) == ("queued", 0, NOW, PDF)


def test_a_document_to_print_must_have_content_and_a_known_kind(db) -> None:
    with pytest.raises(ServiceError, match="the label to print is empty"):
        queue(db, b"")
    with pytest.raises(ServiceError, match="'poster' is not a document Picker prints"):
        queue(db, kind="poster")
    assert count_jobs(db) == 0


def test_a_due_job_is_spooled_once_and_marked_printed(db, tmp_path, clock) -> None:
    job_id = queue(db)
    spool = SpoolBackend("T01", tmp_path / "spool")
    delivery = deliver_due(db, "T01", spool, clock=clock, claimed_by="T01")
    assert (delivery.printed, delivery.down, delivery.queued) == ([job_id], None, 0)
    assert (tmp_path / "spool" / f"label-{job_id}.pdf").read_bytes() == PDF
    job = row(db, job_id)
    assert (job.status, job.printed_at, job.attempts, job.claimed_by) == ("done", NOW, 1, "T01")
    assert deliver_due(db, "T01", spool, clock=clock).printed == []  # never twice
    assert len(list((tmp_path / "spool").iterdir())) == 1


def test_other_printers_jobs_are_left_alone(db, tmp_path, clock) -> None:
    mine, theirs = queue(db), queue(db, printer="PACK-2")
    delivery = deliver_due(db, "T01", SpoolBackend("T01", tmp_path), clock=clock)
    assert delivery.printed == [mine]
    assert row(db, theirs).status == "queued"


def test_a_printer_that_is_down_keeps_the_job_and_prints_it_once_when_it_answers(db, clock) -> None:
    port = free_port()  # nothing listens: the printer is switched off
    tcp = TcpBackend("T01", "127.0.0.1", port, timeout_s=2)
    job_id = queue(db)
    delivery = deliver_due(db, "T01", tcp, clock=clock)
    message = f"printer T01 at 127.0.0.1:{port} is not answering (connection refused)"
    assert (delivery.printed, delivery.down, delivery.queued) == ([], message, 1)
    job = row(db, job_id)
    assert (job.status, job.attempts, job.last_error) == ("queued", 1, message)
    assert job.next_attempt_at == NOW + timedelta(seconds=5)
    seen = print_queue.status(db, "T01")
    assert (seen.queued, seen.oldest_queued_at, seen.down, seen.last_error) == (
        1, NOW, True, message,
    )  # fmt: skip
    assert seen.words == "printer T01 down, 1 label queued"

    listener = Listener(port)  # the printer is switched on
    try:
        assert deliver_due(db, "T01", tcp, clock=clock).printed == []  # not due yet
        clock.advance(seconds=5)
        assert deliver_due(db, "T01", tcp, clock=clock).printed == [job_id]
        assert deliver_due(db, "T01", tcp, clock=clock).printed == []
        assert listener.wait_for(1) == [PDF]
        time.sleep(0.1)
        assert listener.received == [PDF]  # exactly once
    finally:
        listener.close()
    job = row(db, job_id)
    assert (job.status, job.attempts, job.printed_at) == ("done", 2, NOW + timedelta(seconds=5))
    after = print_queue.status(db, "T01")
    assert (after.queued, after.down, after.words) == (0, False, "printer T01 ready")


def test_after_an_outage_the_waiting_labels_print_first_and_in_the_order_queued(db, clock):
    port = free_port()
    tcp = TcpBackend("T01", "127.0.0.1", port, timeout_s=2)
    waiting = [queue(db, f"label {n}".encode()) for n in range(3)]
    for _ in range(6):  # the outage: tried at 0 s and 5 s, next at 15 s
        deliver_due(db, "T01", tcp, clock=clock)
        clock.advance(seconds=1)
    assert print_queue.status(db, "T01").down
    listener = Listener(port)
    try:
        newest = queue(db, b"label 3", at=clock())
        # Queued while the printer is down: it waits for the printer's next try too.
        assert row(db, newest).next_attempt_at == NOW + timedelta(seconds=15)
        assert deliver_due(db, "T01", tcp, clock=clock).printed == []
        clock.now = NOW + timedelta(seconds=15)
        printed = []
        for _ in range(4):  # one label a pass
            printed += deliver_due(db, "T01", tcp, clock=clock, limit=1).printed
        assert printed == [*waiting, newest]
        assert listener.wait_for(4) == [b"label 0", b"label 1", b"label 2", b"label 3"]
    finally:
        listener.close()
    # The printer answered: no longer said to be down while the rest print.
    assert print_queue.status(db, "T01").words == "printer T01 ready"


def test_a_pass_stops_at_a_dead_printer_instead_of_hammering_it(db, clock) -> None:
    ids = [queue(db, bytes([n]) * 10) for n in range(3)]
    delivery = deliver_due(db, "T01", TcpBackend("T01", "127.0.0.1", free_port()), clock=clock)
    assert delivery.printed == [] and delivery.queued == 3
    assert [row(db, i).attempts for i in ids] == [1, 0, 0]
    assert print_queue.status(db, "T01").words == "printer T01 down, 3 labels queued"


class CountingBackend:
    """A real back-end that counts how often the printer is tried."""

    def __init__(self, backend: TcpBackend) -> None:
        self.backend = backend
        self.name = backend.name
        self.tries: list[float] = []
        self.clock: Clock | None = None

    def send(self, data: bytes, *, content_type: str, title: str) -> str:
        assert self.clock is not None
        self.tries.append((self.clock.now - NOW).total_seconds())
        return self.backend.send(data, content_type=content_type, title=title)


def test_a_printer_that_is_down_is_tried_once_per_back_off_however_many_jobs_wait(
    db, clock
) -> None:
    ids = [queue(db, f"label {n}".encode()) for n in range(3)]
    dead = CountingBackend(TcpBackend("T01", "127.0.0.1", free_port(), timeout_s=2))
    dead.clock = clock
    worker = PrintWorker(db, "T01", dead, clock=clock, claimed_by="T01")
    for _ in range(31):  # `picker print run --watch` looking every second for 30 s
        worker.run_once()
        clock.advance(seconds=1)
    assert dead.tries == [0, 5, 15]  # the schedule: 0, +5 s, +10 s; the next at 35 s
    assert [row(db, i).attempts for i in ids] == [3, 0, 0]
    # Every job waits for the printer's next try, the first queued still first in line.
    assert {row(db, i).next_attempt_at for i in ids} == {NOW + timedelta(seconds=35)}
    assert worker.last_status is not None
    assert worker.last_status.words == "printer T01 down, 3 labels queued"


def test_a_job_queued_while_its_printer_is_down_waits_for_the_printers_next_try(db, clock) -> None:
    first = queue(db)
    deliver_due(db, "T01", TcpBackend("T01", "127.0.0.1", free_port()), clock=clock)
    other_printer = queue(db, printer="PACK-2", at=NOW + timedelta(seconds=1))
    later = queue(db, at=NOW + timedelta(seconds=1))
    assert row(db, first).next_attempt_at == NOW + timedelta(seconds=5)
    assert row(db, later).next_attempt_at == NOW + timedelta(seconds=5)
    assert row(db, other_printer).next_attempt_at == NOW + timedelta(seconds=1)
    clock.advance(seconds=2)
    dead = CountingBackend(TcpBackend("T01", "127.0.0.1", free_port()))
    dead.clock = clock
    assert deliver_due(db, "T01", dead, clock=clock).printed == []
    assert dead.tries == []  # the new label does not bring the printer's try forward
    # A person who asks for one job to go now is heard.
    print_queue.retry(db, CLI, later, clock=clock)
    deliver_due(db, "T01", dead, clock=clock)
    assert dead.tries == [2]
    assert (row(db, later).attempts, row(db, first).attempts) == (1, 1)


def test_the_back_off_doubles_from_five_seconds_and_stops_at_five_minutes(db, clock) -> None:
    job_id = queue(db)
    dead = TcpBackend("T01", "127.0.0.1", free_port())
    waits = []
    for _ in range(9):
        assert deliver_due(db, "T01", dead, clock=clock).down
        job = row(db, job_id)
        assert job.next_attempt_at is not None
        waits.append((job.next_attempt_at - clock.now).total_seconds())
        clock.now = job.next_attempt_at
    assert waits == [5, 10, 20, 40, 80, 160, 300, 300, 300]
    assert row(db, job_id).attempts == 9


def test_two_workers_on_one_queue_send_each_job_exactly_once(db, printer) -> None:
    contents = [f"job {n:02d} ".encode() * 50 for n in range(20)]
    with db.transaction() as s:
        ids = [
            enqueue(s, kind="label", printer="T01", content=content,
                    content_type="application/pdf", terminal_id="T01")
            for content in contents
        ]  # fmt: skip
    tcp = TcpBackend("T01", "127.0.0.1", printer.port, timeout_s=5)
    start = threading.Barrier(2)
    sent: dict[str, list[int]] = {"T01": [], "T02": []}
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            start.wait()
            while True:
                delivery = deliver_due(db, "T01", tcp, limit=3, claimed_by=name)
                sent[name] += delivery.printed
                if delivery.queued == 0:
                    return
                if not delivery.printed:
                    time.sleep(0.01)  # the other worker is sending the last ones
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in sent]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(sent["T01"] + sent["T02"]) == sorted(ids)
    assert sorted(printer.wait_for(20)) == sorted(contents)
    time.sleep(0.1)
    assert len(printer.received) == 20  # nothing sent twice


def test_a_job_stuck_printing_past_the_stale_limit_is_sent_again(db, tmp_path, clock) -> None:
    crashed, busy = queue(db, b"crashed mid-send"), queue(db, b"being sent right now")
    with db.transaction() as s:  # one terminal died while sending, another is sending now
        for job_id, at, who in (
            (crashed, NOW - STALE_AFTER - timedelta(seconds=1), "T07"),
            (busy, NOW - STALE_AFTER + timedelta(seconds=30), "T08"),
        ):
            s.execute(
                update(PrintJob).where(PrintJob.id == job_id)
                .values(status="printing", claimed_at=at, claimed_by=who, attempts=1)
            )  # fmt: skip
    delivery = deliver_due(db, "T01", SpoolBackend("T01", tmp_path), clock=clock)
    assert delivery.printed == [crashed]  # at least once: it may now have printed twice
    assert (tmp_path / f"label-{crashed}.pdf").read_bytes() == b"crashed mid-send"
    job = row(db, crashed)
    assert (job.status, job.attempts) == ("done", 2)
    assert job.last_error is not None and "send by T07 began" in job.last_error
    assert row(db, busy).status == "printing"
    assert delivery.queued == 1


def test_a_job_whose_file_is_gone_fails_in_words_and_the_next_job_still_prints(
    db, tmp_path, clock
) -> None:
    with db.transaction() as s:
        manifest = PrintJob(kind="manifest", printer="T01", content_type="application/pdf",
                            path=str(tmp_path / "gone.pdf"), terminal_id="T01", created_at=NOW,
                            next_attempt_at=NOW)  # fmt: skip
        s.add(manifest)
        s.flush()
        gone_id = manifest.id
    after = queue(db)
    spool = SpoolBackend("T01", tmp_path / "spool")
    delivery = deliver_due(db, "T01", spool, clock=clock)
    assert delivery.printed == [after] and delivery.failed == [gone_id]
    gone = row(db, gone_id)
    assert gone.status == "failed"
    assert (
        gone.last_error
        == f"the file {tmp_path / 'gone.pdf'} cannot be read (no such file or directory)"
    )
    assert print_queue.status(db, "T01").words == "printer T01 ready, 1 failed"
    (tmp_path / "gone.pdf").write_bytes(b"%PDF manifest")  # someone puts the file back
    print_queue.retry(db, CLI, gone_id, clock=clock)
    assert deliver_due(db, "T01", spool, clock=clock).printed == [gone_id]
    assert (tmp_path / "spool" / f"manifest-{gone_id}.pdf").read_bytes() == b"%PDF manifest"


# --- what people do with the queue -----------------------------------------------------------


def test_retry_makes_a_waiting_job_due_now_and_keeps_its_attempts(db, clock) -> None:
    job_id = queue(db)
    deliver_due(db, "T01", TcpBackend("T01", "127.0.0.1", free_port()), clock=clock)
    clock.advance(seconds=1)
    retried = print_queue.retry(db, CLI, job_id, clock=clock)
    assert (retried.status, retried.attempts, retried.next_attempt_at) == ("queued", 1, clock.now)
    assert retried.last_error is not None and "connection refused" in retried.last_error


def test_retry_is_refused_in_words_for_a_job_printed_cancelled_sending_or_unknown(
    db, tmp_path, clock
) -> None:
    printed, cancelled, sending = queue(db), queue(db), queue(db)
    deliver_due(db, "T01", SpoolBackend("T01", tmp_path), clock=clock, limit=1)
    print_queue.cancel(db, CLI, cancelled, "printed by hand", clock=clock)
    with db.transaction() as s:
        s.execute(update(PrintJob).where(PrintJob.id == sending)
                  .values(status="printing", claimed_at=NOW, claimed_by="T09"))  # fmt: skip
    before = print_queue.jobs(db)
    for job_id, words in (
        (printed, f"print job {printed} was printed at 2026-11-22 09:30 UTC; it is not retried"),
        (cancelled, f"print job {cancelled} was cancelled; it is not retried"),
        (sending, f"print job {sending} is being sent right now (by T09); it is not retried"),
        (99, "there is no print job 99"),
    ):
        with pytest.raises(ServiceError) as refused:
            print_queue.retry(db, CLI, job_id, clock=clock)
        assert str(refused.value).startswith(words)
    assert print_queue.jobs(db) == before


def test_only_a_lead_cancels_and_says_why(db) -> None:
    job_id = queue(db)
    packer = Actor("T02", OperatorInfo(4, "EMP-0004", "Ola", frozenset({Role.PACKER})))
    with pytest.raises(NotAllowed):
        print_queue.cancel(db, packer, job_id, "not needed")
    with pytest.raises(ServiceError, match="say why print job"):
        print_queue.cancel(db, CLI, job_id, "  ")
    assert row(db, job_id).status == "queued"
    cancelled = print_queue.cancel(db, CLI, job_id, "wrong printer", clock=lambda: NOW)
    assert cancelled.status == "cancelled"
    assert cancelled.last_error == "cancelled on T01 at 2026-11-22 09:30 UTC: wrong printer"


def test_the_queue_lists_newest_first_and_by_status(db, tmp_path, clock) -> None:
    first, second = queue(db, kind="pick_list"), queue(db, kind="manifest")
    deliver_due(db, "T01", SpoolBackend("T01", tmp_path), clock=clock, limit=1)
    listed = print_queue.jobs(db)
    assert [(j.id, j.kind, j.status, j.size) for j in listed] == [
        (second, "manifest", "queued", len(PDF)),
        (first, "pick_list", "done", len(PDF)),
    ]
    assert [j.id for j in print_queue.jobs(db, status="queued")] == [second]
    assert [j.id for j in print_queue.jobs(db, limit=1)] == [second]
    with pytest.raises(ServiceError, match="'lost' is not a print job status"):
        print_queue.jobs(db, status="lost")


# --- reprints --------------------------------------------------------------------------------


def closed_parcel(db: Database, settings, tracking: str = "EE123456785PL") -> int:  # type: ignore[no-untyped-def]
    """A closed parcel of an imported order, as packing leaves it (without its label job)."""
    run(db, settings, order("1001"))
    with db.transaction() as s:
        order_id = s.scalar(select(Order.id).where(Order.number == "PO-0000001"))
        courier = s.scalar(select(Courier.id).where(Courier.code == "POST"))
        parcel = Parcel(order_id=order_id, seq=1, courier_id=courier, status="closed",
                        tracking_no=tracking, weight_g=800, closed_at=NOW)  # fmt: skip
        s.add(parcel)
        s.flush()
        return parcel.id


def packer(db: Database) -> Actor:
    with db.read() as s:
        op = s.execute(select(Operator.id, Operator.name).where(Operator.badge == "EMP-0004")).one()
    return Actor("T02", OperatorInfo(op.id, "EMP-0004", op.name, frozenset({Role.PACKER})))


def test_a_reprint_copies_the_latest_label_into_a_new_job_with_who_and_why(
    floor, settings, tmp_path, clock
) -> None:
    parcel_id = closed_parcel(floor, settings)
    with floor.transaction() as s:
        old, label = (
            enqueue(s, kind="label", printer="T02", content=content, at=NOW,
                    content_type="application/zpl", terminal_id="T02", parcel_id=parcel_id)
            for content in (b"first label", b"second label")
        )  # fmt: skip
    deliver_due(floor, "T02", SpoolBackend("T02", tmp_path), clock=clock)
    assert row(floor, label).title == "EE123456785PL"
    who = packer(floor)
    reprint = print_queue.reprint(
        floor, who, "EE123456785PL", " label  jammed ", "T02", clock=clock
    )
    again = print_queue.reprint(
        floor, CLI, str(parcel_id), "courier lost it", "PACK-9", clock=clock
    )
    assert reprint not in (old, label) and again > reprint
    rows = {j.id: j for j in print_queue.jobs(floor)}
    first = rows[reprint]
    assert (first.status, first.kind, first.printer, first.content_type) == (
        "queued", "label", "T02", "application/zpl",
    )  # fmt: skip
    assert (first.reason, first.requested_by, first.requested_by_name, first.terminal_id) == (
        "label jammed", who.operator_id, who.operator.name, "T02",  # type: ignore[union-attr]
    )  # fmt: skip
    assert (first.tracking_no, first.order_number) == ("EE123456785PL", "PO-0000001")
    assert (rows[again].reason, rows[again].requested_by, rows[again].printer) == (
        "courier lost it", None, "PACK-9",
    )  # fmt: skip
    assert row(floor, reprint).content == b"second label"
    deliver_due(floor, "T02", SpoolBackend("T02", tmp_path), clock=clock)
    assert (tmp_path / f"label-EE123456785PL-{reprint}.zpl").read_bytes() == b"second label"


def test_a_reprint_is_refused_in_words_and_queues_nothing(floor, settings) -> None:
    parcel_id = closed_parcel(floor, settings)
    for parcel, reason, words in (
        ("EE123456785PL", "   ", "say why the label is printed again"),
        (
            "EE123456785PL",
            "jammed",
            "parcel EE123456785PL has no label to print again (it is closed)",
        ),
        ("XX000000000XX", "jammed", "there is no parcel 'XX000000000XX'"),
    ):
        with pytest.raises(ServiceError) as refused:
            print_queue.reprint(floor, CLI, parcel, reason, "T02")
        assert str(refused.value).startswith(words)
    with floor.transaction() as s:
        enqueue(s, kind="label", printer="T02", content=b"label", content_type="application/pdf",
                terminal_id="T02", parcel_id=parcel_id)  # fmt: skip
        s.execute(update(Parcel).where(Parcel.id == parcel_id).values(status="voided"))
    with pytest.raises(ServiceError, match="parcel EE123456785PL was voided"):
        print_queue.reprint(floor, CLI, "EE123456785PL", "jammed", "T02")
    assert count_jobs(floor) == 1


# --- the worker ------------------------------------------------------------------------------


def wait_until(predicate, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_the_worker_prints_in_the_background_and_reports_the_printer(db, tmp_path) -> None:
    seen: list[PrinterStatus] = []
    port = free_port()
    worker = PrintWorker(
        db, "T01", TcpBackend("T01", "127.0.0.1", port, timeout_s=2), interval_s=0.05,
        on_status=seen.append, claimed_by="T01",
    )  # fmt: skip
    worker.start()
    try:
        job_id = queue(db, b"label while the printer is off", at=datetime.now(UTC))
        worker.wake()
        assert wait_until(lambda: bool(seen) and seen[-1].down)
        assert seen[-1].words == "printer T01 down, 1 label queued"
        listener = Listener(port)
        try:
            with db.transaction() as s:  # rather than wait out the back-off
                s.execute(
                    update(PrintJob).where(PrintJob.id == job_id)
                    .values(next_attempt_at=datetime.now(UTC))
                )  # fmt: skip
            assert wait_until(lambda: seen[-1].queued == 0 and not seen[-1].down)
            assert listener.wait_for(1) == [b"label while the printer is off"]
        finally:
            listener.close()
    finally:
        worker.stop()
    assert not worker.running
    assert row(db, job_id).status == "done"


def test_the_worker_survives_a_database_that_is_gone_and_says_so() -> None:
    seen: list[PrinterStatus] = []
    gone = Database("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    worker = PrintWorker(gone, "T01", SpoolBackend("T01", "/nonexistent"), interval_s=0.05,
                         on_status=seen.append)  # fmt: skip
    worker.start()
    try:
        assert wait_until(lambda: bool(seen))
        assert worker.running  # still trying
    finally:
        worker.stop()
        gone.dispose()
    assert seen[0].last_error is not None
    assert seen[0].last_error.startswith("the database cannot be used")
    assert worker.last_error == seen[0].last_error


def test_a_job_queued_before_the_upgrade_is_still_printed_after_it(
    blank_db, tmp_path, clock
) -> None:
    from sqlalchemy import text

    from picker.store import migrate

    migrate.upgrade(blank_db.engine, "0004")
    with blank_db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO print_jobs (created_at, kind, printer, content_type, content, "
                "status, attempts, terminal_id) VALUES (:at, 'label', 'T01', "
                "'application/pdf', :content, 'queued', 0, 'T01')"
            ),
            {"at": NOW.replace(tzinfo=None) - timedelta(hours=1), "content": PDF},
        )
    migrate.upgrade(blank_db.engine)
    waiting = print_queue.jobs(blank_db, status="queued")
    assert [(j.next_attempt_at, j.attempts) for j in waiting] == [(NOW - timedelta(hours=1), 0)]
    delivery = deliver_due(blank_db, "T01", SpoolBackend("T01", tmp_path / "spool"), clock=clock)
    assert delivery.printed == [waiting[0].id]
