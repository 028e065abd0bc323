"""The keys an order is found by (``picker order find``): pure text rules, no database.

An order is stored under search keys, each (kind, key), written with the order and looked up
by equality on an index. The same function makes the key from the stored text and from what a
person types, so both meet:

- ``shop``: the shop's order number, without a leading ``#``, case folded (``#1004`` → ``1004``).
- ``email``: the customer's address, trimmed and case folded (``Ann@Example.COM``).
- ``phone``: the last :data:`PHONE_DIGITS` digits of the ship phone, whatever the punctuation.
  Nine digits are a Polish (and most European) national number without its trunk ``0`` or
  country code: ``+48 601-234-567``, ``0048601234567`` and ``601 234 567`` are one key; so are
  ``+49 30 1234567`` and ``030 1234567``. A number of fewer than :data:`MIN_PHONE_DIGITS`
  digits is no key (too many orders would share it).
- ``name``: each word of the customer's and the recipient's name, folded: accents dropped
  (NFKD without combining marks; ``ł``, ``đ``, ``ø``, ``ß``… in Latin letters by anyascii),
  case folded. Other scripts stay in their script (folded the same way on both sides); a name
  written without spaces (``山田太郎``) is one word.

Our own order number and a parcel's tracking number are unique columns of their own tables and
need no key.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

KIND_SHOP = "shop"
KIND_EMAIL = "email"
KIND_PHONE = "phone"
KIND_NAME = "name"
#: The kinds stored as keys (``order_search_keys.kind``).
STORED_KINDS = (KIND_SHOP, KIND_EMAIL, KIND_PHONE, KIND_NAME)
#: Every way an order is found, in the order they are tried and reported.
KIND_NUMBER, KIND_TRACKING = "number", "tracking"
ALL_KINDS = (KIND_NUMBER, KIND_SHOP, KIND_TRACKING, KIND_EMAIL, KIND_PHONE, KIND_NAME)

#: A key's longest form (the column's width): longer text is cut, on both sides alike.
KEY_WIDTH = 254
PHONE_DIGITS = 9
MIN_PHONE_DIGITS = 7
#: Words of one name kept as keys (a name of a hundred words is not a name).
MAX_NAME_WORDS = 12
#: What a typed phone number may hold besides digits.
_PHONE_TEXT = re.compile(r"[0-9+()./\s-]+")
_WORD = re.compile(r"\w+")
#: A terminal's escape sequence (ESC [ … final) stored in a name is no part of its words.
_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b.?")


class SearchRefused(ValueError):
    """Text that is no search: empty, too long, or with control characters."""


def _latin(c: str) -> str:
    """One character with its accent dropped, a Latin letter anyascii spells (ł → l)."""
    if c.isascii():
        return c
    try:
        latin = unicodedata.name(c).startswith("LATIN")
    except ValueError:  # no name: leave it be
        return c
    if not latin:
        return c
    from anyascii import anyascii

    return anyascii(c) or c


@lru_cache(maxsize=8192)  # a floor's customers repeat their names
def fold(text: str) -> str:
    """``text`` without accents, case folded: "Nguyễn Łucja" → "nguyen lucja"."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(_latin(c) for c in bare).casefold()


def name_words(name: str | None) -> list[str]:
    """The folded words of a name, each once, in order."""
    words: list[str] = []
    for word in _WORD.findall(fold(_ESCAPE.sub(" ", name or ""))):
        word = word[:KEY_WIDTH]
        if word not in words:
            words.append(word)
    return words


def shop_key(text: str | None) -> str | None:
    key = (text or "").strip().removeprefix("#").strip().casefold()[:KEY_WIDTH]
    return key or None


def email_key(text: str | None) -> str | None:
    key = (text or "").strip().casefold()[:KEY_WIDTH]
    return key if "@" in key else None


def phone_digits(text: str | None) -> str:
    """The decimal digits of ``text`` in ASCII (full-width and other scripts' digits too)."""
    digits = (unicodedata.decimal(c, None) for c in text or "")
    return "".join(str(d) for d in digits if d is not None)


def phone_key(text: str | None) -> str | None:
    digits = phone_digits(text)
    return digits[-PHONE_DIGITS:] if len(digits) >= MIN_PHONE_DIGITS else None


def order_keys(
    *,
    shop_order_no: str | None,
    customer_name: str | None,
    ship_name: str | None,
    email: str | None,
    phone: str | None,
) -> list[tuple[str, str]]:
    """An order's (kind, key) pairs, each once."""
    keys: list[tuple[str, str]] = []
    for kind, key in (
        (KIND_SHOP, shop_key(shop_order_no)),
        (KIND_EMAIL, email_key(email)),
        (KIND_PHONE, phone_key(phone)),
    ):
        if key:
            keys.append((kind, key))
    words = name_words(customer_name)[:MAX_NAME_WORDS]
    words += [w for w in name_words(ship_name)[:MAX_NAME_WORDS] if w not in words]
    keys += [(KIND_NAME, w) for w in words]
    return keys


@dataclass(frozen=True)
class Query:
    """What typed text is looked up as: every reading it may have (None: not that kind)."""

    text: str  # as typed, trimmed
    shop: str | None
    email: str | None
    phone: str | None
    words: tuple[str, ...]

    @property
    def upper(self) -> str:
        """Our order numbers and most tracking numbers are upper case."""
        return self.text.upper()


def read_query(text: str) -> Query:
    """Typed (or scanned) text as a search; raises :class:`SearchRefused` with the reason."""
    stripped = text.strip()
    if not stripped:
        raise SearchRefused("nothing to search for: give a number, an e-mail, a phone or a name")
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in stripped):
        raise SearchRefused("the search text has control characters; type it again")
    if len(stripped) > KEY_WIDTH:
        raise SearchRefused(f"the search text is longer than {KEY_WIDTH} characters")
    phone = phone_key(stripped) if _PHONE_TEXT.fullmatch(stripped) else None
    return Query(
        text=stripped,
        shop=shop_key(stripped),
        email=email_key(stripped),
        phone=phone,
        words=tuple(name_words(stripped)[:MAX_NAME_WORDS]),
    )
