"""A return's label from the back office (``picker return authorize … --label``): rendered by
:func:`~picker.services.printjobs.return_labels.render_return_label`, its tracking number kept
on the return (so the parcel opens the return when it is scanned at the desk), and printed on the
terminal's printer or handed back for a file, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from picker.config import Settings
from picker.services.actors import Actor, Clock, allow, system_clock
from picker.services.errors import NotFound
from picker.services.printjobs import print_queue
from picker.services.printjobs.return_labels import render_return_label
from picker.services.returns.shapes import ReturnRefused
from picker.store.engine import Database
from picker.store.models import Courier, Return

#: A label is made for a return the customer still has to send: not once it is closed.
_LABELLED = ("authorized", "open")


@dataclass(frozen=True)
class ReturnLabelMade:
    number: str
    tracking_no: str
    courier: str
    pdf: bytes
    #: The print job queued for it; None when the caller keeps the PDF (a file).
    job_id: int | None
    warnings: tuple[str, ...] = ()


def make_return_label(
    db: Database,
    actor: Actor,
    number: str,
    *,
    settings: Settings,
    courier: str | None = None,
    printer: str | None = None,
    clock: Clock = system_clock,
) -> ReturnLabelMade:
    """The return label of RMA ``number`` (the order's courier, or ``courier`` by its code),
    its tracking number kept on the return. With ``printer`` the label is queued there too.
    Refused in words, nothing changed: no such return, one closed or cancelled, one that has a
    label already (its tracking number named), an unknown courier, and whatever the label
    itself refuses (see ``render_return_label``)."""
    allow(actor, "returns.return_label.make_return_label")
    text = number.strip().upper()
    now = clock()

    def work(s: Session) -> ReturnLabelMade:
        ret = s.execute(
            select(Return.id, Return.order_id, Return.status, Return.tracking_no).where(
                Return.number == text
            )
        ).one_or_none()
        if ret is None:
            raise NotFound(f"no return {text}")
        if ret.status not in _LABELLED:
            raise ReturnRefused(f"{text} is {ret.status}: no label is made for it")
        if ret.tracking_no is not None:
            raise ReturnRefused(f"{text} has a return label already: {ret.tracking_no}")
        courier_id = None
        if courier is not None:
            courier_id = s.scalar(select(Courier.id).where(Courier.code == courier.upper()))
            if courier_id is None:
                raise NotFound(f"no courier {courier.upper()}")
        label = render_return_label(
            s, order_id=ret.order_id, rma=text, courier_id=courier_id, settings=settings, at=now
        )
        chosen = courier_id or s.scalar(
            select(Courier.id).where(Courier.code == label.courier_code)
        )
        kept = s.execute(
            update(Return)
            .where(Return.id == ret.id, Return.tracking_no.is_(None))
            .values(tracking_no=label.tracking_no, courier_id=chosen, version=Return.version + 1)
        )
        if kept.rowcount != 1:  # type: ignore[attr-defined]
            raise ReturnRefused(f"{text} was given a return label on another terminal meanwhile")
        job = None
        if printer is not None:
            job = print_queue.enqueue(
                s, kind="label", printer=printer, content=label.pdf,
                content_type="application/pdf", terminal_id=actor.terminal_id,
                order_id=ret.order_id, requested_by=actor.operator_id, title=text, at=now,
            )  # fmt: skip
        return ReturnLabelMade(text, label.tracking_no, label.courier_code, label.pdf, job,
                               label.warnings)  # fmt: skip

    return db.run(work)
