"""Courier tracking-number schemes: UPU S10, numeric with a mod-10 check digit, plain range."""

from __future__ import annotations

import re

from biip.checksums import gs1_standard_check_digit

_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
_S10_RE = re.compile(r"([A-Z]{2})(\d{8})(\d)([A-Z]{2})")


class TrackingError(ValueError):
    """A serial that cannot become a tracking number of its scheme."""


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
