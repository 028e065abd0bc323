"""The scan router's promises, over generated scans (hypothesis)."""

from __future__ import annotations

import re

from biip.upc import Upc
from hypothesis import given
from hypothesis import strategies as st

from picker.domain.ean import with_check_digit
from picker.domain.scanning import (
    Misread,
    ScanError,
    ScanKind,
    ScanRouter,
    explain,
    visible,
)
from picker.domain.tracking import s10_number
from tests.domain.test_scanning import DEFAULT_PATTERNS

ROUTER = ScanRouter({k: re.compile(p) for k, p in DEFAULT_PATTERNS.items()})
FRAMED = ScanRouter({k: re.compile(p) for k, p in DEFAULT_PATTERNS.items()}, "~", "#")

#: Pieces scanners and GS1 data are made of, so generated text reaches the GS1 and product paths.
SCANNER_PIECES = st.sampled_from(
    ["]C1", "]e0", "]d2", "]Q3", "]E0", "]E4", "]I1", "]Y", "]", "\x1d", "(", ")", "00", "01",
     "02", "10", "17", "21", "30", "37", "3103", "400", "99", "EMP-", "T-", "~", "#", "\r\n"]
)  # fmt: skip
SCANNER_TEXT = st.lists(
    st.one_of(SCANNER_PIECES, st.text(alphabet="0123456789", max_size=14), st.text(max_size=3)),
    max_size=8,
).map("".join)

ANY_TEXT = st.one_of(st.text(), SCANNER_TEXT)


def gtin(length: int) -> st.SearchStrategy[str]:
    """A valid GTIN of ``length`` digits: any payload, its computed check digit."""
    return st.text(alphabet="0123456789", min_size=length - 1, max_size=length - 1).map(
        with_check_digit
    )


ANY_GTIN = st.sampled_from([8, 12, 13, 14]).flatmap(gtin)


@given(ANY_TEXT)
def test_the_router_raises_nothing_but_scan_errors(raw: str) -> None:
    for router in (ROUTER, FRAMED):
        try:
            scan = router.classify(raw)
        except ScanError as exc:
            assert str(exc) and exc.raw == raw
            continue
        assert scan.raw == raw and scan.text
        assert scan.quantity >= 1
        assert visible(scan.text.replace("\x1d", "")) == scan.text.replace("\x1d", "")
        if scan.kind is ScanKind.PRODUCT:
            assert scan.gtin is not None and re.fullmatch(r"[0-9]{14}", scan.gtin)
            assert scan.gtin in scan.lookup_codes
        else:
            assert scan.lookup_codes == ()
        if scan.sscc is not None:
            assert re.fullmatch(r"[0-9]{18}", scan.sscc)


@given(ANY_TEXT)
def test_explain_never_raises_and_shows_every_hidden_character(raw: str) -> None:
    explanation = explain(raw, FRAMED)
    assert (explanation.scan is None) != (explanation.error is None)
    assert all(c == " " or c.isprintable() for c in explanation.visible)


@given(ANY_GTIN)
def test_every_valid_gtin_is_a_product_found_by_its_own_spelling(code: str) -> None:
    scan = ROUTER.classify(code)
    assert scan.kind is ScanKind.PRODUCT
    assert scan.gtin == code.zfill(14)
    assert code in scan.lookup_codes


@given(ANY_GTIN)
def test_framing_and_line_ends_do_not_change_a_product(code: str) -> None:
    assert FRAMED.classify(f"~{code}#\r\n").gtin == code.zfill(14)


@given(gtin(13), st.integers(0, 12), st.integers(1, 9))
def test_changing_one_digit_of_an_ean13_is_a_misread(code: str, at: int, by: int) -> None:
    changed = code[:at] + str((int(code[at]) + by) % 10) + code[at + 1 :]
    try:
        ROUTER.classify(changed)
    except Misread:
        return
    raise AssertionError(f"{changed} (from {code}) was not caught")


@given(st.text(alphabet="0123456789", min_size=4, max_size=8))
def test_a_doubled_badge_reads_as_one_badge(digits: str) -> None:
    scan = ROUTER.classify(f"EMP-{digits}EMP-{digits}")
    assert (scan.kind, scan.text) == (ScanKind.BADGE, f"EMP-{digits}")


@given(st.integers(0, 99_999_999), st.integers(1, 9))
def test_s10_numbers_are_parcels_and_a_wrong_check_digit_a_misread(serial: int, by: int) -> None:
    number = s10_number("EE", serial, "PL")
    assert ROUTER.classify(number).kind is ScanKind.PARCEL
    wrong = str((int(number[10]) + by) % 10)
    try:
        ROUTER.classify(number[:10] + wrong + number[11:])
    except Misread:
        return
    raise AssertionError(f"{number} with check digit {wrong} was not caught")


@given(st.sampled_from("01"), st.text(alphabet="0123456789", min_size=6, max_size=6))
def test_every_upc_e_is_found_by_its_own_and_its_upc_a_spelling(system: str, body: str) -> None:
    upc = Upc.parse(system + body)  # biip supplies the check digit of a 7-digit UPC-E
    code, upc_a = upc.as_upc_e(), upc.as_upc_a()
    scan = ROUTER.classify(code)
    assert scan.kind is ScanKind.PRODUCT
    assert code in scan.lookup_codes and upc_a in scan.lookup_codes
    ean8 = with_check_digit(code[:-1]) == code
    assert scan.gtin == (code if ean8 else upc_a).zfill(14)
