"""``picker bench find``: finding an order by each kind of key on a big floor.

On the demo floor (built, or reused with ``--reuse``), ``--queries`` orders are drawn at random
(seeded) and each is looked up through the real :func:`~picker.services.orders.find.find_orders`
(limit 20, as ``picker order find``) by every kind of key, typed as a person would: our number,
the shop's number with ``#``, a parcel's tracking number, the e-mail in upper case, the phone
re-punctuated (half of them with a ``+48`` prefix), the customer's name in lower case with its
accents dropped; and text that matches nothing. Each kind's p50 and p99 are reported (target
p99 ≤ 50 ms), and the JSON rows of ``order find --format json`` for the name searches.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from picker.bench.runs import _demo_floor, latency
from picker.domain.order_search import SearchRefused, fold, phone_digits, read_query
from picker.services.orders import views
from picker.services.orders.find import find_orders
from picker.store.engine import Database
from picker.store.models import Order, Parcel

#: The target of every kind, p99 in ms (issue 21).
TARGET_MS = 50.0
LIMIT = 20


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _phone(stored: str, rng: random.Random) -> str:
    """The stored phone as a customer reads it out: its last nine digits, punctuated anew."""
    d = phone_digits(stored)[-9:]
    spoken = f"{d[:3]}-{d[3:6]}-{d[6:]}"
    if len(d) < 9:  # a short local number: a country prefix would be digits it has not
        return spoken
    return f"+48 {spoken}" if rng.random() < 0.5 else f"({d[:3]}) {d[3:6]} {d[6:]}"


def _searchable(text: str) -> bool:
    try:
        read_query(text)
    except SearchRefused:
        return False
    return True


def queries(db: Database, orders: int, n: int, seed: int = 7) -> dict[str, list[str]]:
    """``n`` searches of each kind, from ``n`` orders drawn at random."""
    rng = random.Random(seed)
    ids = rng.sample(range(1, orders + 1), min(n, orders))
    with db.read() as s:
        rows = s.execute(
            select(Order.number, Order.shop_order_no, Order.customer_email, Order.ship_phone,
                   Order.customer_name).where(Order.id.in_(ids))
        ).all()  # fmt: skip
        tracking = list(
            s.scalars(
                select(Parcel.tracking_no)
                .where(Parcel.order_id.in_(ids), Parcel.tracking_no.is_not(None))
                .limit(n)
            )
        )
    found = {
        "number": [r.number for r in rows],
        "shop": [f"#{r.shop_order_no}" for r in rows],
        "tracking": tracking,
        "email": [r.customer_email.upper() for r in rows if r.customer_email],
        "phone": [_phone(r.ship_phone, rng) for r in rows if r.ship_phone],
        # (A hostile demo name with control characters is no search: refused, not timed.)
        "name": [fold(r.customer_name) for r in rows if _searchable(r.customer_name)],
        "no_match": [f"nobody{rng.randrange(10**9)}@nowhere.test" for _ in range(n // 2)]
        + [f"Zyxwvut Qqqq{i}" for i in range(n - n // 2)],
    }
    return {kind: texts[:n] for kind, texts in found.items()}


def time_searches(
    db: Database, texts: list[str], progress: Callable[[int, int], None]
) -> tuple[list[float], list[list[str]]]:
    """Milliseconds of each search, and the numbers each found."""
    ms: list[float] = []
    numbers: list[list[str]] = []
    for i, text in enumerate(texts, start=1):
        started = time.perf_counter()
        found = find_orders(db, text, LIMIT)
        ms.append((time.perf_counter() - started) * 1000)
        numbers.append([o.number for o in found])
        progress(i, len(texts))
    return ms, numbers


def _quiet(done: int, total: int) -> None:
    pass


def _stage(progress: Any, stage: str) -> Callable[[int, int], None]:
    return lambda done, total: progress(stage, done, total)


def find_metrics(args: Any, settings: Any, db: Database, progress: Any) -> tuple[int, dict]:
    """``picker bench find``'s table: its demo floor, then each kind of search timed."""
    orders = _demo_floor(args, db, progress)
    plan = queries(db, orders, args.queries)
    metrics: dict[str, dict] = {}
    missed = 0
    name_numbers: list[list[str]] = []
    for kind, texts in plan.items():
        time_searches(db, texts[:5], _quiet)  # warm the connection
        ms, numbers = time_searches(db, texts, _stage(progress, f"find {kind}"))
        if kind != "no_match":
            missed += sum(1 for n in numbers if not n)
        if kind == "name":
            name_numbers = numbers
        metrics[kind] = latency(round(_percentile(ms, 0.5), 2), round(_percentile(ms, 0.99), 2),
                                TARGET_MS)  # fmt: skip
    json_ms = []
    for found in name_numbers:
        started = time.perf_counter()
        views.summaries_of(db, found)
        json_ms.append((time.perf_counter() - started) * 1000)
    metrics["json_rows"] = latency(
        round(_percentile(json_ms, 0.5), 2), round(_percentile(json_ms, 0.99), 2), TARGET_MS
    )
    metrics["not_found"] = {"median": missed, "p99": missed, "unit": "searches", "target": 0,
                            "pass": missed == 0}  # fmt: skip
    return orders, metrics
