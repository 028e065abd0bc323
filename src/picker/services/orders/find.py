"""Finding any order by what a customer or a parcel says (``picker order find``, and the
customer-service screen).

One text is tried as every kind of key at once (see :mod:`picker.domain.order_search`): our
order number and a tracking number on their own unique columns, the shop's number, the e-mail,
the phone and the name words on ``order_search_keys``, each an equality lookup on an index (a
query's ``%`` and ``_`` are plain characters: nothing is matched with LIKE). The orders found
come newest first (by the order of intake); each says which kinds of key matched.

Name words: every word of the text must be a word of the order's customer or recipient name.
The rarest word drives the lookup (each word's orders are counted up to :data:`_COUNT_UP_TO`,
an index range read) and the others are checked per order on the primary key, so a common
first name with a rare surname reads a few index entries, not every Anna on the floor. When
every word is common, only the rarest word's newest :data:`_SCAN_UP_TO` orders are checked.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, func, literal, select, union_all
from sqlalchemy.orm import Session, aliased

from picker.domain.order_search import (
    ALL_KINDS,
    KIND_EMAIL,
    KIND_NAME,
    KIND_NUMBER,
    KIND_PHONE,
    KIND_SHOP,
    KIND_TRACKING,
    MAX_NAME_WORDS,
    SearchRefused,
    read_query,
    shop_key,
)
from picker.services.errors import ServiceError
from picker.store.engine import Database
from picker.store.models import Courier, Order, OrderSearchKey, Parcel

#: The most orders one search returns.
MAX_LIMIT = 1000
DEFAULT_LIMIT = 20
#: A name word's orders are counted up to this many to choose the rarest word.
_COUNT_UP_TO = 2000
#: The rarest word's newest orders checked for the other words, at most. Only when every word
#: is common (more than :data:`_COUNT_UP_TO` orders each: "anna nowak") may older orders with
#: them all go unfound; the newest come first anyway. Two common words that never meet in
#: one name cost ~200 ms on PostgreSQL at a million orders without this bound (measured).
_SCAN_UP_TO = 5000


@dataclass(frozen=True)
class FoundOrder:
    """An order a search found, and by what."""

    number: str
    channel: str
    shop_order_no: str
    customer: str
    status: str
    placed_at: datetime
    courier: str | None
    #: The kinds of key that matched (see ``ALL_KINDS``): "number", "shop", "tracking",
    #: "email", "phone", "name"; in that order.
    matched: tuple[str, ...]


def find_orders(db: Database, text: str, limit: int = DEFAULT_LIMIT) -> list[FoundOrder]:
    """The orders ``text`` names by any key, newest first, at most ``limit``. Raises
    :class:`ServiceError` for text that is no search (empty, control characters, too long)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ServiceError(f"the limit is 1 to {MAX_LIMIT} orders, not {limit}")
    try:
        query = read_query(text)
    except SearchRefused as exc:
        raise ServiceError(str(exc)) from None
    with db.read() as s:
        matched: dict[int, list[str]] = {}
        found: list[tuple[str, int]] = s.execute(  # type: ignore[assignment]
            _BY_KEYS,
            {"t": query.text, "u": query.upper, "shop": query.shop, "email": query.email,
             "phone": query.phone, "limit": limit},
        ).all()  # fmt: skip
        names = [(KIND_NAME, i) for i in _by_name(s, query.words, limit)] if query.words else []
        for kind, order_id in [*found, *names]:
            matched.setdefault(order_id, []).append(kind)
        return _found(s, matched, sorted(matched, reverse=True)[:limit])


def _found(s: Session, matched: dict[int, list[str]], chosen: list[int]) -> list[FoundOrder]:
    """The chosen orders (ids, in this order), with what matched each."""
    if not chosen:
        return []
    by_id = {r.id: r for r in s.execute(_ORDERS, {"ids": chosen})}
    return [
        FoundOrder(
            number=r.number,
            channel=r.channel,
            shop_order_no=r.shop_order_no,
            customer=r.customer_name,
            status=r.status.value,
            placed_at=r.placed_at,
            courier=r.code,
            matched=tuple(k for k in ALL_KINDS if k in matched[order_id]),
        )
        for order_id in chosen
        if (r := by_id.get(order_id)) is not None
    ]


# The statements are built once, with parameters: building SQLAlchemy statements for every
# search cost more than the database's index lookups (~2 ms a search, measured).


def _keyed(kind: str, key: str = "key") -> Select[int]:
    """Order ids under a key of this kind (the parameter ``key``), newest first: the primary
    key's order, read backwards."""
    return (
        select(OrderSearchKey.order_id)
        .where(OrderSearchKey.kind == kind, OrderSearchKey.key == bindparam(key))
        .order_by(OrderSearchKey.order_id.desc())
    )


def _kind_of(kind: str, ids: Select[int]) -> Select[tuple[str, int]]:
    sub = ids.subquery()
    return select(literal(kind).label("kind"), sub.c[0].label("order_id"))


_TEXT: list[Any] = [bindparam("t"), bindparam("u")]
#: Our number, a tracking number, and the shop number, e-mail and phone keys: one statement.
_BY_KEYS = union_all(
    _kind_of(KIND_NUMBER, select(Order.id).where(Order.number.in_(_TEXT))),
    _kind_of(KIND_TRACKING,
             select(Parcel.order_id).where(Parcel.tracking_no.in_(_TEXT)).distinct()),
    *(_kind_of(kind, _keyed(kind, kind).limit(bindparam("limit")))
      for kind in (KIND_SHOP, KIND_EMAIL, KIND_PHONE)),
)  # fmt: skip
_COUNT_NAME = select(func.count()).select_from(_keyed(KIND_NAME).limit(_COUNT_UP_TO).subquery())
_ORDERS = (
    select(Order.id, Order.number, Order.channel, Order.shop_order_no, Order.customer_name,
           Order.status, Order.placed_at, Courier.code)
    .outerjoin(Courier, Courier.id == Order.courier_id)
    .where(Order.id.in_(bindparam("ids", expanding=True)))
)  # fmt: skip


@lru_cache(maxsize=MAX_NAME_WORDS)
def _with_words(others: int) -> Select[int]:
    """The first word's newest ``scan`` orders (``key``) that have ``others`` more words
    (``w1``…): each checked on the primary key."""
    driver = _keyed(KIND_NAME).limit(bindparam("scan")).subquery()
    query = select(driver.c.order_id)
    for n in range(1, others + 1):
        other = aliased(OrderSearchKey)
        query = query.where(
            exists().where(
                and_(other.kind == KIND_NAME, other.key == bindparam(f"w{n}"),
                     other.order_id == driver.c.order_id)
            )
        )  # fmt: skip
    return query.order_by(driver.c.order_id.desc()).limit(bindparam("limit"))


def _by_name(s: Session, words: tuple[str, ...], limit: int) -> list[int]:
    """Orders whose names hold every word: the rarest word's orders that have the others."""
    if len(words) > 1:
        counted = []
        for word in words:
            n = s.scalar(_COUNT_NAME, {"key": word}) or 0
            if n == 0:
                return []  # a word no order has: no order has them all
            counted.append((n, word))
        words = tuple(word for _, word in sorted(counted))
    params: dict[str, Any] = {"key": words[0], "limit": limit, "scan": _SCAN_UP_TO}
    params.update({f"w{n}": word for n, word in enumerate(words[1:], start=1)})
    return list(s.scalars(_with_words(len(words) - 1), params))


def find_by_shop_number(db: Database, text: str) -> list[FoundOrder]:
    """The orders whose shop number is ``text`` (``1004``, ``#1004``; one per channel), newest
    first: how ``picker order show`` reads a number that is not ours. Text that is no shop
    number (empty, control characters) finds none."""
    key = shop_key(text)
    if key is None or any(unicodedata.category(c) in ("Cc", "Cf") for c in key):
        return []
    with db.read() as s:
        ids = list(s.scalars(_keyed(KIND_SHOP).limit(MAX_LIMIT), {"key": key}))
        return _found(s, {i: [KIND_SHOP] for i in ids}, ids)
