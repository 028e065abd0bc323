"""A floor described in a file: zones, couriers with their services and numbers, packaging, totes.

``picker setup apply`` reads a TOML file into a :class:`FloorSpec` (every mistake named by where
it is, all of them at once, so one edit fixes the file) and makes the database match it;
``picker setup export`` writes one back with :func:`to_toml`. A section the file leaves out
(``[[packaging]]``, ``[totes]``…) is not managed by that file and is left as it is; a section
given empty (``packaging = []``, ``[totes] codes = []``) means "none": everything in it retires.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from picker.domain.cutoffs import CutoffError, cutoff_text, parse_cutoff
from picker.domain.tracking import KINDS, Scheme, TrackingError

#: The most totes one file may list (ranges expanded): a typo like T-0001..T-9999999 is refused.
MAX_TOTES = 100_000

_COURIER_CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,15}")
_SERVICE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
_LANE = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,15}")
_ZONE = re.compile(r"[A-Z0-9]{1,8}")
_PACKAGING_CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,31}")
_RANGE = re.compile(r"^(?P<head>.*?)(?P<first>\d+)\.\.(?P=head)(?P<last>\d+)$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

T = TypeVar("T")


class SetupError(ValueError):
    """A set-up file that cannot be applied: every problem, one per line, each named by where it
    is (``couriers[2] (SWIFT) tracking: …``)."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class ZoneSpec:
    code: str
    name: str


@dataclass(frozen=True)
class TrackingSpec:
    """A courier's numbers: ``scheme`` s10 (prefix = service letters, country), mod10 (prefix
    digits, whole ``length``) or range (text prefix, ``first``..``last``); ``first``/``last``
    bound an s10 or mod10 block too."""

    scheme: str
    prefix: str = ""
    country: str | None = None
    first: int | None = None
    last: int | None = None
    length: int | None = None

    def as_scheme(self) -> Scheme:
        width = self.length - len(self.prefix) - 1 if self.length is not None else 11
        return Scheme(self.scheme, self.prefix, self.country, self.first, self.last, width)


@dataclass(frozen=True)
class ServiceSpec:
    code: str
    name: str
    express: bool = False
    cutoffs: tuple[str, ...] = ()  # "HH:MM", earliest first
    promised_days: int | None = None


@dataclass(frozen=True)
class CourierSpec:
    code: str
    name: str
    lane: str
    label: str
    tracking: TrackingSpec
    tracking_url: str | None = None
    services: tuple[ServiceSpec, ...] = ()


@dataclass(frozen=True)
class PackagingSpec:
    code: str
    barcode: str
    name: str
    tare_g: int
    length_mm: int
    width_mm: int
    height_mm: int
    max_weight_g: int | None = None


@dataclass(frozen=True)
class FloorSpec:
    """The whole file. ``None`` for a section the file does not manage."""

    zones: tuple[ZoneSpec, ...] | None = None
    couriers: tuple[CourierSpec, ...] | None = None
    packaging: tuple[PackagingSpec, ...] | None = None
    totes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Rules:
    """What a file is checked against besides itself: the label layouts there are, and the
    scanner's patterns for packaging and tote codes (a code the scanner would not read as one
    would be useless on the floor)."""

    layouts: frozenset[str] = frozenset()
    packaging_pattern: str = ""
    tote_pattern: str = ""
    layouts_dir: str = "labels/"


# --- reading ---------------------------------------------------------------------------------


@dataclass
class _Reader:
    problems: list[str] = field(default_factory=list)

    def fail(self, where: str, words: str) -> None:
        self.problems.append(f"{where}: {words}")

    def table(self, where: str, value: Any, keys: Iterable[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(where, f"must be a table of keys ({', '.join(keys)})")
            return {}
        unknown = sorted(set(value) - set(keys))
        if unknown:
            self.fail(
                where,
                f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
                f"(known: {', '.join(keys)})",
            )
        return value

    def text(
        self,
        where: str,
        data: Mapping[str, Any],
        key: str,
        *,
        limit: int,
        pattern: re.Pattern[str] | None = None,
        shape: str = "",
        required: bool = True,
    ) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                self.fail(where, f"{key} is missing")
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(where, f"{key} must be a text, not {json.dumps(value)}")
            return None
        value = value.strip()
        if _CONTROL.search(value):
            self.fail(where, f"{key} {value!r} holds a control character")
        elif len(value) > limit:
            self.fail(where, f"{key} {value!r} is longer than {limit} characters")
        elif pattern is not None and not pattern.fullmatch(value):
            self.fail(where, f"{key} {value!r} must be {shape}")
        return value

    def number(
        self,
        where: str,
        data: Mapping[str, Any],
        key: str,
        *,
        least: int,
        most: int = 2**53,
        required: bool = True,
    ) -> int | None:
        value = data.get(key)
        if value is None:
            if required:
                self.fail(where, f"{key} is missing")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(where, f"{key} must be a whole number, not {json.dumps(value, default=str)}")
            return None
        if not least <= value <= most:
            self.fail(where, f"{key} {value} must be from {least} to {most}")
            return None
        return value

    def flag(self, where: str, data: Mapping[str, Any], key: str) -> bool:
        value = data.get(key, False)
        if not isinstance(value, bool):
            self.fail(where, f"{key} must be true or false, not {json.dumps(value, default=str)}")
            return False
        return value

    def items(self, where: str, value: Any) -> list[Any]:
        if not isinstance(value, list):
            self.fail(where, "must be a list (written [[…]] tables or […])")
            return []
        return value

    def unique(self, where: str, what: str, values: Iterable[str]) -> None:
        seen: set[str] = set()
        for v in values:
            if v in seen:
                self.fail(where, f"{what} {v!r} is given twice")
            seen.add(v)


_TOP = ("zones", "couriers", "packaging", "totes")
_COURIER = ("code", "name", "lane", "label", "tracking", "tracking_url", "services")
_TRACKING = ("scheme", "prefix", "country", "first", "last", "length")
_SERVICE = ("code", "name", "express", "cutoffs", "promised_days")
_PACKAGING = (
    "code", "barcode", "name", "tare_g", "max_weight_g", "length_mm", "width_mm", "height_mm",
)  # fmt: skip


def read_spec(data: Mapping[str, Any], rules: Rules) -> FloorSpec:
    """The floor a parsed TOML file describes; :class:`SetupError` with every problem."""
    r = _Reader()
    r.table("the file", dict(data), _TOP)
    zones = _section(data, "zones", lambda v: _zones(r, v))
    couriers = _section(data, "couriers", lambda v: _couriers(r, v, rules))
    packaging = _section(data, "packaging", lambda v: _packaging(r, v, rules))
    totes = _section(data, "totes", lambda v: _totes(r, v, rules))
    if r.problems:
        raise SetupError(r.problems)
    return FloorSpec(zones, couriers, packaging, totes)


def _section(data: Mapping[str, Any], key: str, read: Callable[[Any], T]) -> T | None:
    return read(data[key]) if key in data else None


def _zones(r: _Reader, value: Any) -> tuple[ZoneSpec, ...]:
    zones = []
    for n, item in enumerate(r.items("zones", value), start=1):
        where = f"zones[{n}]"
        t = r.table(where, item, ("code", "name"))
        code = r.text(where, t, "code", limit=8, pattern=_ZONE, shape="1-8 capitals or digits")
        name = r.text(f"{where} ({code})", t, "name", limit=100)
        if code and name:
            zones.append(ZoneSpec(code, name))
    r.unique("zones", "zone", (z.code for z in zones))
    return tuple(zones)


def _entry(
    r: _Reader,
    at: str,
    item: Any,
    keys: Sequence[str],
    *,
    limit: int,
    pattern: re.Pattern[str],
    shape: str,
) -> tuple[dict[str, Any], str | None, str]:
    """One ``[[section]]`` table: its keys, its code, and where it is for the next messages
    (``couriers[2] (SWIFT)``, or ``couriers[2]`` when the code is missing or bad)."""
    t = r.table(at, item, keys)
    code = r.text(at, t, "code", limit=limit, pattern=pattern, shape=shape)
    return t, code, f"{at} ({code})" if code else at


def _couriers(r: _Reader, value: Any, rules: Rules) -> tuple[CourierSpec, ...]:
    couriers = []
    for n, item in enumerate(r.items("couriers", value), start=1):
        t, code, where = _entry(
            r, f"couriers[{n}]", item, _COURIER, limit=16, pattern=_COURIER_CODE,
            shape="capitals, digits, '-' or '_' (e.g. POST)",
        )  # fmt: skip
        name = r.text(where, t, "name", limit=100)
        lane = r.text(
            where, t, "lane", limit=16, pattern=_LANE, shape="capitals, digits, '-' or '_'"
        )
        label = r.text(where, t, "label", limit=64)
        if label and label not in rules.layouts:
            there = ", ".join(sorted(rules.layouts)) or "none there"
            r.fail(where, f"label {label!r} is not a layout in {rules.layouts_dir} ({there})")
        tracking = _tracking(r, f"{where} tracking", t.get("tracking"))
        url = r.text(where, t, "tracking_url", limit=300, required=False)
        if url and (not re.match(r"^https?://", url) or "{tracking}" not in url):
            r.fail(
                where, f"tracking_url {url!r} must be an http(s) address with {{tracking}} in it"
            )
        services = _services(r, where, t.get("services"))
        if code and name and lane and label and tracking:
            couriers.append(CourierSpec(code, name, lane, label, tracking, url, services))
    r.unique("couriers", "courier", (c.code for c in couriers))
    r.unique("couriers", "lane", (c.lane for c in couriers))
    return tuple(couriers)


def _tracking(r: _Reader, where: str, value: Any) -> TrackingSpec | None:
    if value is None:
        r.fail(where, 'is missing (e.g. { scheme = "s10", prefix = "RR", country = "PL" })')
        return None
    t = r.table(where, value, _TRACKING)
    found = len(r.problems)
    scheme = r.text(where, t, "scheme", limit=8)
    if scheme is None:
        return None
    if scheme not in KINDS:
        r.fail(where, f"scheme {scheme!r} is unknown (it is one of {', '.join(KINDS)})")
        return None
    prefix = t.get("prefix", "")
    if not isinstance(prefix, str) or len(prefix) > 16 or _CONTROL.search(prefix):
        r.fail(where, f"prefix {json.dumps(prefix, default=str)} must be a text of 16 or fewer")
        return None
    if scheme == "s10" and not prefix:
        r.fail(where, "prefix is missing: an s10 scheme needs its two service letters")
        return None
    country = r.text(where, t, "country", limit=2, required=scheme == "s10")
    if scheme != "s10" and country is not None:
        r.fail(where, f"country is for s10 numbers only, not {scheme}")
    first = r.number(where, t, "first", least=0, required=scheme == "range")
    last = r.number(where, t, "last", least=0, required=scheme == "range")
    length = r.number(where, t, "length", least=2, most=40, required=False)
    if scheme != "mod10" and length is not None:
        r.fail(where, f"length is for mod10 numbers only, not {scheme}")
        length = None
    if length is not None and length < len(prefix) + 2:
        r.fail(where, f"length {length} leaves no room for a serial after prefix {prefix!r}")
        return None
    spec = TrackingSpec(scheme, prefix, country, first, last, length)
    if len(r.problems) > found:  # said already: the scheme's own check would say it again
        return None
    try:
        spec.as_scheme().validate()
    except TrackingError as exc:
        r.fail(where, str(exc))
        return None
    return spec


def _services(r: _Reader, where: str, value: Any) -> tuple[ServiceSpec, ...]:
    if value is None:
        r.fail(where, "has no [[couriers.services]]: shop orders could not be sent with it")
        return ()
    services = []
    for n, item in enumerate(r.items(f"{where} services", value), start=1):
        at = f"{where} services[{n}]"
        t = r.table(at, item, _SERVICE)
        code = r.text(
            at, t, "code", limit=32, pattern=_SERVICE_CODE, shape="letters, digits, '-' or '_'"
        )
        at = f"{where} services[{n}] ({code})" if code else at
        name = r.text(at, t, "name", limit=100)
        express = r.flag(at, t, "express")
        cutoffs = _cutoffs(r, at, t.get("cutoffs"))
        days = r.number(at, t, "promised_days", least=0, most=365, required=False)
        if code and name and cutoffs:
            services.append(ServiceSpec(code, name, express, cutoffs, days))
    if not services and isinstance(value, list) and not value:
        r.fail(where, "has no services: shop orders could not be sent with it")
    r.unique(where, "service", (s.code for s in services))
    return tuple(services)


def _cutoffs(r: _Reader, where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        r.fail(where, 'cutoffs must list the pickup times, e.g. ["11:00", "16:30"]')
        return ()
    times = set()
    for text in value:
        try:
            times.add(parse_cutoff(text))
        except CutoffError as exc:
            r.fail(where, str(exc))
    return tuple(cutoff_text(t) for t in sorted(times))


def _packaging(r: _Reader, value: Any, rules: Rules) -> tuple[PackagingSpec, ...]:
    boxes = []
    pattern = re.compile(rules.packaging_pattern) if rules.packaging_pattern else None
    for n, item in enumerate(r.items("packaging", value), start=1):
        t, code, where = _entry(
            r, f"packaging[{n}]", item, _PACKAGING, limit=32, pattern=_PACKAGING_CODE,
            shape="capitals, digits, '-' or '_'",
        )  # fmt: skip
        barcode = r.text(where, t, "barcode", limit=64)
        if barcode and pattern is not None and not pattern.search(barcode):
            r.fail(
                where,
                f"barcode {barcode!r} would not scan as packaging "
                f"([scanner.patterns] packaging is {rules.packaging_pattern!r})",
            )
        name = r.text(where, t, "name", limit=100)
        tare = r.number(where, t, "tare_g", least=0, most=100_000)
        most = r.number(where, t, "max_weight_g", least=1, most=1_000_000, required=False)
        dims = [r.number(where, t, k, least=1, most=10_000) for k in _PACKAGING[5:]]
        if tare is not None and most is not None and most <= tare:
            r.fail(where, f"max_weight_g {most} is not more than the box's own tare_g {tare}")
        if code and barcode and name and tare is not None and all(d is not None for d in dims):
            length, width, height = (int(d) for d in dims if d is not None)
            boxes.append(PackagingSpec(code, barcode, name, tare, length, width, height, most))
    r.unique("packaging", "code", (b.code for b in boxes))
    r.unique("packaging", "barcode", (b.barcode for b in boxes))
    return tuple(boxes)


def _totes(r: _Reader, value: Any, rules: Rules) -> tuple[str, ...]:
    t = r.table("totes", value, ("codes",))
    given = r.items("totes codes", t.get("codes", []))
    pattern = re.compile(rules.tote_pattern) if rules.tote_pattern else None
    codes: list[str] = []
    for item in given:
        if not isinstance(item, str) or not item.strip():
            r.fail("totes", f"{json.dumps(item, default=str)} is not a tote code or a range")
            continue
        try:
            expanded = expand_codes(item.strip(), MAX_TOTES - len(codes))
        except ValueError as exc:
            r.fail("totes", str(exc))
            continue
        bad = [c for c in expanded if pattern is not None and not pattern.search(c)]
        if bad:
            r.fail(
                "totes",
                f"{bad[0]!r} would not scan as a tote "
                f"([scanner.patterns] tote is {rules.tote_pattern!r})",
            )
            continue
        codes.extend(expanded)
    r.unique("totes", "tote", codes)
    return tuple(codes)


def expand_codes(text: str, most: int = MAX_TOTES) -> list[str]:
    """``"T-0001..T-0003"`` → T-0001, T-0002, T-0003 (digits keep their width); a single code
    is itself. A range backwards, of different widths or over ``most`` codes is refused."""
    if ".." not in text:
        if _CONTROL.search(text) or len(text) > 16:
            raise ValueError(f"tote code {text!r} must be at most 16 printable characters")
        return [text]
    m = _RANGE.match(text)
    if m is None:
        raise ValueError(
            f"range {text!r} must be FIRST..LAST with the same text before the numbers "
            "(e.g. T-0001..T-0200)"
        )
    head, first, last = m.group("head"), m.group("first"), m.group("last")
    if len(first) != len(last):
        raise ValueError(f"range {text!r}: {first} and {last} must have as many digits")
    if int(first) > int(last):
        raise ValueError(f"range {text!r} runs backwards")
    count = int(last) - int(first) + 1
    if count > most:
        raise ValueError(f"range {text!r} has {count:,} codes; at most {MAX_TOTES:,} totes")
    return [f"{head}{n:0{len(first)}d}" for n in range(int(first), int(last) + 1)]


def compress_codes(codes: Iterable[str]) -> list[str]:
    """The reverse of :func:`expand_codes`: runs of consecutive codes written as ranges."""
    out: list[str] = []
    run: list[tuple[str, int, int]] = []  # head, width, number

    def flush() -> None:
        if not run:
            return
        head, width, first = run[0]
        last = run[-1][2]
        out.append(
            f"{head}{first:0{width}d}"
            if first == last
            else f"{head}{first:0{width}d}..{head}{last:0{width}d}"
        )
        run.clear()

    for code in sorted(codes):
        m = re.fullmatch(r"(.*?)(\d+)", code)
        if m is None:
            flush()
            out.append(code)
            continue
        head, digits = m.group(1), m.group(2)
        item = (head, len(digits), int(digits))
        if run and (run[-1][0], run[-1][1], run[-1][2] + 1) != item:
            flush()
        run.append(item)
    flush()
    return out


# --- writing ---------------------------------------------------------------------------------


def to_toml(spec: FloorSpec, header: str = "") -> str:
    """The file that :func:`read_spec` reads back to ``spec``."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    if lines:
        lines.append("")
    for z in spec.zones or ():
        lines += ["[[zones]]", f"code = {_q(z.code)}", f"name = {_q(z.name)}", ""]
    if spec.zones == ():
        lines += ["zones = []", ""]
    for c in spec.couriers or ():
        lines += [
            "[[couriers]]",
            f"code = {_q(c.code)}",
            f"name = {_q(c.name)}",
            f"lane = {_q(c.lane)}",
            f"label = {_q(c.label)}",
            f"tracking = {_tracking_toml(c.tracking)}",
        ]
        if c.tracking_url:
            lines.append(f"tracking_url = {_q(c.tracking_url)}")
        for s in c.services:
            lines += [
                "  [[couriers.services]]",
                f"  code = {_q(s.code)}",
                f"  name = {_q(s.name)}",
                f"  express = {'true' if s.express else 'false'}",
                f"  cutoffs = [{', '.join(_q(t) for t in s.cutoffs)}]",
            ]
            if s.promised_days is not None:
                lines.append(f"  promised_days = {s.promised_days}")
        lines.append("")
    if spec.couriers == ():
        lines += ["couriers = []", ""]
    for p in spec.packaging or ():
        lines += [
            "[[packaging]]",
            f"code = {_q(p.code)}",
            f"barcode = {_q(p.barcode)}",
            f"name = {_q(p.name)}",
            f"tare_g = {p.tare_g}",
        ]
        if p.max_weight_g is not None:
            lines.append(f"max_weight_g = {p.max_weight_g}")
        lines += [
            f"length_mm = {p.length_mm}",
            f"width_mm = {p.width_mm}",
            f"height_mm = {p.height_mm}",
            "",
        ]
    if spec.packaging == ():
        lines += ["packaging = []", ""]
    if spec.totes is not None:
        codes = ", ".join(_q(c) for c in compress_codes(spec.totes))
        lines += ["[totes]", f"codes = [{codes}]", ""]
    return "\n".join(lines)


def _tracking_toml(t: TrackingSpec) -> str:
    parts = [f"scheme = {_q(t.scheme)}"]
    if t.prefix or t.scheme != "range":
        parts.append(f"prefix = {_q(t.prefix)}")
    if t.country is not None:
        parts.append(f"country = {_q(t.country)}")
    for key in ("first", "last", "length"):
        value = getattr(t, key)
        if value is not None:
            parts.append(f"{key} = {value}")
    return "{ " + ", ".join(parts) + " }"


def _q(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's for everything :func:`read_spec` lets in."""
    return json.dumps(text, ensure_ascii=False)
