"""Courier labels for parcels: which layout, what it says, and previews before a real parcel.

A courier names its layout (``couriers.label_layout``); ``[labels] format`` is the layout of a
courier that names none. Layouts are read from ``[labels] dir`` and kept while their file is
unchanged, so a close does not parse TOML, and an edited layout is used from the next label on.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from picker.config import Settings
from picker.domain.label_text import LabelText
from picker.domain.statuses import ORDER_FINISHED, OrderStatus, ParcelStatus
from picker.domain.tracking import Scheme, TrackingError, s10_number
from picker.printing.barcodes import modules
from picker.printing.font_chain import FontChain, font_chain
from picker.printing.labels import (
    RECIPIENT_FIELDS,
    Address,
    Composed,
    LabelData,
    LabelError,
    clean,
    compose,
    glyph_names,
    redrawn,
    render_pdf,
    render_png,
    render_zpl,
    routing_code,
    undrawable,
)
from picker.printing.layouts import Layout, LayoutError, load_layout
from picker.printing.shaping import shape
from picker.services.actors import Actor, Clock, allow, system_clock
from picker.services.errors import NotFound, ServiceError
from picker.services.orders.status import record_event
from picker.services.printjobs.print_queue import find_parcel
from picker.services.printjobs.tracking_numbers import scheme_of
from picker.store.engine import Database
from picker.store.models import Courier, CourierService, Order, Parcel, Return

#: What a label of an exchange's replacement parcel says in its COD box, with the RMA number.
EXCHANGE_MARK = "EXCHANGE"

CONTENT_TYPES = {"pdf": "application/pdf", "zpl": "application/zpl", "png": "image/png"}

_layouts: dict[tuple[Path, str], tuple[tuple[float, ...], Layout]] = {}


def layout(settings: Settings, name: str | None) -> Layout:
    """The layout ``name`` (the configured format when None), re-read when a file of it (or of
    a layout it extends) changed. A broken layout is a :class:`ServiceError` naming file, key
    and problem."""
    name = name or settings.labels.format
    directory = settings.labels.dir
    key = (directory, name)
    stamps = _stamps(directory)
    cached = _layouts.get(key)
    if cached is not None and cached[0] == stamps:
        return cached[1]
    try:
        loaded = load_layout(directory, name)
    except LayoutError as exc:
        raise LabelRefused(f"Label layout {name}: {exc}") from None
    _layouts[key] = (stamps, loaded)
    return loaded


class LabelRefused(ServiceError):
    """A label that cannot be drawn: its layout is broken, or it does not fit this parcel.
    Nothing was closed or queued; the message names the layout and what is wrong."""


def fonts(settings: Settings) -> FontChain:
    """The label's font chain, ``[labels] fonts`` (built once per process)."""
    return font_chain(settings.labels.fonts)


def ready_fonts(settings: Settings, recipient: Address) -> FontChain:
    """The label's font chain, built, with the glyphs of every font that the recipient's
    characters are looked up in (regular and bold) read now. A CJK font's take up to a second
    to read the first time: a parcel close calls this before its write transaction, which
    holds the courier's tracking counter locked until it commits."""
    chain = fonts(settings)
    for field in RECIPIENT_FIELDS:
        for c in dict.fromkeys(shape(clean(getattr(recipient, field)))):
            if not c.isspace():
                chain.font_for(c, False)
                chain.font_for(c, True)
    return chain


def order_recipient(s: Session, order_id: int) -> Address | None:
    """The order's ship-to address as the shop sent it; None for no such order."""
    row = s.execute(
        select(Order.ship_name, Order.ship_street, Order.ship_postal_code, Order.ship_city,
               Order.ship_country, Order.ship_street2)
        .where(Order.id == order_id)
    ).one_or_none()  # fmt: skip
    if row is None:
        return None
    return Address(row.ship_name, row.ship_street, row.ship_postal_code, row.ship_city,
                   row.ship_country, row.ship_street2 or "")  # fmt: skip


def compose_label(settings: Settings, chosen: Layout, data: LabelData) -> Composed:
    """The label composed, a layout that does not fit this parcel refused in words (never a
    crash at the packing table)."""
    try:
        return compose(chosen, data, fonts(settings))
    except LabelError as exc:
        raise LabelRefused(
            f"Label layout {chosen.name}: {exc}. Nothing was closed: ask a lead "
            "(`picker label check` names what to change)."
        ) from None


def _stamps(directory: Path) -> tuple[float, ...]:
    return tuple(p.stat().st_mtime for p in sorted(directory.glob("*.toml")))


def sender(settings: Settings) -> Address:
    w = settings.warehouse
    return Address(w.name, w.street, w.postal_code, w.city, w.country)


@dataclass(frozen=True)
class ParcelLabel:
    composed: Composed
    content: bytes
    content_type: str

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.composed.warnings


def render(composed: Composed, output: str) -> tuple[bytes, str]:
    """(bytes, content type) of one label as ``pdf``, ``zpl`` or ``png``."""
    if output == "pdf":
        return render_pdf([composed]), CONTENT_TYPES["pdf"]
    if output == "zpl":
        return render_zpl([composed]), CONTENT_TYPES["zpl"]
    if output == "png":
        return render_png(composed), CONTENT_TYPES["png"]
    raise ServiceError(f"labels print as pdf, zpl or png, not {output!r}")


class UndrawableRecipient(LabelRefused):
    """The recipient has characters no label font can draw, and no lead has chosen what to
    print instead (``picker order label-text``)."""


def drawable(settings: Settings, recipient: Address, choice: LabelText | None) -> Address:
    """The recipient as the label prints it: as written when every character can be drawn;
    else as a lead chose for the order (transliterated, or with blanks to write in by hand);
    else refused in words naming the characters — a label must not go out with empty boxes
    where a name should be."""
    chain = fonts(settings)
    missing = undrawable(recipient, chain)
    if not missing:
        return recipient
    if choice is not None:
        return redrawn(recipient, chain, choice)
    where = ", ".join(
        f"{glyph_names(chars)} in {RECIPIENT_FIELDS[field]}" for field, chars in missing.items()
    )
    raise UndrawableRecipient(f"The label cannot draw {where}: ask a lead")


def parcel_label_data(s: Session, settings: Settings, parcel_id: int) -> tuple[LabelData, str]:
    """What a parcel's label says, and the courier's layout name; inside the caller's
    transaction (the close that allocated its tracking number)."""
    row = s.execute(
        select(
            Parcel.seq, Parcel.label_no, Parcel.tracking_no, Parcel.weight_g, Parcel.closed_at,
            Parcel.order_id,
            Courier.name.label("courier"), Courier.label_layout,
            CourierService.name.label("service"),
            Order.number, Order.ship_name, Order.ship_street, Order.ship_street2,
            Order.ship_postal_code, Order.ship_city, Order.ship_country, Order.cod_amount,
            Order.currency, Order.label_text, Return.number.label("exchange"),
        )
        .join(Order, Order.id == Parcel.order_id)
        .join(Courier, Courier.id == Parcel.courier_id)
        .outerjoin(CourierService, CourierService.id == Order.service_id)
        .outerjoin(Return, Return.id == Order.exchange_for_return_id)
        .where(Parcel.id == parcel_id)
    ).one_or_none()  # fmt: skip
    if row is None:
        raise NotFound(f"parcel {parcel_id} does not exist")
    if not row.tracking_no:
        raise ServiceError(f"parcel {row.number} {row.seq} has no tracking number yet")
    # Parcel n of N counts the order's live parcels (a voided one was replaced); the cash is
    # collected once, on parcel 1.
    live = (
        s.execute(
            select(Parcel.seq)
            .where(Parcel.order_id == row.order_id, Parcel.status != ParcelStatus.VOIDED.value)
            .order_by(Parcel.seq)
        )
        .scalars()
        .all()
    )
    if row.label_no is not None:  # given at close (a replacement takes the voided one's)
        number = row.label_no
    else:
        number = live.index(row.seq) + 1 if row.seq in live else row.seq
    count = max(len(live), number)
    closed = row.closed_at or datetime.now(settings.warehouse.tz)
    recipient = drawable(
        settings,
        Address(row.ship_name, row.ship_street, row.ship_postal_code, row.ship_city,
                row.ship_country, row.ship_street2 or ""),
        LabelText(row.label_text) if row.label_text else None,
    )  # fmt: skip
    data = LabelData(
        sender=sender(settings),
        recipient=recipient,
        courier=row.courier, service=row.service or "", tracking=row.tracking_no,
        parcel_no=number, parcel_count=count, weight_g=row.weight_g,
        order_number=row.number, closed_on=closed.astimezone(settings.warehouse.tz).date(),
        routing=routing_code(row.ship_country, row.ship_postal_code),
        cod_amount=row.cod_amount if number == 1 else None,
        cod_currency=row.currency,
        # A return's replacement goods (never cash on delivery): "EXCHANGE RMA-…" in the COD
        # box, the RMA after the order number, as a return label says RETURN.
        mark=EXCHANGE_MARK if row.exchange else None, reference=row.exchange,
    )  # fmt: skip
    return data, row.label_layout


def parcel_label(
    s: Session, settings: Settings, parcel_id: int, output: str | None = None
) -> ParcelLabel:
    """The parcel's label rendered for the printer (``[labels] output`` unless given)."""
    data, layout_name = parcel_label_data(s, settings, parcel_id)
    composed = compose_label(settings, layout(settings, layout_name), data)
    content, content_type = render(composed, output or settings.labels.output)
    return ParcelLabel(composed, content, content_type)


# --- previews --------------------------------------------------------------------------------

#: A recipient that tests a layout's limits: a long Vietnamese name and address.
SAMPLE_RECIPIENT = Address(
    "Nguyễn Thị Phương Thảo (Công ty TNHH Thương mại Dịch vụ Ánh Dương)",
    "Số 45 Đường Lê Lợi, Phường Bến Nghé, Quận 1",
    "700000",
    "Thành phố Hồ Chí Minh",
    "VN",
    "Tòa nhà Bitexco Financial, tầng 12, phòng 1203",
)


@dataclass(frozen=True)
class CourierInfo:
    code: str
    name: str
    service: str
    layout: str
    tracking: str
    """A number of the courier's own scheme (not allocated: a preview uses none)."""


def courier_info(db: Database, code: str) -> CourierInfo:
    """A courier's name, first service, layout and an example tracking number."""
    with db.read() as s:
        c = s.scalars(select(Courier).where(Courier.code == code.strip().upper())).one_or_none()
        if c is None:
            known = ", ".join(s.scalars(select(Courier.code).order_by(Courier.code)))
            raise NotFound(f"no courier {code} (there are: {known or 'none'})")
        service = s.scalar(
            select(CourierService.name)
            .where(CourierService.courier_id == c.id)
            .order_by(CourierService.id)
        )
        return CourierInfo(c.code, c.name, service or "", c.label_layout, _example_tracking(c))


def _example_tracking(c: Courier) -> str:
    scheme = scheme_of(c)
    return scheme.number(min(12_345_677, scheme.capacity - 1))


def widest_tracking(scheme: Scheme) -> str:
    """The scheme's number with the widest Code128 barcode — the longest of those. Not simply
    its last: Code128 writes digits in pairs, so a number one digit shorter (an odd count) can
    be wider."""
    return max(scheme.last_of_each_length(), key=lambda n: (len(modules("code128", n)), len(n)))


def couriers_widest(db: Database) -> list[CourierInfo]:
    """Every active courier, by code, with its widest tracking number (:func:`widest_tracking`)
    as the one to draw: what its layout must hold for every parcel to come, not only the
    first. A courier whose scheme is not usable is left out: it gives no number at all, and
    its closes are refused naming what to correct."""
    found = []
    with db.read() as s:
        for c in s.scalars(select(Courier).where(Courier.active).order_by(Courier.code)):
            try:
                widest = widest_tracking(scheme_of(c))
            except TrackingError:
                continue
            service = s.scalar(
                select(CourierService.name)
                .where(CourierService.courier_id == c.id)
                .order_by(CourierService.id)
            )
            found.append(CourierInfo(c.code, c.name, service or "", c.label_layout, widest))
    return found


def sample_data(settings: Settings, courier: CourierInfo | None = None) -> LabelData:
    """A realistic parcel — parcel 1 of 2, cash on delivery, the long Vietnamese recipient."""
    return LabelData(
        sender=sender(settings),
        recipient=SAMPLE_RECIPIENT,
        courier=courier.name if courier else "National Post",
        service=courier.service if courier else "Priority parcel",
        tracking=courier.tracking if courier else s10_number("EE", 12_345_678, "PL"),
        parcel_no=1,
        parcel_count=2,
        weight_g=1_250,
        order_number="PO-0012345",
        closed_on=date.today(),
        routing=routing_code(SAMPLE_RECIPIENT.country, SAMPLE_RECIPIENT.postal_code),
        cod_amount=Decimal("1250000"),
        cod_currency="VND",
    )


def random_data(settings: Settings, rng: random.Random) -> LabelData:
    """Varied labels for a benchmark: each has its own tracking number and recipient."""
    base = sample_data(settings)
    serial = rng.randrange(1, 99_999_999)
    return LabelData(
        sender=base.sender, recipient=base.recipient, courier=base.courier, service=base.service,
        tracking=s10_number("EE", serial, "PL"), parcel_no=1, parcel_count=rng.choice((1, 2)),
        weight_g=rng.randrange(100, 30_000), order_number=f"PO-{serial:07d}",
        closed_on=base.closed_on, routing=base.routing,
        cod_amount=Decimal(rng.randrange(10, 5000)) if rng.random() < 0.2 else None,
        cod_currency="PLN",
    )  # fmt: skip


@dataclass(frozen=True)
class Preview:
    path: Path
    layout: str
    tracking: str
    warnings: tuple[str, ...]


def preview(
    settings: Settings,
    out: Path,
    *,
    db: Database | None = None,
    layout_name: str | None = None,
    courier: str | None = None,
    parcel: str | None = None,
) -> Preview:
    """Write a label to ``out`` as PDF, PNG or ZPL (by its extension): a real parcel's
    (``parcel``: tracking number or id) or a sample (of ``courier``'s, if given)."""
    output = out.suffix.lower().lstrip(".")
    if output not in CONTENT_TYPES:
        raise ServiceError(f"{out}: give a file ending in .pdf, .png or .zpl")
    courier_layout: str | None = None
    if parcel is not None:
        if db is None:
            raise ServiceError("a parcel's label needs the database")
        with db.read() as s:
            parcel_id = find_parcel(s, parcel).id
            data, courier_layout = parcel_label_data(s, settings, parcel_id)
    else:
        info = courier_info(db, courier) if courier and db is not None else None
        data = sample_data(settings, info)
        courier_layout = info.layout if info else None
    chosen = layout(settings, layout_name or courier_layout)
    composed = compose_label(settings, chosen, data)
    content, _ = render(composed, output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(content)
    return Preview(out, chosen.name, data.tracking, composed.warnings)


#: A file given to check that a close would never read: layouts are ``[labels] dir/NAME.toml``.
NOT_A_LAYOUT_FILE = "not a layout file: a layout is a NAME.toml file, and a close reads no other"


@dataclass(frozen=True)
class LayoutCheck:
    path: Path
    #: What is wrong, one line each (the key, then the problem); empty when the layout is good.
    problems: tuple[str, ...]
    #: What the sample label shows that is not wrong but worth a look (text cut short).
    warnings: tuple[str, ...] = ()


def check_layouts(
    settings: Settings, files: Sequence[Path] = (), couriers: Sequence[CourierInfo] = ()
) -> list[LayoutCheck]:
    """Every layout file given (else every one in ``[labels] dir``) read as a close would read
    it — that very file, and a layout it extends from its own folder, never the configured
    layout of its name — then drawn with the sample parcel, and once more for each of
    ``couriers`` whose layout it is (by its name) with that courier's tracking number (the
    widest, :func:`couriers_widest`): what is wrong with each, in words."""
    paths = list(files) or sorted(settings.labels.dir.glob("*.toml"))
    checks = []
    for path in paths:
        if path.suffix != ".toml":  # else the NAME.toml next to it would be read in its place
            checks.append(LayoutCheck(path, (NOT_A_LAYOUT_FILE,)))
            continue
        try:
            chosen = load_layout(path.parent, path.stem)
        except LayoutError as exc:
            checks.append(LayoutCheck(path, exc.problems))
            continue
        samples = [("with the sample parcel", sample_data(settings))] + [
            (f"with courier {c.code}'s widest tracking number", sample_data(settings, c))
            for c in couriers
            if c.layout == chosen.name
        ]
        problems: list[str] = []
        warnings: list[str] = []
        for words, data in samples:
            try:
                warnings += compose(chosen, data, fonts(settings)).warnings
            except LabelError as exc:
                problems.append(f"{words}: {exc}")
        checks.append(LayoutCheck(path, tuple(problems), tuple(dict.fromkeys(warnings))))
    return checks


# --- a lead's choice for a recipient the fonts cannot draw -------------------------------------


@dataclass(frozen=True)
class LabelTextChosen:
    number: str
    choice: LabelText
    #: Each field that differs from what the shop sent: (how a person names it, as printed).
    printed: tuple[tuple[str, str], ...]


#: Orders whose labels are all printed: a choice would change nothing.
_DONE = ORDER_FINISHED


def choose_label_text(
    db: Database,
    actor: Actor,
    settings: Settings,
    number: str,
    choice: LabelText,
    *,
    clock: Clock = system_clock,
) -> LabelTextChosen:
    """A lead decides what the order's labels print for recipient characters no label font
    can draw: ``transliterate`` (anyascii) or ``hand_write`` (blanks to write in). Kept on the
    order and journaled as an event; the next close prints so. Refused in words, nothing
    changed, for an unknown order or one whose parcels have all left."""
    allow(actor, "printjobs.labels.choose_label_text")
    choice = LabelText(choice)

    def work(s: Session) -> LabelTextChosen:
        order = s.scalars(
            select(Order).where(Order.number == number.strip()).with_for_update()
        ).one_or_none()
        if order is None:
            raise NotFound(f"There is no order {number.strip()}.")
        status = OrderStatus(order.status)
        if status in _DONE:
            raise ServiceError(f"{order.number} is {status.value}: its labels are printed")
        recipient = Address(
            order.ship_name, order.ship_street, order.ship_postal_code, order.ship_city,
            order.ship_country, order.ship_street2 or "",
        )  # fmt: skip
        chain = fonts(settings)
        shown = redrawn(recipient, chain, choice)
        printed = tuple(
            (RECIPIENT_FIELDS[field], getattr(shown, field))
            for field in undrawable(recipient, chain)
        )
        now = clock()
        order.label_text = choice.value
        order.updated_at = now
        what = "; ".join(f"{words} prints as {text!r}" for words, text in printed)
        record_event(
            s, order_id=order.id, status=status, actor=actor, at=now,
            reason=f"label text: {choice.words}" + (f" ({what})" if what else ""),
        )  # fmt: skip
        return LabelTextChosen(order.number, choice, printed)

    return db.run(work)
