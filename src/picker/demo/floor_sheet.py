"""The floor sheet of the floor in the database, to try Picker with a real scanner.

Badges, commands, bins, products, totes, packaging and the couriers' lanes of the floor in
the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from reportlab.lib.units import mm
from sqlalchemy import select

from picker.demo.floor_data import DemoOperator
from picker.demo.private_files import write_private
from picker.domain.commands import COMMANDS
from picker.printing.floor_sheet import SheetCode, SheetSection, render_floor_sheet
from picker.store.engine import Database
from picker.store.models import Bin, Courier, PackagingType, Product, ProductBarcode, Tote


def floor_sheet_sections(db: Database, operators: Sequence[DemoOperator]) -> list[SheetSection]:
    with db.read() as s:
        bins = s.scalars(select(Bin).order_by(Bin.pick_seq).limit(12)).all()
        # Every barcode of every product: a scanner can try any item of the floor.
        products = s.execute(
            select(Product.sku, Product.name, ProductBarcode.barcode)
            .join(ProductBarcode, ProductBarcode.product_id == Product.id)
            .where(Product.active.is_(True))
            .order_by(Product.sku, ProductBarcode.id)
        ).all()
        totes = s.scalars(
            select(Tote.code).where(Tote.order_id.is_(None)).order_by(Tote.id).limit(6)
        ).all()
        packaging = s.scalars(select(PackagingType).order_by(PackagingType.id)).all()
        couriers = s.execute(
            select(Courier.name, Courier.lane)
            .where(Courier.active.is_(True))
            .order_by(Courier.lane)
        ).all()
        return [
            SheetSection(
                "Badges (demo PINs shown)",
                [
                    SheetCode(f"{o.name} — {o.roles}", o.badge, note=f"PIN {o.pin}")
                    for o in operators
                ],
            ),
            SheetSection("Commands", [SheetCode(text, code) for code, text in COMMANDS.items()]),
            SheetSection(
                "Bins (walking order)", [SheetCode(f"Bin zone {b.zone}", b.code) for b in bins]
            ),
            SheetSection(
                "Products",
                [
                    SheetCode(f"{name} ({sku})", code, symbology=_symbology(code))
                    for sku, name, code in products
                ],
                columns=3,
                cell_h=30 * mm,
            ),
            SheetSection("Totes", [SheetCode("Tote", code) for code in totes]),
            SheetSection("Packaging", [SheetCode(p.name, p.barcode) for p in packaging]),
            SheetSection(
                "Courier lanes (handoff: scan to open a pickup)",
                [SheetCode(f"{name} — lane", lane) for name, lane in couriers],
            ),
        ]


#: A product barcode's symbology by its length (GTIN-14 and internal codes as Code 128).
_SYMBOLOGY = {8: "ean8", 12: "upca", 13: "ean13"}


def _symbology(code: str) -> str:
    return _SYMBOLOGY.get(len(code), "code128") if code.isdigit() else "code128"


def write_floor_sheet(db: Database, path: Path, operators: Sequence[DemoOperator]) -> Path:
    pdf = render_floor_sheet("Picker floor sheet", floor_sheet_sections(db, operators))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_private(path, pdf)  # it shows every badge's PIN
    return path
