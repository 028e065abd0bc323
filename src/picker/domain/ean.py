"""GTIN check digits, via biip (the GS1 rules are not ours to re-implement)."""

from __future__ import annotations

from biip.checksums import gs1_standard_check_digit


def with_check_digit(payload: str) -> str:
    """``payload`` (digits) followed by its GS1 mod-10 check digit."""
    if not payload.isdigit():
        raise ValueError(f"{payload!r} is not all digits")
    return payload + str(gs1_standard_check_digit(payload))


def is_valid_gtin(code: str) -> bool:
    """True for an EAN-8/UPC-A/EAN-13/GTIN-14 whose check digit is right."""
    if not code.isdigit() or len(code) not in (8, 12, 13, 14):
        return False
    return gs1_standard_check_digit(code[:-1]) == int(code[-1])


#: The lengths a GTIN is written in: EAN-8, UPC-A, EAN-13, GTIN-14.
GTIN_LENGTHS = (8, 12, 13, 14)


def gtin_spellings(code: str) -> set[str]:
    """The ways one GTIN may be stored: the code with the leading zeros of every GTIN length it
    fits (UPC-A 036000291452 is EAN-13 0036000291452), and the code itself. A code that is not
    all ASCII digits is only itself."""
    if not (code.isascii() and code.isdigit()):
        return {code}
    core = code.lstrip("0")
    return {code} | {core.zfill(n) for n in GTIN_LENGTHS if len(core) <= n}
