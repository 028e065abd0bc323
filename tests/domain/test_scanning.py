"""The scan router, by example: each kind, each scanner quirk, each refusal and its message.

GS1 strings are written by hand after the GS1 General Specifications (sections 3 and 7); check
digits come from ``with_check_digit`` (biip's GS1 mod-10) so each example says where its digit is.
"""

from __future__ import annotations

import pickle
import re

import pytest

from picker.domain.ean import with_check_digit
from picker.domain.scanning import (
    Explanation,
    MalformedScan,
    Misread,
    Scan,
    ScanError,
    ScanField,
    ScanKind,
    ScanRouter,
    explain,
    visible,
)
from picker.domain.tracking import s10_number

#: config.toml's [scanner.patterns] defaults (kept equal to picker.config.DEFAULT_PATTERNS below).
DEFAULT_PATTERNS: dict[str, str] = {
    "badge": r"^EMP-\d{4,8}$",
    "bin": r"^[A-Z]-\d{2}-\d{2}-\d$",
    "tote": r"^T-\d{4}$",
    "rma": r"^RMA-\d{6,10}$",
    "order": r"^PO-\d{6,10}$",
    "command": r"^CMD-[A-Z]+$",
    "pickup": r"^PU-\d{6,10}$",
    "packaging": r"^BOX-[A-Z0-9]{1,8}$",
}

GS = "\x1d"
EAN13 = "4006381333931"  # 400638133393 + check digit 1
GTIN14 = with_check_digit("1" + EAN13[:-1])  # the same item, packaging level 1
SSCC = with_check_digit("3" + "4012345" + "000000001")  # extension 3, company 4012345, serial


def router(prefix: str = "", suffix: str = "", **extra: str) -> ScanRouter:
    patterns = {kind: re.compile(p) for kind, p in {**DEFAULT_PATTERNS, **extra}.items()}
    return ScanRouter(patterns, prefix=prefix, suffix=suffix)


ROUTER = router()


def classify(raw: str) -> Scan:
    return ROUTER.classify(raw)


def test_an_rma_number_is_its_own_kind_not_a_code() -> None:
    assert classify("RMA-000012").kind is ScanKind.RMA
    assert classify("rma-000012").kind is ScanKind.CODE  # patterns are case-sensitive
    assert classify("PO-0000012").kind is ScanKind.ORDER


def test_fixture_patterns_are_the_shipped_defaults() -> None:
    from picker.config import DEFAULT_PATTERNS as shipped

    assert shipped == DEFAULT_PATTERNS


# --- our own kinds --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("EMP-0007", ScanKind.BADGE),
        ("A-03-12-2", ScanKind.BIN),
        ("T-0042", ScanKind.TOTE),
        ("PO-1000234", ScanKind.ORDER),
        ("CMD-SHORT", ScanKind.COMMAND),
        ("PU-20261122", ScanKind.PICKUP),
        ("BOX-ENVM", ScanKind.PACKAGING),
    ],
)
def test_each_configured_pattern_gives_its_kind(raw: str, kind: ScanKind) -> None:
    scan = classify(raw)
    assert (scan.kind, scan.text, scan.raw) == (kind, raw, raw)
    assert scan.gtin is None and scan.lookup_codes == () and scan.quantity == 1


def test_patterns_must_match_the_whole_text() -> None:
    assert classify("EMP-0007X").kind is ScanKind.CODE
    assert classify("XT-0042").kind is ScanKind.CODE


def test_configured_patterns_come_before_product_structure() -> None:
    # A site whose order numbers are 13 digits: they are orders, not EAN-13 misreads.
    site = router(order=r"^\d{13}$")
    assert site.classify("4006381333935").kind is ScanKind.ORDER
    assert site.classify(EAN13).kind is ScanKind.ORDER


def test_an_optional_parcel_pattern_claims_a_couriers_numbers() -> None:
    # A courier's mod-10 numbers look exactly like GTIN-14s; its pattern says they are parcels.
    tracking = with_check_digit("73" + "00000000042")
    assert classify(tracking).kind is ScanKind.PRODUCT
    scan = router(parcel=r"^73\d{12}$").classify(tracking)
    assert (scan.kind, scan.sscc, scan.gtin) == (ScanKind.PARCEL, None, None)


def test_unknown_pattern_keys_are_ignored() -> None:
    site = router(product=r"^.*$", code=r"^.*$", whatever=r"^EMP-.*$")
    assert site.classify("SKU-1").kind is ScanKind.CODE
    assert site.classify("EMP-0007").kind is ScanKind.BADGE


def test_clean_text_matching_nothing_is_a_code() -> None:
    for text in ("SKU-1001", "CR500000", "1234567", "123456", "ABC 12", "[red]x[/red]"):
        scan = classify(text)
        assert (scan.kind, scan.text) == (ScanKind.CODE, text)


def test_digits_of_other_lengths_are_codes_not_refusals() -> None:
    # 18 bare digits: a courier number more often than an SSCC without its AI.
    assert classify("123456789012345678").kind is ScanKind.CODE
    assert classify(SSCC).kind is ScanKind.CODE
    assert classify("1234567890").kind is ScanKind.CODE


# --- products -------------------------------------------------------------------------------------


def test_ean13_is_a_product_with_its_gtin14_and_spellings() -> None:
    scan = classify(EAN13)
    assert scan.kind is ScanKind.PRODUCT
    assert scan.gtin == "0" + EAN13
    assert scan.lookup_codes == (EAN13, "0" + EAN13)


def test_upc_a_keeps_every_spelling_a_catalogue_may_hold() -> None:
    scan = classify("036000291452")  # UPC-A, check digit 2
    assert scan.gtin == "00036000291452"
    assert scan.lookup_codes == ("036000291452", "0036000291452", "00036000291452")
    # The same code scanned as a 13-digit EAN reads the same.
    assert classify("0036000291452").gtin == "00036000291452"


def test_ean8_is_a_product() -> None:
    scan = classify("96385074")  # EAN-8, check digit 4
    assert scan.gtin == "00000096385074"
    assert scan.lookup_codes == ("96385074", "000096385074", "0000096385074", "00000096385074")


def test_gtin14_is_a_product() -> None:
    scan = classify(GTIN14)
    assert (scan.kind, scan.gtin, scan.lookup_codes) == (ScanKind.PRODUCT, GTIN14, (GTIN14,))


def test_upc_e_is_expanded_to_upc_a() -> None:
    # UPC-E 0425261 + check digit 4 expands to UPC-A 042100005264 (GS1 GenSpecs 5.2.2.4.2).
    scan = classify("04252614")
    assert scan.kind is ScanKind.PRODUCT
    assert scan.gtin == "00042100005264"
    assert scan.lookup_codes == ("04252614", "042100005264", "0042100005264", "00042100005264")
    assert "UPC-E expanded to UPC-A 042100005264" in scan.notes


def test_an_eight_digit_code_valid_both_ways_is_ean8_and_carries_the_upc_a_too() -> None:
    code = "01234053"  # EAN-8 check digit 3; as UPC-E it expands to 012340000053 (check 3)
    scan = classify(code)
    assert scan.gtin == "00000001234053"
    assert scan.lookup_codes[:4] == (code, "000001234053", "0000001234053", "00000001234053")
    assert "012340000053" in scan.lookup_codes and "00012340000053" in scan.lookup_codes
    assert "also valid as UPC-E (UPC-A 012340000053)" in scan.notes


def test_ean8_symbology_identifier_rules_out_upc_e() -> None:
    scan = classify("]E401234053")
    assert scan.gtin == "00000001234053"
    assert "012340000053" not in scan.lookup_codes


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("4006381333935", "EAN-13"),
        ("036000291453", "UPC-A"),
        ("96385075", "EAN-8/UPC-E"),
        (GTIN14[:-1] + str((int(GTIN14[-1]) + 1) % 10), "GTIN-14"),
    ],
)
def test_a_wrong_check_digit_is_a_misread_scan_again(code: str, name: str) -> None:
    with pytest.raises(Misread) as caught:
        classify(code)
    assert str(caught.value) == (
        f'{name} "{code}" has a wrong check digit: it was misread, scan again.'
    )
    assert caught.value.raw == code
    assert caught.value.result == "misread"


def test_ean13_with_add_on_keeps_the_add_on_as_a_field() -> None:
    scan = classify("]E3978030640615705")
    assert scan.gtin == "09780306406157"
    assert ScanField("Add-on", "05") in scan.fields


def test_itf14_symbology_reads_a_gtin14() -> None:
    assert classify("]I1" + GTIN14).gtin == GTIN14


# --- parcels --------------------------------------------------------------------------------------


def test_s10_tracking_number_is_a_parcel() -> None:
    number = s10_number("RR", 47312482, "GB")  # the UPU S10 worked example
    scan = classify(number)
    assert (scan.kind, scan.text, scan.sscc) == (ScanKind.PARCEL, "RR473124829GB", None)


def test_s10_with_a_wrong_check_digit_is_a_misread() -> None:
    with pytest.raises(Misread, match=r"RR473124828GB.*scan again"):
        classify("RR473124828GB")


def test_sscc_in_ai_00_is_a_parcel() -> None:
    scan = classify("]C100" + SSCC)
    assert (scan.kind, scan.sscc, scan.gtin) == (ScanKind.PARCEL, SSCC, None)
    assert scan.fields == (ScanField("SSCC", SSCC, "00"),)
    assert scan.text == "00" + SSCC


def test_sscc_with_a_wrong_check_digit_is_a_misread() -> None:
    bad = SSCC[:-1] + str((int(SSCC[-1]) + 1) % 10)
    with pytest.raises(Misread, match=f"SSCC {bad} in \\(00\\) has a wrong check digit"):
        classify("]C100" + bad)


def test_pallet_label_with_sscc_and_content_is_a_parcel_with_its_count() -> None:
    scan = classify(f"(00){SSCC}(02){GTIN14}(37)24")
    assert (scan.kind, scan.sscc, scan.quantity, scan.gtin) == (ScanKind.PARCEL, SSCC, 24, None)
    assert ScanField("Content GTIN", GTIN14, "02") in scan.fields


# --- GS1 element strings --------------------------------------------------------------------------


def test_gs1_128_with_fnc1_as_gs_is_a_product_with_lot_and_expiry() -> None:
    raw = f"]C101{GTIN14}10LOT-42{GS}17270300"
    scan = classify(raw)
    assert scan.kind is ScanKind.PRODUCT
    assert scan.gtin == GTIN14
    assert scan.text == f"01{GTIN14}10LOT-42{GS}17270300"
    assert scan.fields == (
        ScanField("GTIN", GTIN14, "01"),
        ScanField("Lot", "LOT-42", "10"),
        ScanField("Expiry", "2027-03-31", "17"),  # day 00 = last day of the month
    )
    assert "symbology identifier ]C1 removed" in scan.notes


@pytest.mark.parametrize("identifier", ["]C1", "]e0", "]d2", "]Q3"])
def test_gs1_symbology_identifiers_are_read(identifier: str) -> None:
    scan = classify(f"{identifier}01{GTIN14}21SN123")
    assert (scan.gtin, scan.fields[-1]) == (GTIN14, ScanField("Serial", "SN123", "21"))


def test_leading_gs_is_fnc1_in_first_position() -> None:
    scan = classify(f"{GS}01{GTIN14}")
    assert scan.gtin == GTIN14
    assert scan.text == f"01{GTIN14}"


def test_gs1_without_symbology_identifier_is_still_read_when_complete() -> None:
    scan = classify(f"01{GTIN14}17280200")
    assert scan.gtin == GTIN14
    assert ScanField("Expiry", "2028-02-29", "17") in scan.fields  # 2028 is a leap year
    assert classify("00" + SSCC).sscc == SSCC


def test_bare_digits_that_are_not_valid_gs1_stay_codes() -> None:
    bad_gtin = f"01{GTIN14[:-1]}{(int(GTIN14[-1]) + 1) % 10}"
    assert classify(bad_gtin).kind is ScanKind.CODE


def test_a_bare_sscc_with_its_ai_and_a_wrong_check_digit_is_a_misread_not_a_code() -> None:
    """The scanner dropped ]C1: 00 + 18 digits is an SSCC and nothing else, so a wrong check
    digit means "scan again", as for an EAN (the GS1 example 00106141411234567890)."""
    with pytest.raises(Misread, match=r"SSCC 106141411234567890 in \(00\).*scan again"):
        classify("00106141411234567890")
    assert classify("00106141411234567897").sscc == "106141411234567897"
    # Longer or shorter digit runs starting 00 are not whole SSCCs: still someone's code.
    assert classify("001061414112345678901").kind is ScanKind.CODE


def test_parentheses_form_is_read() -> None:
    scan = classify(f"(01){GTIN14}(10)ABC123(17)270300")
    assert (scan.kind, scan.gtin) == (ScanKind.PRODUCT, GTIN14)
    assert ScanField("Lot", "ABC123", "10") in scan.fields


def test_parentheses_form_with_a_missing_value_is_refused() -> None:
    with pytest.raises(MalformedScan, match=r"bracketed form must be \(AI\)value"):
        classify("(01)(10)AB")


@pytest.mark.parametrize(
    ("element", "name", "value"),
    [
        ("11270200", "Production date", "2027-02-28"),
        ("13280200", "Packaging date", "2028-02-29"),
        ("15271231", "Best before", "2027-12-31"),
        ("17271100", "Expiry", "2027-11-30"),
    ],
)
def test_dates_are_iso_and_day_00_is_the_last_day_of_the_month(
    element: str, name: str, value: str
) -> None:
    scan = classify(f"]C101{GTIN14}{element}")
    assert scan.fields[-1] == ScanField(name, value, element[:2])


@pytest.mark.parametrize(
    ("element", "name", "value"),
    [
        ("3103001250", "Net weight (kg)", "1.250 kg"),
        ("3102012345", "Net weight (kg)", "123.45 kg"),
        ("3100000005", "Net weight (kg)", "5 kg"),
        ("3202000750", "Net weight (lb)", "7.50 lb"),
        ("3301001500", "Gross weight (kg)", "150.0 kg"),
        ("3115000200", "Length (m)", "0.00200 m"),
    ],
)
def test_measures_take_their_decimal_point_from_the_last_ai_digit(
    element: str, name: str, value: str
) -> None:
    scan = classify(f"]C101{GTIN14}{element}")
    assert scan.fields[-1] == ScanField(name, value, element[:4])


def test_count_from_ai_30_or_37_is_the_quantity() -> None:
    assert classify(f"]C101{GTIN14}305").quantity == 5
    assert classify(f"]C102{GTIN14}3712").quantity == 12
    assert classify(f"(02){GTIN14}(37)12").gtin == GTIN14


def test_order_and_ship_to_elements_are_fields() -> None:
    scan = classify(f"]C101{GTIN14}400PO-77{GS}4104012345000009{GS}42075001")
    assert scan.fields[1:] == (
        ScanField("Customer order", "PO-77", "400"),
        ScanField("Ship to (GLN)", "4012345000009", "410"),
        ScanField("Ship-to postal code", "75001", "420"),
    )


def test_a_bad_gtin_check_digit_in_gs1_is_a_misread() -> None:
    with pytest.raises(Misread, match=r"GTIN 04006381333935 in \(01\).*scan again"):
        classify("]C10104006381333935")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("]C12612", 'unknown application identifier at "2612"'),
        ("(999)12", "unknown application identifier (999)"),
        (f"]C101{GTIN14}17271332", '(17) expiry "271332" does not fit N2+N6'),
        (f"]C101{GTIN14}172702", '(17) expiry "2702" does not fit N2+N6'),
        (f"]C101{GTIN14}17270231", '(17) expiry "270231" is not a valid date (YYMMDD)'),
        ("(10)ABC", "it carries no product (01 or 02) and no SSCC (00)"),
        (f"]C101{GTIN14}300", 'the count in (30) is "0", it must be at least 1'),
        (f"]C101{GTIN14}30{GS}10A", 'the count in (30) is "", it must be at least 1'),
        (f"(01){GTIN14}(01)0{EAN13}", "(01) appears twice with different values"),
        (f"]C101{GTIN14}10LÖT", "it contains characters a GS1 barcode cannot carry"),
    ],
)
def test_malformed_gs1_is_refused_with_the_reason(raw: str, reason: str) -> None:
    with pytest.raises(MalformedScan) as caught:
        classify(raw)
    assert str(caught.value).endswith(f"is not a valid GS1 barcode: {reason}.")
    assert caught.value.result == "refused"


def test_a_gs_outside_gs1_data_is_refused() -> None:
    with pytest.raises(MalformedScan, match="not a valid GS1 barcode"):
        classify(f"EMP{GS}0007")


def test_a_symbology_identifier_with_no_data_is_refused() -> None:
    with pytest.raises(MalformedScan, match="symbology identifier but no data"):
        classify("]C1")


def test_other_symbology_identifiers_are_removed() -> None:
    scan = classify("]C0EMP-0007")
    assert (scan.kind, scan.text) == (ScanKind.BADGE, "EMP-0007")
    assert classify("]A0SKU-1").text == "SKU-1"
    assert classify("]E0" + EAN13).gtin == "0" + EAN13


# --- scanner quirks -------------------------------------------------------------------------------


def test_configured_prefix_suffix_and_line_end_are_removed() -> None:
    framed = router(prefix="~", suffix="#")
    scan = framed.classify("~EMP-0007#\r\n")
    assert (scan.kind, scan.text, scan.raw) == (ScanKind.BADGE, "EMP-0007", "~EMP-0007#\r\n")
    assert scan.notes == ("scanner prefix removed", "scanner suffix removed")


def test_prefix_and_suffix_are_optional_because_the_keyboard_is_the_fallback() -> None:
    assert router(prefix="~", suffix="#").classify("EMP-0007").kind is ScanKind.BADGE


def test_surrounding_whitespace_is_removed_and_noted() -> None:
    scan = classify("  \tT-0042 \r\n")
    assert (scan.kind, scan.text, scan.notes) == (
        ScanKind.TOTE,
        "T-0042",
        ("surrounding whitespace removed",),
    )
    assert classify("T-0042\r\n").notes == ()  # the Enter every scan ends with is no quirk


def test_a_doubled_value_is_collapsed() -> None:
    scan = classify("43542104354210")  # 4354210 twice; not a valid GTIN-14 as a whole
    assert (scan.kind, scan.text, scan.notes) == (
        ScanKind.CODE,
        "4354210",
        ("doubled value collapsed",),
    )
    assert classify("EMP-0007EMP-0007").kind is ScanKind.BADGE
    assert classify(EAN13 + EAN13).gtin == "0" + EAN13


def test_a_doubled_framed_value_is_collapsed() -> None:
    scan = router(prefix="~", suffix="#").classify("~EMP-0007#~EMP-0007#\r\n")
    assert (scan.kind, scan.text) == (ScanKind.BADGE, "EMP-0007")


def test_a_valid_whole_is_never_split() -> None:
    whole = "10000041000004"  # a valid GTIN-14 whose halves are equal
    assert classify(whole).gtin == whole
    assert router(order=r"^\d{6}$").classify("123123").kind is ScanKind.ORDER


def test_a_short_repeated_code_is_left_alone() -> None:
    scan = classify("1212")
    assert (scan.kind, scan.text, scan.notes) == (ScanKind.CODE, "1212", ())


def test_a_doubled_misread_is_a_misread() -> None:
    with pytest.raises(Misread):
        classify("40063813339354006381333935")


# --- refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["", "   ", "\r\n", "\t \n"])
def test_an_empty_scan_is_refused(raw: str) -> None:
    with pytest.raises(MalformedScan, match=r"^Nothing was scanned: the scan was empty\.$"):
        classify(raw)


def test_a_scan_of_nothing_but_framing_is_refused() -> None:
    with pytest.raises(MalformedScan, match="nothing but the scanner's prefix or suffix"):
        router(prefix="~", suffix="#").classify("~#\r\n")


@pytest.mark.parametrize(
    ("raw", "marker"),
    [
        ("EMP-\x070007", "<0x07>"),
        ("\x00EMP-0007", "<0x00>"),
        ("EMP\r0007", "<CR>"),
        ("EMP\x1b[31m", "<ESC>"),
        ("T-00\x7f42", "<0x7F>"),
    ],
)
def test_control_characters_are_refused_by_name(raw: str, marker: str) -> None:
    with pytest.raises(MalformedScan, match=f"contains a control character {marker}.$"):
        classify(raw)


def test_invisible_characters_are_refused_by_code_point() -> None:
    with pytest.raises(MalformedScan, match=r"contains an invisible character <U\+202E>"):
        classify("EMP-\u202e7000")


def test_a_refusal_quotes_markup_as_plain_text() -> None:
    with pytest.raises(MalformedScan) as caught:
        classify("[red]boom[/red]\x07")
    assert str(caught.value) == (
        'The scan "[red]boom[/red]<0x07>" contains a control character <0x07>.'
    )


def test_an_overlong_scan_is_refused() -> None:
    with pytest.raises(MalformedScan, match=r"too long for a barcode \(600 characters\)"):
        classify("A" * 600)


def test_scan_errors_share_a_base_and_survive_pickling() -> None:
    with pytest.raises(ScanError) as caught:
        classify("4006381333935")
    copy = pickle.loads(pickle.dumps(caught.value))
    assert (type(copy), str(copy), copy.raw) == (Misread, str(caught.value), "4006381333935")
    assert issubclass(Misread, ValueError) and issubclass(MalformedScan, ScanError)


# --- explain and visible --------------------------------------------------------------------------


def test_visible_names_hidden_characters() -> None:
    assert visible(f"]C1{GS}01\r\n\t\x1b\x07 x\u200b") == (
        "]C1<GS>01<CR><LF><TAB><ESC><0x07> x<U+200B>"
    )
    assert visible("EMP-0007") == "EMP-0007"


def test_explain_a_good_scan_has_no_hints() -> None:
    explanation = explain("EMP-0007\r\n", ROUTER)
    assert explanation == Explanation(
        raw="EMP-0007\r\n",
        visible="EMP-0007<CR><LF>",
        scan=classify("EMP-0007\r\n"),
        error=None,
        hints=(),
    )


def test_explain_a_refusal_keeps_the_error() -> None:
    explanation = explain("4006381333935", ROUTER)
    assert explanation.scan is None
    assert isinstance(explanation.error, Misread)


def test_explain_hints_at_a_missing_suffix() -> None:
    explanation = explain("EMP-0007\r\n", router(suffix="#"))
    assert explanation.scan is not None and explanation.scan.kind is ScanKind.BADGE
    assert explanation.hints == (
        'the configured scanner suffix "#" is missing: set the scanner to send it',
    )


def test_explain_hints_at_a_doubled_value() -> None:
    hints = explain("EMP-0007EMP-0007", ROUTER).hints
    assert hints == (
        "the scanner sent the code twice in one burst: check its re-read delay (same-code timeout)",
    )
    assert "twice in one burst" in explain("40063813339354006381333935", ROUTER).hints[0]


@pytest.mark.parametrize(
    ("raw", "layout", "meant"),
    [
        ("EMP)0007", "AZERTY", "EMP-0007"),  # digits sent from the keypad, '-' garbled
        ("E?P)àààè", "AZERTY", "EMP-0007"),  # everything through the layout
        ("A)03)12)2", "AZERTY", "A-03-12-2"),
        ('\'àà-"_&"""ç"&', "AZERTY", EAN13),  # à&é"'(-è_ç for 0123456789
        ("EMPß0007", "QWERTZ", "EMP-0007"),
        ("CMDßZES", "QWERTZ", "CMD-YES"),  # y and z swapped
    ],
)
def test_explain_spots_a_keyboard_layout_mismatch(raw: str, layout: str, meant: str) -> None:
    explanation = explain(raw, ROUTER)
    assert explanation.scan is None or explanation.scan.kind is ScanKind.CODE
    assert explanation.hints == (
        f"looks like a keyboard-layout mismatch ({layout}): set the scanner to the host's "
        f"layout — would read {meant}",
    )


def test_explain_spots_caps_lock() -> None:
    assert explain("emp-0007", ROUTER).hints == (
        "looks like Caps Lock is on at this terminal: switch it off — would read EMP-0007",
    )


def test_explain_gives_no_layout_hint_for_a_recognised_scan() -> None:
    assert explain("EMP-0007", ROUTER).hints == ()
    assert explain("SKU-1001", ROUTER).hints == ()
