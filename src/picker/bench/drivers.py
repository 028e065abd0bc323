"""Benchmarks that drive the real code paths on a scratch database (``picker bench …``)."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text

from picker.config import Settings
from picker.demo.builder import build_demo
from picker.services.actors import Actor, OperatorInfo
from picker.services.errors import ServiceError
from picker.services.intake.order_import import import_orders, read_export
from picker.services.intake.reports import ImportReport
from picker.store.engine import Database
from picker.store.models import Operator, Order, Product, Tote

Progress = Callable[[str, int, int], None]

_SHIPPING = [("post_standard", "Standard"), ("swift_express", "Express"), ("city_nextday", "Next")]
_PLACES = [
    ("PL", "PLN", "Zofia Wójcik", "ul. Długa 5", "00-238", "Warszawa"),
    ("VN", "VND", "Trần Văn Bình", "45 Lê Lợi", "700000", "Hồ Chí Minh"),
    ("JP", "JPY", "佐藤 花子", "千代田1-1", "100-0001", "東京"),
    ("CZ", "CZK", "Jiří Dvořák", "Národní 12", "110 00", "Praha"),
    ("DE", "EUR", "Jürgen Groß", "Hauptstraße 3", "10115", "Berlin"),
]


def shopify_export(skus: list[str], n: int, seed: int = 1, first: int = 0) -> bytes:
    """``n`` orders as Shopify Admin REST order objects, one JSON object per line; shop ids and
    names count from ``first`` (a second file of new orders starts where the last ended)."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    out = []
    for i in range(first, first + n):
        country, currency, name, street, postcode, city = rng.choice(_PLACES)
        code, title = rng.choice(_SHIPPING)
        cod = rng.random() < 0.15
        gateway = "Cash on Delivery (COD)" if cod else "shopify_payments"
        items = [
            {"sku": sku, "quantity": rng.choice((1, 1, 1, 2, 3)), "price": "19.90", "name": sku}
            for sku in rng.sample(skus, rng.choice((1, 1, 2, 3)))
        ]
        given, _, family = name.partition(" ")
        out.append(
            json.dumps(
                {
                    "id": 5_000_000_000 + i,
                    "name": f"#{100000 + i}",
                    "email": f"customer{i}@example.com",
                    "created_at": (start + timedelta(seconds=i * 7)).isoformat(),
                    "currency": currency,
                    "financial_status": "pending" if cod else "paid",
                    "payment_gateway_names": [gateway],
                    "total_price": "59.70",
                    "shipping_address": {
                        "first_name": given,
                        "last_name": family,
                        "name": name,
                        "address1": street,
                        "zip": postcode,
                        "city": city,
                        "country_code": country,
                        "phone": "+48 600 100 200",
                    },
                    "shipping_lines": [{"code": code, "title": title}],
                    "line_items": items,
                    "note": None,
                },
                ensure_ascii=False,
            )
        )
    return ("\n".join(out) + "\n").encode()


@dataclass(frozen=True)
class ImportBench:
    orders: int
    seconds: float
    file_bytes: int
    report: ImportReport

    @property
    def per_second(self) -> float:
        return self.orders / self.seconds if self.seconds else 0.0


def stock_up(db: Database, units: int) -> list[str]:
    """Add ``units`` to every stock row (a receipt in the ledger), so that every order a
    benchmark imports is reserved: the full path, not the short cut of "short". Returns the
    catalogue's SKUs."""
    with db.transaction() as s:
        s.execute(text("UPDATE stock SET on_hand = on_hand + :n"), {"n": units})
        s.execute(
            text(
                "INSERT INTO stock_movements (at, product_id, bin_id, delta, reason) "
                "SELECT :at, product_id, bin_id, :n, 'receipt' FROM stock"
            ),
            {"at": datetime.now(UTC).replace(tzinfo=None), "n": units},
        )
        return list(s.scalars(select(Product.sku).order_by(Product.id)))


def settle(db: Database) -> None:
    """After a bulk change, let the database reach the steady state a floor runs in before a
    benchmark times anything: SQLite's WAL copied back into the file, PostgreSQL's dead rows
    vacuumed and its statistics fresh (else a checkpoint or autovacuum lands mid-measurement)."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if db.dialect == "sqlite":
            driver = conn.connection.dbapi_connection
            assert driver is not None
            driver.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        else:
            conn.exec_driver_sql("VACUUM ANALYZE")


def import_fresh(
    db: Database, settings: Settings, data: bytes, progress: Callable[[int, int], None]
) -> ImportReport:
    """A Shopify export (see :func:`shopify_export`) imported as the shop's new orders."""
    parsed = read_export(data, settings=settings, file_name="orders.jsonl", format="shopify")
    return import_orders(
        db,
        Actor(terminal_id=settings.terminal.id),
        parsed,
        settings=settings,
        file_name="orders.jsonl",
        progress=progress,
    )


def bench_import(
    db: Database, settings: Settings, orders: int, work_dir: Path, progress: Progress
) -> ImportBench:
    """A fresh demo floor with plenty of stock, a Shopify file of ``orders``, imported."""
    build_demo(db, orders=0, seed=1, reset=True)
    data = shopify_export(stock_up(db, 1_000_000), orders)
    work_dir.mkdir(parents=True, exist_ok=True)
    (work_dir / "orders.jsonl").write_bytes(data)
    started = time.perf_counter()
    report = import_fresh(db, settings, data, lambda done, total: progress("import", done, total))
    return ImportBench(orders, time.perf_counter() - started, len(data), report)


# --- labels ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelBench:
    labels: int
    pdf_per_s: float
    """One label per PDF, composed and rendered: what closing a parcel costs."""
    pdf_batch_per_s: float
    """Many labels in one PDF (a reprint run, an end-of-day batch)."""
    zpl_per_s: float
    png_ms: float
    """One 203-dpi PNG preview."""
    weasyprint_per_s: float | None
    """The same label as HTML through WeasyPrint; None when WeasyPrint is not installed."""


def bench_labels(
    settings: Settings, labels: int, progress: Progress, *, layout_name: str = "4x6"
) -> LabelBench:
    """Labels per second through each renderer, in this process, each label its own data."""
    from picker.printing.labels import compose, raster, render_pdf, render_zpl
    from picker.services.printjobs.labels import layout, random_data

    chosen = layout(settings, layout_name)
    rng = random.Random(1)
    data = [random_data(settings, rng) for _ in range(labels)]

    def rate(name: str, one: Callable[[int], object], n: int) -> float:
        started = time.perf_counter()
        for i in range(n):
            one(i)
            progress(name, i + 1, n)
        return n / (time.perf_counter() - started)

    pdf = rate("pdf", lambda i: render_pdf([compose(chosen, data[i])]), labels)
    zpl = rate("zpl", lambda i: render_zpl([compose(chosen, data[i])]), labels)
    started = time.perf_counter()
    render_pdf([compose(chosen, d) for d in data])
    batch = labels / (time.perf_counter() - started)
    png = rate("png", lambda i: raster(compose(chosen, data[i])), min(labels, 50))
    weasy = None
    try:
        from picker.bench.html_label import render_html_pdf
    except ImportError:  # WeasyPrint is only in the ``bench`` extra
        pass
    else:
        n = min(labels, 50)
        weasy = rate("weasyprint", lambda i: render_html_pdf(compose(chosen, data[i])), n)
    return LabelBench(labels, pdf, batch, zpl, 1000 / png, weasy)


def bench_operator(db: Database, series: int, name: str, roles: str) -> OperatorInfo:
    """An operator of a benchmark run's own (PIN 1357), with the first free badge of its series
    (``EMP-{series}00`` to ``EMP-{series}99``): a reused floor keeps earlier runs' operators, who
    may have work left half done."""
    from picker.services import auth

    prefix = f"EMP-{series}"
    with db.read() as s:
        taken = set(s.scalars(select(Operator.badge).where(Operator.badge.like(prefix + "%"))))
    badge = next(f"{prefix}{k:02d}" for k in range(100) if f"{prefix}{k:02d}" not in taken)
    return auth.add_operator(db, Actor("BENCH"), badge, name, roles, "1357")


def pick_fresh_orders(
    db: Database, settings: Settings, n: int, *, first: int, progress: Progress
) -> list[str]:
    """``n`` new orders from the shop, imported, given to a picker of the benchmark's own and
    picked whole through the picking services; returns their totes, waiting at packing."""
    from picker.services.floor import picking
    from picker.services.orders import lead_actions

    with db.read() as s:
        before = s.scalar(select(func.max(Order.id))) or 0
        busy = set(s.scalars(select(Tote.code).where(Tote.order_id.is_not(None))))
    skus = stock_up(db, 10_000)
    import_fresh(db, settings, shopify_export(skus, n, seed=3, first=first),
                 lambda done, total: progress("new orders", done, total))  # fmt: skip
    with db.read() as s:
        numbers = list(s.scalars(select(Order.number).where(Order.id > before).order_by(Order.id)))
    lead = Actor("BENCH")
    who = Actor("BENCH", bench_operator(db, 98, "Bench Picker", "picker"))
    assert who.operator is not None and who.operator_id is not None
    badge = who.operator.badge
    free = (code for code in (f"T-{k:04d}" for k in range(10_000)) if code not in busy)
    totes = []
    for i, number in enumerate(numbers):
        progress("picking", i + 1, len(numbers))
        try:
            lead_actions.assign_order(db, lead, number, badge)
        except ServiceError:
            continue  # held at intake: not one to pack
        tote = next(free, None)
        if tote is None:
            raise ServiceError(
                f"The floor has no free tote left: {len(busy):,} of T-0000 to T-9999 hold orders"
                " an earlier run left picked. Run the benchmark without --reuse to build a new"
                " floor."
            )
        order_id = _order_id(db, number)
        picking.start_order(db, who, order_id, tote, batch_size=1)
        for line in picking.pick_list(db, who.operator_id):
            picking.pick(db, who, line.task_id, line.left)
        totes.append(tote)
    return totes


def _order_id(db: Database, number: str) -> int:
    with db.read() as s:
        return int(s.execute(select(Order.id).where(Order.number == number)).scalar_one())


def pack_fresh_orders(
    db: Database, settings: Settings, n: int, *, first: int, progress: Progress
) -> int:
    """``n`` new orders picked (:func:`pick_fresh_orders`) and packed through the packing
    services, one parcel each, by a packer of the benchmark's own: parcels waiting in their
    couriers' lanes. Returns how many were packed."""
    from picker.domain.roles import Role
    from picker.services.floor import packing
    from picker.services.floor.parcels import close_parcel

    totes = pick_fresh_orders(db, settings, n, first=first, progress=progress)
    info = bench_operator(db, 97, "Bench Packer", "packer")
    packer = Actor("BENCH-PACK", info)
    assert Role.PACKER in info.roles
    for i, tote in enumerate(totes):
        progress("packing", i + 1, len(totes))
        opened = packing.open_order(db, packer, settings, tote, by="tote")
        view = packing.view(db, opened.order_id)
        for line in view.lines:
            packing.verify(db, packer, view.order_id, line.line_id, line.quantity)
        box, _ = packing.set_packaging(db, packer, view.order_id, "BOX-M")
        grams = box.tare_g + sum(ln.weight_g * ln.quantity for ln in view.lines)
        packing.set_weight(db, packer, settings, view.order_id, grams)
        packing.confirm_address(db, packer, view.order_id)
        close_parcel(db, packer, settings, view.order_id, more_to_come=False)
    return len(totes)
