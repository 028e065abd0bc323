"""Labels for a real floor, from the database: shelves (bins), totes, handoff lanes, packaging
and badges, written as one PDF of label sheets (:mod:`picker.printing.label_sheets`).

Only what is in use is labelled (active rows): a retired bin or tote gets no new label. Badges
carry the badge code and the name, never anything of the PIN.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from picker.domain.pickpath import BadBinCode, BinAddress, parse_bin_code
from picker.printing.code_cells import SheetCode
from picker.printing.label_sheets import SHEETS, UnprintableCode, render_label_sheets
from picker.services.errors import NotFound, ServiceError
from picker.services.files import write_whole
from picker.store.engine import Database
from picker.store.models import Bin, Courier, Operator, PackagingType, Tote

#: What can be labelled, with the words a sheet's title and an empty selection use.
KINDS: dict[str, str] = {
    "bins": "bins",
    "totes": "totes",
    "lanes": "courier lanes",
    "packaging": "packaging",
    "badges": "badges",
}


@dataclass(frozen=True)
class LabelsWritten:
    kind: str
    count: int
    path: Path
    pages: int


def floor_labels(
    db: Database, kind: str, *, first: str | None = None, last: str | None = None
) -> list[SheetCode]:
    """The labels of ``kind`` (a key of :data:`KINDS`), from ``first`` to ``last`` inclusive.

    Bins come in walking order and their range is by place (zone, aisle, bay, level: both ends
    must be bin codes); the others come sorted by code and their range is by the code's text.
    Raises :class:`NotFound`, in words, when nothing is selected.
    """
    if kind not in KINDS:
        raise ServiceError(f"{kind!r} is not something with labels ({', '.join(KINDS)})")
    with db.read() as s:
        if kind == "bins":
            labels = _bins(s, _place(first), _place(last))
        else:
            labels = [
                label
                for label in _QUERIES[kind](s)
                if (first is None or label.code >= first) and (last is None or label.code <= last)
            ]
    if not labels:
        raise NotFound(f"no {_selection(kind, first, last)}")
    return labels


def write_floor_labels(
    db: Database,
    kind: str,
    path: Path,
    *,
    sheet: str = "a4",
    first: str | None = None,
    last: str | None = None,
) -> LabelsWritten:
    """Write the labels of ``kind`` as a PDF at ``path``, whole or not at all: a file already
    there is replaced only by a complete one, and an empty selection writes nothing."""
    if sheet not in SHEETS:
        raise ServiceError(f"{sheet!r} is not a label sheet ({', '.join(SHEETS)})")
    layout = SHEETS[sheet]
    labels = floor_labels(db, kind, first=first, last=last)
    title = f"Picker labels: {_selection(kind, first, last)}"
    try:
        pdf = render_label_sheets(title, labels, layout)
    except UnprintableCode as exc:
        raise ServiceError(f"{KINDS[kind]}: {exc}") from None
    write_whole(path, pdf)
    pages = -(-len(labels) // layout.per_page)
    return LabelsWritten(kind, len(labels), path, pages)


def _selection(kind: str, first: str | None, last: str | None) -> str:
    """``bins from A-01-01-1 to A-02-06-3``: what was asked for, in words."""
    words = KINDS[kind]
    if first is not None:
        words += f" from {first}"
    if last is not None:
        words += f" to {last}" if first is not None else f" up to {last}"
    return words


def _place(code: str | None) -> BinAddress | None:
    if code is None:
        return None
    try:
        return parse_bin_code(code.strip())
    except BadBinCode as exc:
        raise ServiceError(str(exc)) from None


def _bins(s: Session, first: BinAddress | None, last: BinAddress | None) -> list[SheetCode]:
    place = tuple_(Bin.zone, Bin.aisle, Bin.bay, Bin.level)
    query = select(Bin.code, Bin.zone, Bin.aisle, Bin.bay, Bin.level, Bin.role).where(
        Bin.active.is_(True)
    )
    if first is not None:
        query = query.where(place >= tuple_(first.zone, first.aisle, first.bay, first.level))
    if last is not None:
        query = query.where(place <= tuple_(last.zone, last.aisle, last.bay, last.level))
    return [
        SheetCode(
            f"Zone {zone} · aisle {aisle} · bay {bay} · level {level}"
            + (" · reserve" if role == "reserve" else ""),
            code,
        )
        for code, zone, aisle, bay, level, role in s.execute(query.order_by(Bin.pick_seq, Bin.code))
    ]


def _totes(s: Session) -> list[SheetCode]:
    codes = s.scalars(select(Tote.code).where(Tote.active.is_(True)).order_by(Tote.code))
    return [SheetCode("Tote", code) for code in codes]


def _lanes(s: Session) -> list[SheetCode]:
    rows = s.execute(
        select(Courier.lane, Courier.name).where(Courier.active.is_(True)).order_by(Courier.lane)
    )
    return [SheetCode(f"{name} — handoff lane", lane) for lane, name in rows]


def _packaging(s: Session) -> list[SheetCode]:
    rows = s.execute(
        select(PackagingType.barcode, PackagingType.name)
        .where(PackagingType.active.is_(True))
        .order_by(PackagingType.barcode)
    )
    return [SheetCode(name, code) for code, name in rows]


def _badges(s: Session) -> list[SheetCode]:
    # The badge and the name only: a badge's label must never let someone log in as its owner.
    rows = s.execute(
        select(Operator.badge, Operator.name)
        .where(Operator.active.is_(True))
        .order_by(Operator.badge)
    )
    return [SheetCode(name, badge) for badge, name in rows]


_QUERIES: dict[str, Callable[[Session], list[SheetCode]]] = {
    "totes": _totes,
    "lanes": _lanes,
    "packaging": _packaging,
    "badges": _badges,
}
