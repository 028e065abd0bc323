"""The scan router: what one burst of scanner keystrokes means.

Every scan passes through :meth:`ScanRouter.classify`, which returns a :class:`Scan` or raises a
:class:`ScanError` (:class:`Misread` for a bad check digit, :class:`MalformedScan` for anything
else that cannot be a barcode). GTIN, UPC, SSCC and GS1 element strings are read by ``biip``; this
module adds our own kinds (config.toml's ``[scanner.patterns]``), UPU S10 tracking numbers and the
quirks of keyboard-wedge scanners.

The order of the questions asked, and the decisions behind it:

1. **Cleaning.** Surrounding whitespace (the Enter the scanner sends, stray spaces or tabs) goes,
   then the configured prefix and suffix (each only when present: the keyboard is the fallback and
   types neither). Empty text, text longer than :data:`MAX_SCAN_LENGTH`, and any control or
   invisible character other than GS (0x1D, FNC1 in GS1 data) are refused.
2. **Symbology identifier.** A leading AIM identifier (``]C1``, ``]E0``, ``]d2``...) is removed.
   GS1 ones (``]C1``, ``]e0``, ``]d2``, ``]Q3``, ``]J1``) force GS1 parsing; EAN/UPC ones (``]E0``,
   ``]E3``, ``]E4``, ``]I1``) prefer the product reading (``]E4`` means EAN-8 and nothing else).
3. **GS1 element strings** — marked by a GS1 identifier, by a GS anywhere (a leading GS is FNC1 in
   first position), or written with brackets ``(01)…(10)…`` — are parsed by biip. AI 00 makes a
   PARCEL, AI 01/02 a PRODUCT; one with neither is refused (we have no use for it).
4. **Configured patterns**, matched in this fixed order: command, badge, bin, tote, rma, order,
   pickup, packaging, parcel (first match wins). They come before product structure, so a site can
   claim any shape, e.g. a courier's 14-digit numbers that would otherwise read as GTIN-14.
5. **Digits of a GTIN length** (8, 12, 13, 14) are a product; a wrong check digit is a Misread.
   Eight digits: a valid **EAN-8 is EAN-8**; otherwise a valid UPC-E is expanded to UPC-A. When a
   code is valid both ways the GTIN is the EAN-8 one, ``lookup_codes`` also carry the UPC-E and its
   UPC-A spellings, and a note says so (a catalogue that stores the UPC-A still finds it).
6. **Bare GS1 data** — the scanner dropped ``]C1``: text starting ``00``/``01``/``02`` and long
   enough is tried as GS1, and kept only if it parses completely with a valid GTIN or SSCC.
   Otherwise it falls through (it may be someone's SKU) — but an SSCC with its AI and nothing
   else (``00`` + 18 digits) with a wrong check digit is a Misread: nothing else has that shape.
7. **UPU S10** tracking numbers (``RR473124829GB``): a PARCEL; a wrong check digit is a Misread.
8. **Anything else clean is CODE** — including digits of other lengths (6 or 7 digits read as a
   SKU far more often than as an unchecked UPC-E; 18 bare digits are more often a courier's number
   than an SSCC without its AI). Stations look CODE up as an internal SKU or a tracking number.

**Doubled value.** Some scanners send the same code twice in one burst (``EMP-0007EMP-0007``). When
the whole text is not itself valid as something other than CODE and its two halves are equal (or
are two framed copies: ``X<suffix><prefix>X``), the half is used — if the half reads as a real kind,
or the whole was refused, or the half is at least :data:`MIN_DOUBLED_HALF` characters long (so a
SKU such as ``1212`` is left alone). A doubled misread is reported as the misread.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import ClassVar

from biip import ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_element_strings import GS1ElementString
from biip.gs1_messages import GS1Message
from biip.gtin import Gtin
from biip.symbology import GS1Symbology, SymbologyIdentifier
from biip.upc import Upc, UpcFormat

from picker.domain.tracking import is_valid_s10

#: Longer than any barcode a wedge scanner sends us; refused rather than pattern-matched.
MAX_SCAN_LENGTH = 500
#: A doubled CODE is collapsed only when each half is at least this long.
MIN_DOUBLED_HALF = 4

GS = "\x1d"

NOTE_PREFIX = "scanner prefix removed"
NOTE_SUFFIX = "scanner suffix removed"
NOTE_WHITESPACE = "surrounding whitespace removed"
NOTE_DOUBLED = "doubled value collapsed"
NOTE_FNC1 = "leading FNC1 (<GS>) removed"


class ScanKind(StrEnum):
    """What a scan is, for the station to act on."""

    BADGE = "badge"
    BIN = "bin"
    TOTE = "tote"
    ORDER = "order"
    #: A return authorisation (RMA-…).
    RMA = "rma"
    COMMAND = "command"
    PICKUP = "pickup"
    PACKAGING = "packaging"
    PRODUCT = "product"
    PARCEL = "parcel"
    #: Clean text matching nothing else: stations may look it up as an internal SKU or a
    #: tracking number.
    CODE = "code"


@dataclass(frozen=True)
class ScanField:
    """One parsed element, for display and the journal."""

    name: str
    value: str
    ai: str | None = None


@dataclass(frozen=True)
class Scan:
    """A classified scan."""

    raw: str
    text: str
    kind: ScanKind
    gtin: str | None = None
    lookup_codes: tuple[str, ...] = ()
    sscc: str | None = None
    quantity: int = 1
    fields: tuple[ScanField, ...] = ()
    notes: tuple[str, ...] = ()


class ScanError(ValueError):
    """A refused scan; ``str(exc)`` is one sentence for the person holding the scanner."""

    result: ClassVar[str] = "refused"

    def __init__(self, message: str, raw: str = "") -> None:
        super().__init__(message)
        self.raw = raw

    def __reduce__(self) -> tuple[type[ScanError], tuple[str, str]]:
        return type(self), (str(self), self.raw)


class Misread(ScanError):
    """A check digit does not match: the scanner misread the code, scan again."""

    result = "misread"


class MalformedScan(ScanError):
    """Not a barcode we can read: empty, control characters, bad GS1 data..."""

    result = "refused"


# --- showing text -------------------------------------------------------------------------------

_NAMED_CONTROLS = {GS: "<GS>", "\r": "<CR>", "\n": "<LF>", "\t": "<TAB>", "\x1b": "<ESC>"}


def _hidden(char: str) -> str | None:
    """How ``char`` is shown when it would be invisible, or None when it shows as itself."""
    if char in _NAMED_CONTROLS:
        return _NAMED_CONTROLS[char]
    if unicodedata.category(char) == "Cc":
        return f"<0x{ord(char):02X}>"
    if char != " " and not char.isprintable():
        return f"<U+{ord(char):04X}>"
    return None


def visible(raw: str) -> str:
    """``raw`` with hidden characters shown: ``<GS>``, ``<CR>``, ``<LF>``, ``<TAB>``, ``<ESC>``,
    other controls as ``<0xNN>``, other invisible characters as ``<U+NNNN>``."""
    return "".join(_hidden(c) or c for c in raw)


def _shown(text: str, limit: int = 60) -> str:
    """``text`` for a message: visible, quoted, cut short when long."""
    shown = visible(text)
    if len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    return f'"{shown}"'


# --- cleaning -----------------------------------------------------------------------------------

# Whitespace as str.strip() knows it, minus FS/GS/RS/US (0x1C-0x1F): GS is FNC1 in GS1 data.
_WHITESPACE = "".join(
    c for c in map(chr, range(0x3001)) if c.isspace() and c not in "\x1c\x1d\x1e\x1f"
)


def _strip_ws(text: str) -> str:
    return text.strip(_WHITESPACE)


# --- products -----------------------------------------------------------------------------------

_DIGITS = re.compile(r"[0-9]+")
_GTIN_LENGTHS = (8, 12, 13, 14)
_FORMAT_NAMES = {8: "EAN-8", 12: "UPC-A", 13: "EAN-13", 14: "GTIN-14"}


def _gtin(code: str) -> Gtin | None:
    try:
        return Gtin.parse(code)
    except ParseError:
        return None


def _upc_e(code: str) -> Upc | None:
    try:
        upc = Upc.parse(code)
    except ParseError:
        return None
    return upc if upc.format is UpcFormat.UPC_E else None


def _spellings(gtin: Gtin) -> tuple[str, ...]:
    """Every length (8/12/13/14) the GTIN can be written in with leading zeros, shortest first."""
    spell = {8: gtin.as_gtin_8, 12: gtin.as_gtin_12, 13: gtin.as_gtin_13, 14: gtin.as_gtin_14}
    return tuple(spell[n]() for n in _GTIN_LENGTHS if n >= gtin.format.length)


def _unique(codes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(codes))


# --- GS1 ----------------------------------------------------------------------------------------

_GS1_SYMBOLOGIES = GS1Symbology.with_gs1_messages()
_GTIN_SYMBOLOGIES = GS1Symbology.with_gtin()
_SYMBOLOGY_SHAPE = re.compile(r"\][A-Za-z][0-9A-Za-z]")
_HRI_START = re.compile(r"\(\s*[0-9]{2,4}\s*\)")
_HRI_WHOLE = re.compile(r"(?:\([0-9]{2,4}\)[^()]+)+")
_BARE_GS1 = re.compile(r"0[0-2][0-9]{14}")
#: A whole SSCC with its AI and nothing else: 00 + 18 digits.
_BARE_SSCC = re.compile(r"00[0-9]{18}")

_FIELD_NAMES = {
    "00": "SSCC",
    "01": "GTIN",
    "02": "Content GTIN",
    "10": "Lot",
    "11": "Production date",
    "12": "Due date",
    "13": "Packaging date",
    "15": "Best before",
    "16": "Sell by",
    "17": "Expiry",
    "21": "Serial",
    "30": "Count",
    "37": "Count",
    "400": "Customer order",
    "410": "Ship to (GLN)",
    "420": "Ship-to postal code",
}
_MEASURE_PREFIXES = ("31", "32", "33", "34", "35", "36")
_UNIT = re.compile(r"\(([^)]+)\)")


def _title(ai: GS1ApplicationIdentifier) -> str:
    return ai.data_title.capitalize()


def _field(element: GS1ElementString) -> ScanField:
    """One element string as a name and a human-readable value."""
    code = element.ai.ai
    name = _FIELD_NAMES.get(code) or _title(element.ai)
    value = element.value
    if element.datetime is not None:
        value = element.datetime.isoformat(sep=" ")
    elif element.date is not None:
        value = element.date.isoformat()
    elif element.decimal is not None:
        value = f"{element.decimal:f}"
        unit = _UNIT.search(element.ai.data_title)
        if code.startswith(_MEASURE_PREFIXES) and unit:
            value = f"{value} {unit.group(1)}"
    return ScanField(name=name, value=value, ai=code)


def _ai_named(code: str) -> str:
    """``(17) expiry`` for a message, or just ``(17)`` when biip does not know it."""
    try:
        ai = GS1ApplicationIdentifier.extract(code)
    except ParseError:
        return f"({code})"
    return f"({ai.ai}) {_FIELD_NAMES.get(ai.ai, _title(ai)).lower()}"


_BIIP_UNKNOWN_AI = re.compile(r"Failed to get GS1 Application Identifier from '(.*)'\.", re.S)
_BIIP_UNKNOWN_HRI_AI = re.compile(r"Unknown GS1 Application Identifier '(\d+)'")
_BIIP_NO_MATCH = re.compile(r"Failed to match '(.*)' with GS1 AI \((\d+)\) pattern", re.S)
_BIIP_BAD_DATE = re.compile(r"Failed to parse GS1 AI \((\d+)\) date/time from '(.*)'\.", re.S)


def _describe_gs1_error(exc: ParseError) -> str:
    """biip's reason, in the warehouse's words when we recognise it."""
    message = str(exc)
    if m := _BIIP_UNKNOWN_AI.fullmatch(message):
        return f"unknown application identifier at {_shown(m.group(1), 16)}"
    if m := _BIIP_UNKNOWN_HRI_AI.search(message):
        return f"unknown application identifier ({m.group(1)})"
    if m := _BIIP_NO_MATCH.match(message):
        code, data = m.group(2), m.group(1)
        try:
            expected = GS1ApplicationIdentifier.extract(code).format
        except ParseError:  # pragma: no cover - biip named an AI it knows
            expected = "its format"
        value = data[len(code) :] if data.startswith(code) else data
        return f"{_ai_named(code)} {_shown(value, 24)} does not fit {expected}"
    if m := _BIIP_BAD_DATE.match(message):
        return f"{_ai_named(m.group(1))} {_shown(m.group(2), 16)} is not a valid date (YYMMDD)"
    return message


# --- keyboard layouts (for explain) -------------------------------------------------------------

# What a scanner set to a US layout types on a host set to another layout, mapped back to what was
# meant. Digits received as digits are left alone: many scanners send them from the keypad, which
# every layout agrees on. Each layout has a full table and one for the digit row and punctuation
# only (for scanners whose letters come through right).
_AZERTY_DIGITS = {
    "à": "0",
    "&": "1",
    "é": "2",
    '"': "3",
    "'": "4",
    "(": "5",
    "-": "6",
    "è": "7",
    "_": "8",
    "ç": "9",
    ")": "-",
    "°": "_",
}
_AZERTY_LETTERS = {
    **dict(zip("aqzwAQZW", "qawzQAWZ", strict=True)),
    "m": ";",
    "M": ":",
    ",": "m",
    "?": "M",
    ";": ",",
    ":": ".",
    "!": "/",
    "§": "?",
    ".": "<",
    "/": ">",
    "ù": "'",
    "%": '"',
}
_QWERTZ_PUNCT = {"ß": "-", "?": "_", "-": "/"}
_QWERTZ_LETTERS = {
    **dict(zip("yzYZ", "zyZY", strict=True)),
    "ö": ";",
    "Ö": ":",
    "ä": "'",
    "Ä": '"',
    "ü": "[",
    "+": "]",
}


def _table(*mappings: dict[str, str]) -> dict[int, int]:
    merged = {k: v for mapping in mappings for k, v in mapping.items()}
    return str.maketrans("".join(merged), "".join(merged.values()))


_AZERTY_FULL = _table(_AZERTY_DIGITS, _AZERTY_LETTERS)
_AZERTY_PUNCT = _table(_AZERTY_DIGITS)
_QWERTZ_FULL = _table(_QWERTZ_PUNCT, _QWERTZ_LETTERS)
_QWERTZ_PUNCT_ONLY = _table(_QWERTZ_PUNCT)


def _layout_tables(raw: str) -> Iterator[tuple[str, dict[int, int]]]:
    """Layout name and translation tables to try on ``raw``, the likelier first.

    On AZERTY the digits sit on shifted keys, so a scan whose digits arrived as digits most likely
    came through the keypad with its letters intact: then the punctuation-only table goes first.
    On QWERTZ digits agree, and letters always go through the layout: the full table goes first.
    """
    if re.search(r"[0-9]", raw):
        yield from (("AZERTY", _AZERTY_PUNCT), ("AZERTY", _AZERTY_FULL))
    else:
        yield from (("AZERTY", _AZERTY_FULL), ("AZERTY", _AZERTY_PUNCT))
    yield from (("QWERTZ", _QWERTZ_FULL), ("QWERTZ", _QWERTZ_PUNCT_ONLY))


# --- the router ---------------------------------------------------------------------------------

#: Configured pattern keys, in the order they are tried.
PATTERN_ORDER: tuple[tuple[str, ScanKind], ...] = (
    ("command", ScanKind.COMMAND),
    ("badge", ScanKind.BADGE),
    ("bin", ScanKind.BIN),
    ("tote", ScanKind.TOTE),
    ("rma", ScanKind.RMA),
    ("order", ScanKind.ORDER),
    ("pickup", ScanKind.PICKUP),
    ("packaging", ScanKind.PACKAGING),
    ("parcel", ScanKind.PARCEL),
)

_S10_SHAPE = re.compile(r"[A-Z]{2}[0-9]{9}[A-Z]{2}")


class ScanRouter:
    """Classifies scans by config.toml's ``[scanner]`` prefix, suffix and patterns."""

    def __init__(
        self, patterns: Mapping[str, re.Pattern[str]], prefix: str = "", suffix: str = ""
    ) -> None:
        self._patterns = tuple(
            (kind, re.compile(patterns[key])) for key, kind in PATTERN_ORDER if key in patterns
        )
        # A whitespace prefix/suffix (a Tab suffix, say) goes with the surrounding whitespace.
        self.prefix = _strip_ws(prefix)
        self.suffix = _strip_ws(suffix)

    def classify(self, raw: str) -> Scan:
        """What ``raw`` is; raises only :class:`ScanError` (subclasses), whatever the text."""
        try:
            return self._classify(raw)
        except ScanError:
            raise
        except Exception as exc:  # a library tripping on garbage must not crash a station
            raise MalformedScan(f"The scan {_shown(raw)} could not be read.", raw) from exc

    def _classify(self, raw: str) -> Scan:
        text, notes = self._clean(raw)
        whole, error = self._attempt(raw, text, notes)
        if whole is not None and whole.kind is not ScanKind.CODE:
            return whole
        half = self.doubled_half(text)
        if half is not None:
            convincing = whole is None or len(half) >= MIN_DOUBLED_HALF
            scan, half_error = self._attempt(raw, half, (*notes, NOTE_DOUBLED))
            if scan is not None and (scan.kind is not ScanKind.CODE or convincing):
                return scan
            if half_error is not None and convincing:
                raise half_error
        if whole is not None:
            return whole
        assert error is not None
        raise error

    def doubled_half(self, text: str) -> str | None:
        """One copy when ``text`` is the same code twice (bare or each framed), else None."""
        size = len(text)
        if size >= 2 and size % 2 == 0 and text[: size // 2] == text[size // 2 :]:
            return text[: size // 2]
        separator = self.suffix + self.prefix
        if separator:
            parts = text.split(separator)
            if len(parts) == 2 and parts[0] and parts[0] == parts[1]:
                return parts[0]
        return None

    # --- steps ----------------------------------------------------------------------------------

    def _clean(self, raw: str) -> tuple[str, tuple[str, ...]]:
        notes: list[str] = []
        text = _strip_ws(raw)
        if text != raw.rstrip("\r\n"):
            notes.append(NOTE_WHITESPACE)
        if self.prefix and text.startswith(self.prefix):
            text = text[len(self.prefix) :]
            notes.append(NOTE_PREFIX)
        if self.suffix and text.endswith(self.suffix):
            text = text[: -len(self.suffix)]
            notes.append(NOTE_SUFFIX)
        text = _strip_ws(text)
        if not text:
            if _strip_ws(raw):
                raise MalformedScan(
                    f"The scan {_shown(raw)} holds nothing but the scanner's prefix or suffix.",
                    raw,
                )
            raise MalformedScan("Nothing was scanned: the scan was empty.", raw)
        if len(text) > MAX_SCAN_LENGTH:
            raise MalformedScan(
                f"The scan {_shown(text)} is too long for a barcode ({len(text)} characters).",
                raw,
            )
        for char in text:
            if char == GS:
                continue
            marker = _hidden(char)
            if marker is not None:
                what = (
                    "a control character"
                    if unicodedata.category(char) == "Cc"
                    else "an invisible character"
                )
                raise MalformedScan(f"The scan {_shown(text)} contains {what} {marker}.", raw)
        return text, tuple(notes)

    def _attempt(
        self, raw: str, text: str, notes: tuple[str, ...]
    ) -> tuple[Scan, None] | tuple[None, ScanError]:
        try:
            return self._interpret(raw, text, notes), None
        except ScanError as exc:
            return None, exc

    def _interpret(self, raw: str, text: str, notes: tuple[str, ...]) -> Scan:
        symbology = _symbology(text)
        data = text
        if symbology is not None:
            data = text[len(symbology) :]
            notes = (*notes, f"symbology identifier {symbology} removed")
            if not data.strip(GS):
                raise MalformedScan(
                    f"The scan {_shown(text)} has a symbology identifier but no data.", raw
                )
        gs1_symbology = symbology.gs1_symbology if symbology is not None else None

        if gs1_symbology in _GS1_SYMBOLOGIES or GS in data or _HRI_START.match(data):
            scan = self._gs1(raw, data, notes, strict=True)
            assert scan is not None
            return scan

        if gs1_symbology in _GTIN_SYMBOLOGIES and _DIGITS.fullmatch(data):
            addon: tuple[ScanField, ...] = ()
            if gs1_symbology is GS1Symbology.EAN_13_WITH_ADD_ON and len(data) in (15, 18):
                data, addon = data[:13], (ScanField("Add-on", data[13:]),)
            if len(data) in _GTIN_LENGTHS:
                scan = self._product(
                    raw, data, notes, ean8_only=gs1_symbology is GS1Symbology.EAN_8
                )
                return _with_fields(scan, addon)

        for kind, pattern in self._patterns:
            if pattern.fullmatch(data):
                return Scan(raw=raw, text=data, kind=kind, notes=notes)

        if _DIGITS.fullmatch(data) and len(data) in _GTIN_LENGTHS:
            return self._product(raw, data, notes)

        if _BARE_GS1.match(data):
            bare = self._gs1(raw, data, notes, strict=False)
            if bare is not None:
                return bare

        if _S10_SHAPE.fullmatch(data):
            if not is_valid_s10(data):
                raise Misread(
                    f"Tracking number {_shown(data)} has a wrong check digit: "
                    "it was misread, scan again.",
                    raw,
                )
            return Scan(
                raw=raw,
                text=data,
                kind=ScanKind.PARCEL,
                fields=(ScanField("Tracking number (S10)", data),),
                notes=notes,
            )

        return Scan(raw=raw, text=data, kind=ScanKind.CODE, notes=notes)

    def _product(
        self, raw: str, text: str, notes: tuple[str, ...], *, ean8_only: bool = False
    ) -> Scan:
        """An EAN-8/UPC-A/EAN-13/GTIN-14 (or 8-digit UPC-E), check digit verified."""
        gtin = _gtin(text)
        upc_e = _upc_e(text) if len(text) == 8 and not ean8_only else None
        upc_a = _gtin(upc_e.as_upc_a()) if upc_e is not None else None
        codes: tuple[str, ...] = (text,)
        if gtin is not None:
            codes += _spellings(gtin)
            if upc_a is not None:
                notes = (*notes, f"also valid as UPC-E (UPC-A {upc_a.as_gtin_12()})")
        elif upc_a is not None:
            gtin = upc_a
            notes = (*notes, f"UPC-E expanded to UPC-A {upc_a.as_gtin_12()}")
        else:
            name = "EAN-8/UPC-E" if len(text) == 8 and not ean8_only else _FORMAT_NAMES[len(text)]
            raise Misread(
                f"{name} {_shown(text)} has a wrong check digit: it was misread, scan again.", raw
            )
        if upc_a is not None:
            codes += _spellings(upc_a)
        return Scan(
            raw=raw,
            text=text,
            kind=ScanKind.PRODUCT,
            gtin=gtin.as_gtin_14(),
            lookup_codes=_unique(codes),
            notes=notes,
        )

    def _gs1(self, raw: str, data: str, notes: tuple[str, ...], *, strict: bool) -> Scan | None:
        """A GS1 element string. Not ``strict`` (bare digits, no GS1 marker): None when it is
        not a complete, valid one carrying a GTIN or SSCC, instead of raising."""
        body = data.strip(GS)
        if data.startswith(GS):
            notes = (*notes, NOTE_FNC1)

        def refuse(reason: str) -> None:
            if strict:
                raise MalformedScan(
                    f"The scan {_shown(body or data)} is not a valid GS1 barcode: {reason}.", raw
                )

        if not body:
            refuse("it holds no data")
            return None
        if not body.isascii():
            refuse("it contains characters a GS1 barcode cannot carry")
            return None
        is_hri = body.startswith("(")
        if is_hri and not _HRI_WHOLE.fullmatch("".join(body.split())):
            refuse("the bracketed form must be (AI)value(AI)value")
            return None
        try:
            message = GS1Message.parse_hri(body) if is_hri else GS1Message.parse(body)
        except ParseError as exc:
            refuse(_describe_gs1_error(exc))
            return None
        except Exception:  # biip on garbage: never let it crash a station
            refuse("it could not be read")
            return None

        elements: dict[str, GS1ElementString] = {}
        for element in message.element_strings:
            code = element.ai.ai
            bad = element.gtin_error or element.sscc_error or element.gln_error
            if bad:
                # Bare, a wrong check digit means "not GS1" — except for a whole SSCC with its
                # AI (00 + 18 digits): nothing else has that shape, so it is a misread SSCC.
                if not strict and not (element.sscc_error and _BARE_SSCC.fullmatch(body)):
                    return None
                label = "SSCC" if element.sscc_error else "GLN" if element.gln_error else "GTIN"
                raise Misread(
                    f"The {label} {element.value} in ({code}) has a wrong check digit: "
                    "it was misread, scan again.",
                    raw,
                )
            if code in elements and elements[code].value != element.value:
                refuse(f"({code}) appears twice with different values")
                return None
            elements.setdefault(code, element)

        quantity = 1
        for code in ("37", "30"):
            if code in elements:
                count = elements[code].value
                if not count or int(count) == 0:
                    refuse(f"the count in ({code}) is {_shown(count)}, it must be at least 1")
                    return None
                quantity = int(count)
                break

        fields = tuple(_field(e) for e in message.element_strings)
        if "00" in elements:
            return Scan(
                raw=raw,
                text=body,
                kind=ScanKind.PARCEL,
                sscc=elements["00"].value,
                quantity=quantity,
                fields=fields,
                notes=notes,
            )
        trade_item = elements.get("01") or elements.get("02")
        gtin = trade_item.gtin if trade_item is not None else None
        if gtin is None:
            refuse("it carries no product (01 or 02) and no SSCC (00)")
            return None
        return Scan(
            raw=raw,
            text=body,
            kind=ScanKind.PRODUCT,
            gtin=gtin.as_gtin_14(),
            lookup_codes=_spellings(gtin),
            quantity=quantity,
            fields=fields,
            notes=notes,
        )


def _symbology(text: str) -> SymbologyIdentifier | None:
    """The AIM symbology identifier ``text`` starts with, if any."""
    if not _SYMBOLOGY_SHAPE.match(text):
        return None
    try:
        return SymbologyIdentifier.extract(text)
    except Exception:  # unknown code character, or biip tripping on a short ]Y
        return None


def _with_fields(scan: Scan, extra: tuple[ScanField, ...]) -> Scan:
    return replace(scan, fields=scan.fields + extra) if extra else scan


# --- explain ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Explanation:
    """A scan taken apart for a lead setting up a scanner: what arrived, what it means, and what
    about the scanner's settings looks wrong."""

    raw: str
    visible: str
    scan: Scan | None
    error: ScanError | None
    hints: tuple[str, ...]


def _outcome(raw: str, router: ScanRouter) -> tuple[Scan | None, ScanError | None]:
    try:
        return router.classify(raw), None
    except ScanError as exc:
        return None, exc


def _recognised(scan: Scan | None) -> bool:
    return scan is not None and scan.kind is not ScanKind.CODE


def explain(raw: str, router: ScanRouter) -> Explanation:
    """Classify ``raw`` and say what looks mis-set: a missing prefix or suffix, a doubled value,
    a keyboard-layout mismatch, Caps Lock."""
    scan, error = _outcome(raw, router)
    hints: list[str] = []
    stripped = _strip_ws(raw)
    if stripped and router.suffix and not stripped.endswith(router.suffix):
        hints.append(
            f"the configured scanner suffix {_shown(router.suffix)} is missing: "
            "set the scanner to send it"
        )
    if stripped and router.prefix and not stripped.startswith(router.prefix):
        hints.append(
            f"the configured scanner prefix {_shown(router.prefix)} is missing: "
            "set the scanner to send it"
        )
    doubled = scan is not None and NOTE_DOUBLED in scan.notes
    if not doubled and scan is None:
        try:
            text, _ = router._clean(raw)
        except ScanError:
            text = ""
        doubled = bool(text) and router.doubled_half(text) is not None
    if doubled:
        hints.append(
            "the scanner sent the code twice in one burst: "
            "check its re-read delay (same-code timeout)"
        )
    if not _recognised(scan):
        hints.extend(_layout_hints(raw, router))
    return Explanation(raw=raw, visible=visible(raw), scan=scan, error=error, hints=tuple(hints))


def _layout_hints(raw: str, router: ScanRouter) -> Iterator[str]:
    hinted: set[str] = set()
    for name, table in _layout_tables(raw):
        translated = raw.translate(table)
        if name in hinted or translated == raw:
            continue
        fixed, _ = _outcome(translated, router)
        if fixed is not None and _recognised(fixed):
            hinted.add(name)
            yield (
                f"looks like a keyboard-layout mismatch ({name}): set the scanner to the "
                f"host's layout — would read {visible(fixed.text)}"
            )
    swapped = raw.swapcase()
    if swapped != raw:
        fixed, _ = _outcome(swapped, router)
        if fixed is not None and _recognised(fixed):
            yield (
                "looks like Caps Lock is on at this terminal: switch it off — "
                f"would read {visible(fixed.text)}"
            )
