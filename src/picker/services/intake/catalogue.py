"""The catalogue, the bins and the stock count: product, bin and stock CSV imports, and one
stock correction.

Every import reads the whole file first, so a file that is not UTF-8 CSV with the needed columns
is refused before anything is written. Then each row is its own transaction: a bad row is
reported (file, CSV line, column, reason) and skipped, and the rest import.

Stock is counted, not adjusted: a row gives the absolute on_hand of a product in a bin, and the
difference is written to the stock ledger (``StockMovement``) in the same transaction, so on_hand
always equals the sum of the bin's movements for that product.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from picker.channels.files import FileRefused, read_rows
from picker.domain.ean import GTIN_LENGTHS, gtin_spellings, is_valid_gtin
from picker.domain.pickpath import BadBinCode, BinAddress, parse_bin_code, pick_sequence
from picker.services.actors import Actor, Clock, allow, system_clock
from picker.services.counts.lock import hold_bin, lock_of, locked_words
from picker.services.errors import Conflict, ServiceError, describe_failure
from picker.services.intake.reports import ImportProblem, ImportReport
from picker.store.engine import Database
from picker.store.models import (
    BIN_ROLES,
    Bin,
    Product,
    ProductBarcode,
    ProductPack,
    Stock,
    StockMovement,
    Zone,
)

PRODUCT_COLUMNS = ("sku", "name", "barcodes", "weight_g", "fragile")
#: Optional: ``ships`` false for goods that never travel in a parcel (gift cards, downloads,
#: services). Empty or absent: a new product ships, an existing one keeps what it was.
#: Optional: ``pack_sizes``, a product's cases: ``12:10012345678902;48:20012345678909`` (units,
#: a colon, the case's GTIN-14 or other barcode; ``;`` or ``|`` between cases). Empty or absent:
#: the product's cases are left as they are; given, they become exactly the row's.
PRODUCT_OPTIONAL = ("ships", "pack_sizes")
STOCK_COLUMNS = ("sku", "bin", "on_hand")
BIN_COLUMNS = ("code", "zone")
#: Optional: ``role``, pick (a pick face), reserve or quarantine (returned goods, never sold).
#: Empty or absent: a new bin is a pick face, an existing one keeps what it was (so a file
#: without roles never undoes a reserve bin).
BIN_OPTIONAL = ("role",)
#: The role of a bin nobody said otherwise of: picked from.
PICK_ROLE = "pick"
QUARANTINE_ROLE = "quarantine"
#: The receiving dock: goods waiting for put-away, never reserved nor picked; its stock
#: changes only by receipts and put-away (never by a count).
RECEIVING_ROLE = "receiving"
#: Roles whose stock is never reserved nor picked: a bin enters or leaves them only as
#: :func:`_refuse_quarantine_change` allows.
NOT_FOR_SALE = (QUARANTINE_ROLE, RECEIVING_ROLE)
#: How often (in rows) an import calls its ``progress(done, total)``.
PROGRESS_EVERY = 1000
#: Above these a number is a typing slip, not a weight or a count (and would overflow INTEGER).
MAX_WEIGHT_G = 1_000_000
MAX_ON_HAND = 1_000_000
#: The ledger's reason for a change made by counting.
COUNT_REASON = "count"

Progress = Callable[[int, int], None]
T = TypeVar("T")

_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0", ""})
_DIGITS = re.compile(r"[0-9]+")


# --- what a caller gets back -----------------------------------------------------------------


class RowRefused(ServiceError):
    """One row (or one ``stock set``) refused; ``column`` names the value at fault."""

    column = ""

    def __init__(self, message: str, column: str | None = None) -> None:
        super().__init__(message)
        if column is not None:
            self.column = column


class BadValue(RowRefused):
    """A value that is missing or not of its column's form."""


class BadBarcode(RowRefused):
    column = "barcodes"


class BarcodeClash(RowRefused):
    column = "barcodes"


class BadPack(RowRefused):
    column = "pack_sizes"


class UnknownSku(RowRefused):
    column = "sku"


class BadBin(RowRefused):
    column = "bin"


class BelowReserved(RowRefused):
    column = "on_hand"


class BinCounted(RowRefused):
    """The bin is being counted: its count sets the stock when it closes."""

    column = "bin"


class UnknownZone(RowRefused):
    column = "zone"


@dataclass(frozen=True)
class StockChange:
    """One bin's count: on_hand ``before`` and ``after`` (equal when nothing changed)."""

    sku: str
    bin: str
    before: int
    after: int
    bin_created: bool = False


@dataclass
class StockReport(ImportReport):
    """Counts (changed, unchanged, failed) and problems, plus what a caller acts on next."""

    #: Products whose available stock went up: orders held short of them may now be retried.
    increased: set[int] = field(default_factory=set)
    #: Bin codes seen for the first time and created, in file order.
    bins_created: list[str] = field(default_factory=list)


# --- products --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ProductRow:
    sku: str
    name: str
    barcodes: tuple[str, ...]
    weight_g: int
    fragile: bool
    ships: bool | None = None  # None: the file does not say (a new product ships)
    #: (units, barcode) per case; None: the file does not say (cases left as they are).
    packs: tuple[tuple[int, str], ...] | None = None


def import_products(
    db: Database,
    actor: Actor,
    data: bytes,
    *,
    file_name: str,
    progress: Progress | None = None,
) -> ImportReport:
    """Create or update products by SKU from a CSV file (sku, name, barcodes, weight_g, fragile,
    and optionally ships).

    Counts: ``created``, ``updated`` (anything differed, the barcode set included), ``unchanged``
    and ``failed`` (rows skipped; each has a problem). On update a product's barcodes become
    exactly the row's. Raises :class:`FileRefused` (nothing written) for a file that cannot be
    read as a whole.
    """
    allow(actor, "intake.catalogue.import_products")
    rows = _read_csv(data, file_name, PRODUCT_COLUMNS, PRODUCT_OPTIONAL)
    report = ImportReport()
    for done, row in enumerate(rows, start=1):
        _import_row(db, file_name, row, report, _parse_product, _save_product)
        _tick(progress, done, len(rows))
    return report


def _import_row(
    db: Database,
    file_name: str,
    row: _CsvRow,
    report: ImportReport,
    parse: Callable[[dict[str, str]], T | list[RowRefused]],
    save: Callable[[Session, T], str],
) -> None:
    """One CSV row of a catalogue file: every problem with its values reported, else saved in
    a transaction of its own and counted by what ``save`` says it did."""
    if row.error is not None:
        report.fail(ImportProblem(file_name, row.line, "", row.error))
        return
    parsed = parse(row.cells)
    if isinstance(parsed, list):
        report.problems.extend(ImportProblem(file_name, row.line, e.column, str(e)) for e in parsed)
        report.add("failed")
        return
    try:
        outcome = _in_transaction(db, lambda s: save(s, parsed))
    except ServiceError as exc:
        report.fail(_problem(file_name, row.line, exc))
        return
    report.add(outcome)


def _parse_product(cells: dict[str, str]) -> _ProductRow | list[RowRefused]:
    """The row's values, or every problem with them (so one pass over the file fixes them all)."""
    errors: list[RowRefused] = []

    def check(read: Callable[[], T]) -> T | None:
        try:
            return read()
        except RowRefused as exc:
            errors.append(exc)
            return None

    sku = check(lambda: _sku(cells["sku"]))
    name = check(lambda: _text(cells["name"], "name", 200))
    barcodes = check(lambda: _barcodes(cells["barcodes"]))
    weight = check(lambda: _whole_number(cells["weight_g"], "weight_g", MAX_WEIGHT_G, "grams"))
    fragile = check(lambda: _flag(cells["fragile"], "fragile"))
    ships = check(lambda: _flag(cells["ships"], "ships") if cells["ships"].strip() else None)
    packs = check(lambda: _packs(cells["pack_sizes"]) if cells["pack_sizes"].strip() else None)
    if barcodes and packs:
        units = {b.zfill(14) if b.isdigit() else b for b in barcodes}
        same = [code for _, code in packs if code in units]
        if same:
            errors.append(BadPack(f"{', '.join(same)} is this product's unit barcode, not a case"))
    if errors:
        return errors
    assert sku is not None and name is not None and barcodes is not None
    assert weight is not None and fragile is not None
    return _ProductRow(sku, name, barcodes, weight, fragile, ships, packs)


def _save_product(s: Session, row: _ProductRow) -> str:
    product = s.scalars(
        select(Product).where(Product.sku == row.sku).with_for_update()
    ).one_or_none()
    _check_no_clash(s, row)
    _check_packs(s, row)
    if product is None:
        product = Product(
            sku=row.sku, name=row.name, weight_g=row.weight_g, fragile=row.fragile,
            ships=row.ships is not False, active=True,
        )  # fmt: skip
        s.add(product)
        s.flush()
        s.add_all(ProductBarcode(product_id=product.id, barcode=b) for b in row.barcodes)
        s.add_all(ProductPack(product_id=product.id, barcode=b, units=n)
                  for n, b in row.packs or ())  # fmt: skip
        s.flush()
        return "created"
    current = set(
        s.scalars(select(ProductBarcode.barcode).where(ProductBarcode.product_id == product.id))
    )
    wanted = set(row.barcodes)
    ships = product.ships if row.ships is None else row.ships  # not said: kept as it was
    same = (product.name, product.weight_g, product.fragile, product.ships) == (
        row.name,
        row.weight_g,
        row.fragile,
        ships,
    )
    packs_changed = _save_packs(s, product.id, row.packs)
    if same and current == wanted:
        return "updated" if packs_changed else "unchanged"
    product.name, product.weight_g, product.fragile = row.name, row.weight_g, row.fragile
    product.ships = ships
    if current - wanted:
        s.execute(
            delete(ProductBarcode).where(
                ProductBarcode.product_id == product.id,
                ProductBarcode.barcode.in_(current - wanted),
            )
        )
    s.add_all(
        ProductBarcode(product_id=product.id, barcode=b) for b in row.barcodes if b not in current
    )
    s.flush()
    return "updated"


def _check_no_clash(s: Session, row: _ProductRow) -> None:
    """Refuse a barcode that another product has, in any of its GTIN spellings."""
    if not row.barcodes:
        return
    spellings = {v for b in row.barcodes for v in gtin_spellings(b)}
    taken = s.execute(
        select(ProductBarcode.barcode, Product.sku)
        .join(Product, ProductBarcode.product_id == Product.id)
        .where(ProductBarcode.barcode.in_(spellings), Product.sku != row.sku)
        .order_by(ProductBarcode.barcode)
    ).all()
    clashes = []
    for code in row.barcodes:
        for stored, owner in taken:
            if stored.zfill(14) == code.zfill(14):
                as_stored = f" (as {stored})" if stored != code else ""
                clashes.append(f"{code} already belongs to {owner}{as_stored}")
    packs = s.execute(
        select(ProductPack.barcode, Product.sku)
        .join(Product, ProductPack.product_id == Product.id)
        .where(ProductPack.barcode.in_(spellings))
        .order_by(ProductPack.barcode)
    ).all()
    for code in row.barcodes:
        for stored, owner in packs:
            if stored.zfill(14) == code.zfill(14):
                clashes.append(f"{code} is a case barcode of {owner}")
    if clashes:
        raise BarcodeClash("; ".join(clashes))


def _check_packs(s: Session, row: _ProductRow) -> None:
    """Refuse a case barcode that is any product's unit barcode or another product's case."""
    if not row.packs:
        return
    spellings = {v for _, b in row.packs for v in gtin_spellings(b)}
    units = s.execute(
        select(ProductBarcode.barcode, Product.sku)
        .join(Product, ProductBarcode.product_id == Product.id)
        .where(ProductBarcode.barcode.in_(spellings))
        .order_by(ProductBarcode.barcode)
    ).all()
    cases = s.execute(
        select(ProductPack.barcode, Product.sku)
        .join(Product, ProductPack.product_id == Product.id)
        .where(ProductPack.barcode.in_(spellings), Product.sku != row.sku)
        .order_by(ProductPack.barcode)
    ).all()
    clashes = []
    for _, code in row.packs:
        for stored, owner in units:
            if stored.zfill(14) == code.zfill(14):
                clashes.append(f"{code} is a unit barcode of {owner}")
        for stored, owner in cases:
            if stored.zfill(14) == code.zfill(14):
                clashes.append(f"{code} already is a case of {owner}")
    if clashes:
        raise BadPack("; ".join(clashes))


def _save_packs(s: Session, product_id: int, packs: tuple[tuple[int, str], ...] | None) -> bool:
    """The product's cases become exactly ``packs`` (None: left as they are); whether any
    changed."""
    if packs is None:
        return False
    current = {
        (n, b)
        for b, n in s.execute(
            select(ProductPack.barcode, ProductPack.units).where(
                ProductPack.product_id == product_id
            )
        )
    }
    wanted = set(packs)
    if current == wanted:
        return False
    s.execute(delete(ProductPack).where(ProductPack.product_id == product_id))
    s.flush()
    s.add_all(ProductPack(product_id=product_id, barcode=b, units=n) for n, b in packs)
    s.flush()
    return True


# --- stock -----------------------------------------------------------------------------------


def import_stock(
    db: Database,
    actor: Actor,
    data: bytes,
    *,
    file_name: str,
    bin_pattern: re.Pattern[str],
    clock: Clock = system_clock,
    progress: Progress | None = None,
) -> StockReport:
    """Set counted stock from a CSV file (sku, bin, on_hand): each row is an absolute on_hand.

    Counts: ``changed`` (on_hand differed; one movement written), ``unchanged`` (already so; no
    movement) and ``failed`` (rows skipped; each has a problem). A bin code matching
    ``bin_pattern`` is created the first time it is seen. Raises :class:`FileRefused` (nothing
    written) for a file that cannot be read as a whole.
    """
    allow(actor, "intake.catalogue.import_stock")
    rows = _read_csv(data, file_name, STOCK_COLUMNS)
    report = StockReport()
    for done, row in enumerate(rows, start=1):
        try:
            if row.error is not None:
                raise RowRefused(row.error)
            on_hand = _whole_number(row.cells["on_hand"], "on_hand", MAX_ON_HAND, "units")
            product_id, change = _count(
                db, actor, row.cells["sku"], row.cells["bin"], on_hand, bin_pattern, clock
            )
        except ServiceError as exc:
            report.fail(_problem(file_name, row.line, exc))
        else:
            report.add("changed" if change.after != change.before else "unchanged")
            if change.after > change.before:
                report.increased.add(product_id)
            if change.bin_created:
                report.bins_created.append(change.bin)
        _tick(progress, done, len(rows))
    return report


def set_stock(
    db: Database,
    actor: Actor,
    sku: str,
    bin_code: str,
    on_hand: int,
    *,
    bin_pattern: re.Pattern[str],
    clock: Clock = system_clock,
) -> StockChange:
    """Set the counted on_hand of ``sku`` in ``bin_code`` (the bin is created if new).

    Raises a :class:`RowRefused` subclass (unknown SKU, bad bin, below reserved, bad number)
    with a message for the user, or :class:`Conflict` if another terminal kept interfering.
    """
    allow(actor, "intake.catalogue.set_stock")
    if isinstance(on_hand, bool) or not 0 <= on_hand <= MAX_ON_HAND:
        raise BadValue(f"on_hand must be a whole number from 0 to {MAX_ON_HAND:,}", "on_hand")
    return _count(db, actor, sku, bin_code, on_hand, bin_pattern, clock)[1]


def _count(
    db: Database,
    actor: Actor,
    sku: str,
    bin_code: str,
    on_hand: int,
    pattern: re.Pattern[str],
    clock: Clock,
) -> tuple[int, StockChange]:
    """One count, shared by the import and ``stock set``: (product id, the change)."""
    sku, bin_code = sku.strip(), bin_code.strip()
    if not sku:
        raise BadValue("the SKU is missing", "sku")
    address = _bin_address(bin_code, pattern)
    return _in_transaction(
        db, lambda s: _write_count(s, actor, sku, bin_code, address, on_hand, clock)
    )


def _write_count(
    s: Session,
    actor: Actor,
    sku: str,
    bin_code: str,
    address: BinAddress,
    on_hand: int,
    clock: Clock,
) -> tuple[int, StockChange]:
    product_id = s.scalar(select(Product.id).where(Product.sku == sku))
    if product_id is None:
        raise UnknownSku(f"unknown SKU {sku}: import the product first")
    bin_id, created = _find_or_create_bin(s, bin_code, address)
    if s.scalar(select(Bin.role).where(Bin.id == bin_id)) == RECEIVING_ROLE:
        raise BadBin(
            f"{bin_code} is the receiving dock: its stock changes only by receipts and "
            "put-away (picker inbound receive)"
        )
    # The bin's row first (a count starting meanwhile waits, or is seen): a count compares
    # with on hand when it finishes, so a stock set now would be overwritten by it.
    hold_bin(s, bin_id)
    counting = lock_of(s, bin_id)
    if counting is not None:
        raise BinCounted(
            f"{locked_words(bin_code, counting)}: its count sets the stock when it closes — "
            "set it after that (picker count show " + counting + ")"
        )
    # Locked until commit: a reservation or another count waits for this one, then sees it.
    stock = s.scalars(
        select(Stock)
        .where(Stock.product_id == product_id, Stock.bin_id == bin_id)
        .with_for_update()
    ).one_or_none()
    before = stock.on_hand if stock else 0
    reserved = stock.reserved if stock else 0
    if on_hand < reserved:
        raise BelowReserved(
            f"{reserved} of {sku} in {bin_code} are reserved for orders: "
            f"the count cannot go below that (counted {on_hand})"
        )
    if on_hand != before:
        if stock is None:
            # Another terminal inserting the same (product, bin) row meanwhile makes this
            # flush fail on the unique key; the row is then retried and finds theirs.
            s.add(Stock(product_id=product_id, bin_id=bin_id, on_hand=on_hand, reserved=0))
        else:
            stock.on_hand = on_hand
        s.add(
            StockMovement(
                at=clock(),
                product_id=product_id,
                bin_id=bin_id,
                delta=on_hand - before,
                reason=COUNT_REASON,
                operator_id=actor.operator_id,
                terminal_id=actor.terminal_id,
                source=actor.source,
            )
        )
        s.flush()
    return product_id, StockChange(sku, bin_code, before, on_hand, created)


def _bin_address(code: str, pattern: re.Pattern[str]) -> BinAddress:
    if not code:
        raise BadBin("the bin code is missing")
    if not pattern.fullmatch(code):
        raise BadBin(f"bin code {code!r} does not match the bin pattern {pattern.pattern}")
    if len(code) > 32:
        raise BadBin(f"bin code {code!r} is longer than 32 characters")
    try:
        return parse_bin_code(code)
    except BadBinCode as exc:
        raise BadBin(str(exc)) from None


def _find_or_create_bin(s: Session, code: str, address: BinAddress) -> tuple[int, bool]:
    """The bin's id, and whether it was created now (from the parts of its code)."""
    found = _find_bin(s, code, address)
    if found is not None:
        return found.id, False
    zones = dict(s.execute(select(Zone.code, Zone.active)).all())
    if zones and not zones.get(address.zone):
        declared = ", ".join(sorted(z for z, active in zones.items() if active))
        raise BadBin(
            f"bin {code} would be new, in zone {address.zone}, which is not one of the floor's "
            f"zones ({declared}): declare the zone in the set-up, or correct the code"
        )
    new = _new_bin(code, address)
    s.add(new)
    s.flush()
    return new.id, True


def _find_bin(s: Session, code: str, address: BinAddress, *, lock: bool = False) -> Bin | None:
    """The bin of ``code``, or None; a code naming the place of another bin (``A-1-1-1`` for
    ``A-01-01-1`` under a looser pattern) is refused, so one shelf never has two codes."""
    query = select(Bin).where(
        or_(
            Bin.code == code,
            and_(
                Bin.zone == address.zone,
                Bin.aisle == address.aisle,
                Bin.bay == address.bay,
                Bin.level == address.level,
            ),
        )
    )
    found = s.scalars(query.with_for_update() if lock else query).first()
    if found is not None and found.code != code:
        raise BadBin(f"bin code {code!r} names the same place as bin {found.code}; use that")
    return found


def _new_bin(code: str, address: BinAddress, role: str = PICK_ROLE) -> Bin:
    """A new bin placed by its code: every way a bin comes to be (a count, a bin file) places
    it here, so its walking order is the same whichever came first."""
    return Bin(
        code=code,
        zone=address.zone,
        aisle=address.aisle,
        bay=address.bay,
        level=address.level,
        pick_seq=pick_sequence(address),
        active=True,
        role=role,
    )


# --- bins ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _BinRow:
    code: str
    address: BinAddress
    role: str | None  # None: the file does not say (a new bin is a pick face)


def import_bins(
    db: Database,
    actor: Actor,
    data: bytes,
    *,
    file_name: str,
    bin_pattern: re.Pattern[str],
    progress: Progress | None = None,
) -> ImportReport:
    """Create or update bins from a CSV file (code, zone, and optionally role: pick or reserve),
    so a floor's shelves exist, in walking order, before any stock is counted into them.

    Counts: ``added``, ``changed`` (its zone or role differed, or a retired bin is back),
    ``unchanged`` and ``failed`` (rows skipped; each has a problem). A floor that declares its
    zones (the ``zones`` table has rows) takes bins only in its active zones; a floor that
    declares none takes any zone. Raises :class:`FileRefused` (nothing written) for a file that
    cannot be read as a whole.
    """
    allow(actor, "intake.catalogue.import_bins")
    rows = _read_csv(data, file_name, BIN_COLUMNS, BIN_OPTIONAL)
    with db.read() as s:
        zones = {code: active for code, active in s.execute(select(Zone.code, Zone.active))}
    report = ImportReport()
    for done, row in enumerate(rows, start=1):
        _import_row(
            db, file_name, row, report,
            lambda cells: _parse_bin(cells, bin_pattern, zones), _save_bin,
        )  # fmt: skip
        _tick(progress, done, len(rows))
    return report


def _parse_bin(
    cells: dict[str, str], pattern: re.Pattern[str], zones: dict[str, bool]
) -> _BinRow | list[RowRefused]:
    """The row's values, or every problem with them."""
    errors: list[RowRefused] = []
    code = cells["code"].strip()
    address: BinAddress | None = None
    try:
        address = _bin_address(code, pattern)
    except BadBin as exc:
        errors.append(BadBin(str(exc), "code"))
    zone = cells["zone"].strip().upper()
    if not zone:
        errors.append(UnknownZone("the zone is missing"))
    elif address is not None and address.zone != zone:
        errors.append(
            UnknownZone(
                f"bin {code} is in zone {address.zone} by its code, not {zone}: "
                "correct the code or the zone"
            )
        )
    elif zones and zone not in zones:
        declared = ", ".join(sorted(z for z, active in zones.items() if active))
        errors.append(
            UnknownZone(
                f"zone {zone} is not one of the floor's zones ({declared}): "
                "declare it in the floor's set-up first"
            )
        )
    elif zones and not zones[zone]:
        errors.append(UnknownZone(f"zone {zone} is retired: its bins are no longer used"))
    role = cells["role"].strip().lower() or None
    if role is not None and role not in BIN_ROLES:
        shown = cells["role"].strip()
        known = f"{', '.join(BIN_ROLES[:-1])} or {BIN_ROLES[-1]}"
        errors.append(BadValue(f"{shown!r} is not a bin role ({known})", "role"))
    if errors:
        return errors
    assert address is not None
    return _BinRow(code, address, role)


def _save_bin(s: Session, row: _BinRow) -> str:
    found = _find_bin(s, row.code, row.address, lock=True)
    if found is None:
        s.add(_new_bin(row.code, row.address, row.role or PICK_ROLE))
        s.flush()
        return "added"
    role = found.role if row.role is None else row.role  # not said: kept as it was
    if (found.zone, found.role, found.active) == (row.address.zone, role, True):
        return "unchanged"
    if role != found.role and (role in NOT_FOR_SALE or found.role in NOT_FOR_SALE):
        _refuse_quarantine_change(s, found, role)
    found.zone, found.role, found.active = row.address.zone, role, True
    s.flush()
    return "changed"


def _refuse_quarantine_change(s: Session, found: Bin, role: str) -> None:
    """A bin becomes quarantine (or the receiving dock) only with nothing in it promised to an
    order, and stops being one only when empty: damaged goods, or goods not yet put away, never
    become sellable by a bin file."""
    total = func.coalesce(func.sum(Stock.on_hand), 0)
    promised = func.coalesce(func.sum(Stock.reserved), 0)
    on_hand, reserved = s.execute(select(total, promised).where(Stock.bin_id == found.id)).one()
    if role in NOT_FOR_SALE and reserved:
        raise BadValue(
            f"bin {found.code} has {reserved} unit(s) reserved for orders: it can become "
            f"{role} once they are picked",
            "role",
        )
    if role == RECEIVING_ROLE and on_hand:
        raise BadValue(
            f"bin {found.code} holds {on_hand} unit(s): it can become the receiving dock "
            "once it is empty",
            "role",
        )
    if found.role == QUARANTINE_ROLE and on_hand:
        raise BadValue(
            f"quarantine bin {found.code} holds {on_hand} unit(s): move or write them off "
            f"before it becomes a {role} bin",
            "role",
        )
    if found.role == RECEIVING_ROLE and on_hand:
        raise BadValue(
            f"receiving bin {found.code} holds {on_hand} unit(s) waiting for put-away: put "
            f"them away before it becomes a {role} bin",
            "role",
        )


# --- values ----------------------------------------------------------------------------------


def _sku(raw: str) -> str:
    sku = _text(raw, "sku", 64)
    if not sku.isprintable():
        bad = next(c for c in sku if not c.isprintable())
        raise BadValue(f"the SKU contains a control or invisible character ({bad!a})", "sku")
    return sku


def _text(raw: str, column: str, max_length: int) -> str:
    text = raw.strip()
    if not text:
        raise BadValue(f"the {column} is missing", column)
    if len(text) > max_length:
        raise BadValue(f"longer than {max_length} characters", column)
    return text


def _whole_number(raw: str, column: str, limit: int, unit: str) -> int:
    text = raw.strip()
    if not _DIGITS.fullmatch(text) or int(text) > limit:
        raise BadValue(f"{text!r} is not a whole number of {unit} from 0 to {limit:,}", column)
    return int(text)


def _flag(raw: str, column: str) -> bool:
    text = raw.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise BadValue(f"{raw.strip()!r} is not one of true/false, yes/no, 1/0 (or empty)", column)


def _packs(raw: str) -> tuple[tuple[int, str], ...]:
    """``UNITS:BARCODE`` cases separated by ``;`` or ``|``: a GTIN (check digit right) is kept
    in its 14-digit form; units 2 or more."""
    found: dict[str, int] = {}
    reasons = []
    for part in re.split(r"[;|]", raw):
        part = part.strip()
        if not part:
            continue
        units_text, sep, code = part.partition(":")
        units_text, code = units_text.strip(), code.strip()
        if not sep or not code:
            reasons.append(f"{part!r} is not UNITS:BARCODE (e.g. 12:10012345678902)")
            continue
        if not _DIGITS.fullmatch(units_text) or not 2 <= int(units_text) <= MAX_ON_HAND:
            reasons.append(f"{part}: a case holds 2 units or more")
            continue
        if code.isascii() and code.isdigit():
            if len(code) not in GTIN_LENGTHS:
                reasons.append(f"{code}: not a barcode (8, 12, 13 or 14 digits)")
                continue
            if not is_valid_gtin(code):
                reasons.append(f"{code}: check digit wrong: scan again or check the file")
                continue
            code = code.zfill(14)
        elif len(code) > 64 or not code.isprintable() or " " in code:
            reasons.append(f"{code!r}: a barcode is printable text without spaces")
            continue
        if code in found:
            reasons.append(f"{code} is named twice")
            continue
        found[code] = int(units_text)
    if reasons:
        raise BadPack("; ".join(reasons))
    return tuple((n, code) for code, n in found.items())


def _barcodes(raw: str) -> tuple[str, ...]:
    """The ``|``-separated barcodes, each a GTIN with a right check digit, duplicates dropped."""
    codes = tuple(dict.fromkeys(c.strip() for c in raw.split("|") if c.strip()))
    reasons = []
    seen: dict[str, str] = {}
    for code in codes:
        if not code.isascii() or not code.isdigit() or len(code) not in GTIN_LENGTHS:
            reasons.append(f"{code}: not a barcode (8, 12, 13 or 14 digits)")
        elif not is_valid_gtin(code):
            reasons.append(f"{code}: check digit wrong: scan again or check the file")
        elif code.zfill(14) in seen:
            reasons.append(f"{code} and {seen[code.zfill(14)]} are the same barcode")
        else:
            seen[code.zfill(14)] = code
    if reasons:
        raise BadBarcode("; ".join(reasons))
    return codes


# --- files, rows, transactions ---------------------------------------------------------------


@dataclass(frozen=True)
class _CsvRow:
    line: int  # where the record starts in the file, 1-based
    cells: dict[str, str]
    error: str | None = None  # the record as a whole cannot be read


def _read_csv(
    data: bytes, file_name: str, columns: tuple[str, ...], optional: tuple[str, ...] = ()
) -> list[_CsvRow]:
    """The data rows of a whole CSV file, or :class:`FileRefused` with one line saying why.
    An ``optional`` column the file lacks reads as empty in every row."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FileRefused(
            f"{file_name} is not UTF-8 text (line {line}): save it as CSV UTF-8 and import again"
        ) from None
    try:
        records = read_rows(text)
    except FileRefused as exc:
        raise FileRefused(f"{file_name}: {exc}") from None
    if not records:
        raise FileRefused(f"{file_name} is empty: the first line must name the columns")
    header = [h.strip().lower() for h in records[0][1]]
    missing = [c for c in columns if c not in header]
    if missing:
        raise FileRefused(
            f"{file_name} has no column {', '.join(missing)}: "
            f"the first line must name the columns {', '.join(columns)}"
        )
    twice = sorted({c for c in (*columns, *optional) if header.count(c) > 1})
    if twice:
        raise FileRefused(f"{file_name} names the column {', '.join(twice)} more than once")
    where = {c: header.index(c) for c in (*columns, *optional) if c in header}
    absent = {c: "" for c in optional if c not in header}
    rows = []
    for line, cells in records[1:]:
        if len(cells) != len(header):
            error = (
                f"the row has {len(cells)} fields and the header {len(header)} "
                "(a value with the separator in it must be in double quotes)"
            )
            rows.append(_CsvRow(line, {}, error))
        else:
            rows.append(_CsvRow(line, {**absent, **{c: cells[i] for c, i in where.items()}}))
    return rows


def _in_transaction(db: Database, work: Callable[[Session], T]) -> T:
    """Run ``work`` in its own transaction, once more if a unique key lost a race.

    A row inserted meanwhile by another terminal (the same new product, bin or stock row) is
    there on the second run, so the row then updates it instead of inserting a second one. A
    value the database cannot hold refuses this row only, not the rest of an import.
    """
    try:
        try:
            with db.transaction() as s:
                return work(s)
        except IntegrityError:
            pass
        try:
            with db.transaction() as s:
                return work(s)
        except IntegrityError:
            raise Conflict(
                "another terminal changed the same product or bin at the same moment: try again"
            ) from None
    except DataError as exc:
        raise RowRefused(describe_failure(exc) or str(exc)) from None


def _problem(file_name: str, line: int, exc: ServiceError) -> ImportProblem:
    return ImportProblem(file_name, line, getattr(exc, "column", ""), str(exc))


def _tick(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
        progress(done, total)
