"""Courier tracking-number schemes: UPU S10, numeric with a mod-10 check digit, plain range.

A courier hands a warehouse a scheme (its S10 service letters and country, a numeric prefix, or a
block of numbers) and the warehouse hands out its numbers one by one. :class:`Scheme` says what
the ``index``-th number of a scheme is, so the number itself is never stored ahead of use: the
courier row keeps only how many numbers were handed out (see
``picker.services.printjobs.tracking_numbers``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Self

from biip.checksums import gs1_standard_check_digit

#: Share of a scheme's numbers used from which allocation warns: a courier takes days to issue a
#: new range, so the floor must ask while a tenth is still left.
WARN_AT = 0.9

KINDS = ("s10", "mod10", "range")

_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
_S10_RE = re.compile(r"([A-Z]{2})(\d{8})(\d)([A-Z]{2})")
_S10_LAST_SERIAL = 99_999_999
_LETTERS_RE = re.compile(r"[A-Z]{2}")
# ASCII only: str.isdigit() also accepts "²" and other digits no scanner sends.
_DIGITS_RE = re.compile(r"[0-9]*")


class TrackingError(ValueError):
    """A serial that cannot become a tracking number of its scheme."""


class RangeExhausted(TrackingError):
    """Every number of a scheme has been handed out: only the courier can give more.

    The message names the courier and the range and says to ask for a new range, since that is
    the only way forward and a packer reading it at the table must know whom to tell.
    """

    @classmethod
    def of(cls, scheme: Scheme, courier: str | None = None, company: str | None = None) -> Self:
        """The refusal for ``scheme`` of ``courier`` (its code, e.g. ``CITY``); ``company``
        (its name, e.g. ``CityRun Couriers``) is whom to ask, the courier code if not given."""
        who = f"{courier} tracking range" if courier else "tracking range"
        ask = company or courier or "the courier"
        return cls(
            f"{who} {scheme.span()} is used up ({scheme.capacity:,} of {scheme.capacity:,}): "
            f"ask {ask} for a new range"
        )


def s10_check_digit(serial: str) -> int:
    """UPU S10 check digit of an 8-digit serial (weights 8 6 4 2 3 5 9 7, mod 11)."""
    if len(serial) != 8 or not serial.isdigit():
        raise TrackingError(f"S10 serial {serial!r} must be 8 digits")
    check = 11 - sum(int(d) * w for d, w in zip(serial, _S10_WEIGHTS, strict=True)) % 11
    return {10: 0, 11: 5}.get(check, check)


def s10_number(service: str, serial: int, country: str) -> str:
    """E.g. ``s10_number("EE", 12345678, "PL")`` → ``EE123456785PL``."""
    if not re.fullmatch(r"[A-Z]{2}", service) or not re.fullmatch(r"[A-Z]{2}", country):
        raise TrackingError("S10 service and country are two capital letters each")
    if not 0 <= serial <= 99_999_999:
        raise TrackingError(f"S10 serial {serial} is out of range (0 to 99999999)")
    digits = f"{serial:08d}"
    return f"{service}{digits}{s10_check_digit(digits)}{country}"


def is_valid_s10(number: str) -> bool:
    m = _S10_RE.fullmatch(number)
    return m is not None and s10_check_digit(m.group(2)) == int(m.group(3))


def mod10_number(prefix: str, serial: int, width: int = 11) -> str:
    """Numeric tracking number: prefix, serial zero-padded to ``width``, GS1 mod-10 check digit."""
    if not prefix.isdigit() and prefix:
        raise TrackingError(f"mod10 prefix {prefix!r} must be digits")
    body = f"{prefix}{serial:0{width}d}"
    if len(body) > len(prefix) + width:
        raise TrackingError(f"serial {serial} does not fit in {width} digits")
    return body + str(gs1_standard_check_digit(body))


def is_valid_mod10(number: str) -> bool:
    return (
        number.isdigit()
        and len(number) > 1
        and gs1_standard_check_digit(number[:-1]) == int(number[-1])
    )


def range_number(prefix: str, serial: int) -> str:
    return f"{prefix}{serial}"


@dataclass(frozen=True)
class Scheme:
    """A courier's tracking-number scheme, as its courier row describes it.

    Numbers are counted from 0 (``index`` = how many were handed out before), so the counter a
    courier row keeps is directly the index of the next number, and the demo floor and live
    allocation walk the same sequence. A scheme may be built invalid (a form being filled in);
    :meth:`validate` says what is wrong, and :meth:`number` refuses to number from it.
    """

    kind: str  # "s10" | "mod10" | "range"
    prefix: str  # s10: 2 service letters; mod10: leading digits; range: text prefix
    country: str | None = None  # s10 only
    #: The block of serials the courier gave: required for a range; for s10 and mod10 optional
    #: (all of them: s10 1..99999999, mod10 1..10**width - 1).
    range_start: int | None = None
    range_end: int | None = None
    width: int = 11  # mod10 serial width (as mod10_number)

    @property
    def capacity(self) -> int:
        """How many numbers the scheme can ever give: its block, by default every serial from 1
        (serial 0 is left out, couriers read an all-zero serial as "none")."""
        start, end = self._bounds()
        return end - start + 1

    def number(self, index: int) -> str:
        """The ``index``-th number (0-based); :class:`RangeExhausted` from ``capacity`` on."""
        self.validate()
        if index < 0:
            raise TrackingError(f"tracking number index {index} must be 0 or more")
        if index >= self.capacity:
            raise RangeExhausted.of(self)
        start, _ = self._bounds()
        if self.kind == "s10":
            serial = f"{start + index:08d}"  # validate() checked the letters: no s10_number()
            return f"{self.prefix}{serial}{s10_check_digit(serial)}{self.country}"
        if self.kind == "mod10":
            body = f"{self.prefix}{start + index:0{self.width}d}"
            return body + str(gs1_standard_check_digit(body))
        return range_number(self.prefix, start + index)

    def last_of_each_length(self) -> tuple[str, ...]:
        """The last number of each length the scheme gives, shortest first: one for s10 and
        mod10 (their numbers all have one length), one per count of digits for a range (written
        without leading zeros, its numbers grow with their serial). What a label must hold is
        among them: a barcode sized by the first numbers may not hold later ones."""
        self.validate()
        start, end = self._bounds()
        if self.kind != "range":
            return (self.number(self.capacity - 1),)
        lasts = []
        for digits in range(len(str(start)), len(str(end)) + 1):
            lasts.append(range_number(self.prefix, min(end, 10**digits - 1)))
        return tuple(lasts)

    def is_valid(self, number: str) -> bool:
        """One of this scheme's numbers: its prefix (and country), its length, its check digit;
        for a range (which has no check digit), a number inside the range."""
        if not number.startswith(self.prefix):
            return False
        if self.kind == "s10":
            return (
                len(number) == 13
                and self.country is not None
                and number.endswith(self.country)
                and is_valid_s10(number)
            )
        rest = number[len(self.prefix) :]
        if not rest or not _DIGITS_RE.fullmatch(rest):
            return False
        if self.kind == "mod10":
            return len(rest) == self.width + 1 and is_valid_mod10(number)
        if self.kind != "range" or self.range_start is None or self.range_end is None:
            return False
        # Written without leading zeros (range_number), so "CR0500000" is not "CR500000".
        return str(int(rest)) == rest and self.range_start <= int(rest) <= self.range_end

    def covers(self, number: str) -> bool:
        """Whether ``number`` is one this scheme's block hands out (shape, check digit and the
        block's serials): a number a new block must not give again."""
        if not self.is_valid(number):
            return False
        start, end = self._bounds()
        if self.kind == "s10":
            serial = int(number[2:10])
        elif self.kind == "mod10":
            serial = int(number[len(self.prefix) : -1])
        else:
            serial = int(number[len(self.prefix) :])
        return start <= serial <= end

    def pattern(self) -> str:
        """An anchored regex matching this scheme's numbers by shape only, check digit and range
        bounds left out: a misread must still be recognised as a parcel to be called a misread."""
        self.validate()
        prefix = re.escape(self.prefix)
        if self.kind == "s10":
            return rf"^{prefix}\d{{9}}{re.escape(self.country or '')}$"
        if self.kind == "mod10":
            return rf"^{prefix}\d{{{self.width + 1}}}$"
        start, end = self._bounds()
        shortest, longest = len(str(start)), len(str(end))
        digits = rf"\d{{{longest}}}" if shortest == longest else rf"\d{{{shortest},{longest}}}"
        return rf"^{prefix}{digits}$"

    def validate(self) -> None:
        """Raise :class:`TrackingError` naming what is wrong, so a courier set-up is refused in
        words when entered, not when the first parcel is closed."""
        if self.kind not in KINDS:
            raise TrackingError(
                f"tracking scheme {self.kind!r} is unknown (it is one of {', '.join(KINDS)})"
            )
        if self.kind == "s10":
            if not _LETTERS_RE.fullmatch(self.prefix):
                raise TrackingError(
                    f"S10 service indicator {self.prefix!r} must be two capital letters"
                )
            if self.country is None or not _LETTERS_RE.fullmatch(self.country):
                raise TrackingError(
                    f"S10 country {self.country!r} must be two capital letters (ISO code, e.g. PL)"
                )
        elif self.kind == "mod10":
            if not _DIGITS_RE.fullmatch(self.prefix):
                raise TrackingError(f"mod10 prefix {self.prefix!r} must be digits")
            if self.width < 1:
                raise TrackingError(f"mod10 serial width {self.width} must be 1 or more")
        self._bounds()

    def span(self) -> str:
        """First to last number, e.g. ``CR500000 to CR999999``: the range a courier knows."""
        return f"{self.number(0)} to {self.number(self.capacity - 1)}"

    def describe(self) -> str:
        """E.g. ``range CR500000 to CR999999`` for a status line; never raises, an invalid
        scheme is described with what is wrong with it."""
        try:
            return f"{self.kind} {self.span()}"
        except TrackingError as exc:
            return f"{self.kind} {self.prefix!r} (not usable: {exc})"

    def _bounds(self) -> tuple[int, int]:
        """The first and last serial handed out."""
        start, end = self.range_start, self.range_end
        if self.kind in ("s10", "mod10"):
            last = _S10_LAST_SERIAL if self.kind == "s10" else 10 ** max(self.width, 1) - 1
            start = 1 if start is None else start
            end = last if end is None else end
            if not 1 <= start <= last or not 1 <= end <= last:
                raise TrackingError(
                    f"{self.kind} serials run from 1 to {last}: first {start} and last {end} "
                    "must lie between"
                )
        elif start is None or end is None:
            raise TrackingError("a range scheme needs both a range start and a range end")
        if start < 0:
            raise TrackingError(f"range start {start} must be 0 or more")
        if start > end:
            raise TrackingError(f"range start {start} is after range end {end}")
        return start, end


def warn_from(capacity: int) -> int:
    """How many numbers used makes allocation warn: the first count at or above ``WARN_AT`` of
    ``capacity``, in exact arithmetic (0.9 × 500,000 must be 450,000, not a float off by one)."""
    share = Fraction(repr(WARN_AT))
    return -(-capacity * share.numerator // share.denominator)


def usage_warning(used: int, capacity: int, courier: str, company: str) -> str | None:
    """The words to show once ``used`` of ``capacity`` reaches ``WARN_AT``, else None; e.g.
    ``CITY tracking range 90% used (450,000 of 500,000): ask CityRun Couriers for a new range``.
    The share is rounded down, so it never says 100% while a number is left."""
    if capacity <= 0 or used < warn_from(capacity):
        return None
    share = used * 100 // capacity
    return (
        f"{courier} tracking range {share}% used ({used:,} of {capacity:,}): "
        f"ask {company} for a new range"
    )
