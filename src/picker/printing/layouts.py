"""Label layouts: one TOML file per layout in ``labels/``, checked when it is loaded.

A layout places named blocks (boxes in millimetres from the label's top-left corner) and one
tracking barcode on a page. Which text goes into which block is fixed by Picker (see
:data:`BLOCKS`); the layout decides where, how large and how it is framed. A layout may
``extends = "NAME"`` another and change only what differs (a courier's own variant of the
generic 4x6). Every problem is a :class:`LayoutError` naming the file, the key and what is
wrong, so a site editing a layout is told exactly where to look.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from picker.printing.barcodes import QUIET_MODULES, modules

#: The blocks a label can carry, and what each shows.
BLOCKS: dict[str, str] = {
    "sender": "the warehouse's name and address (config [warehouse]); on a return label, the "
    "customer's",
    "recipient": "the customer's name and address; on a return label, the warehouse's",
    "courier": "courier and service",
    "routing": "the routing / sort code",
    "parcel": "parcel n of N",
    "weight": "the parcel's weight",
    "order": "the order number",
    "date": "the date the parcel was closed",
    "cod": "the cash-on-delivery amount (drawn only for COD parcels); on a return label, "
    "RETURN and its RMA number",
}
#: Blocks every layout must place: a courier cannot deliver without them.
REQUIRED = ("sender", "recipient", "courier", "parcel", "weight", "order", "date", "cod")

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
#: Text smaller than this is unreadable on a 203 dpi thermal print.
FLOOR_PT = 5.0
#: The barcode's narrowest bar in printer dots at 203 dpi: 2 is the least a handheld reads well.
MIN_MODULE_DOTS = 2
#: The least height of the bars: lower ones are missed by a scanner held at an angle.
MIN_BAR_MM = 10.0
#: The largest of anything a layout sizes: every size is bounded, so no layout can make drawing
#: a label take long (text at 1e9 pt) or draw past what a printer takes.
MAX_PT = 144.0
MAX_LABEL_MM = 600.0
MAX_LINE_MM = 10.0
MAX_MODULE_DOTS = 10
DOT_MM = 25.4 / 203
#: The tracking number every barcode box must hold: a UPU S10 number, the commonest kind.
SAMPLE_TRACKING = "EE123456785PL"


class LayoutError(ValueError):
    """A layout file that cannot be used; the message names file, key and problem (each of
    :attr:`problems`, when there are several)."""

    def __init__(self, path: Path | None, problems: str | list[str]) -> None:
        self.path = path
        self.problems: tuple[str, ...] = (
            (problems,) if isinstance(problems, str) else tuple(problems)
        )
        where = f"{path}: " if path is not None else ""
        super().__init__(where + "; ".join(self.problems))


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float
    """Millimetres; ``x``, ``y`` from the label's top-left corner."""


@dataclass(frozen=True)
class Block:
    name: str
    box: Box
    size: float
    """The largest font size (pt): text is set at this size when it fits."""
    min_size: float
    """Long text shrinks down to this size before it is wrapped."""
    bold: bool
    caption: str
    """A small heading inside the box (e.g. "TO"); empty for none."""
    frame: float
    """Line width of a frame around the box in mm; 0 for none."""
    align: str
    """left | center | right"""


@dataclass(frozen=True)
class BarcodeSpec:
    box: Box
    module_dots: int
    """Width of the narrowest bar in printer dots at 203 dpi."""
    text_size: float
    """Size of the human-readable number under the bars (pt); 0 for none."""


@dataclass(frozen=True)
class Rule:
    """A straight line across the label (y in mm from the top, from x0 to x1)."""

    y: float
    x0: float
    x1: float
    width: float


@dataclass(frozen=True)
class Layout:
    name: str
    description: str
    width: float
    height: float
    """Millimetres."""
    blocks: dict[str, Block]
    barcode: BarcodeSpec
    rules: tuple[Rule, ...]
    source: Path


def layout_names(directory: Path) -> list[str]:
    """The layouts a directory holds (file names without ``.toml``)."""
    if not directory.is_dir():
        return []
    return sorted(p.stem for p in directory.glob("*.toml"))


def load_layout(directory: Path, name: str) -> Layout:
    """Read, merge (``extends``) and check the layout ``name`` from ``directory``."""
    data, path = _merged(directory, name, ())
    return _build(data, path, name)


def _merged(directory: Path, name: str, seen: tuple[str, ...]) -> tuple[dict[str, Any], Path]:
    if not _NAME.fullmatch(name):
        raise LayoutError(
            None, f"{name!r} is not a layout name (lower-case letters, digits, - and _)"
        )
    path = directory / f"{name}.toml"
    if name in seen:
        raise LayoutError(path, f"extends: layouts extend each other in a circle ({name})")
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        known = ", ".join(layout_names(directory)) or "none"
        raise LayoutError(None, f"no layout {name!r} in {directory} (there are: {known})") from None
    except tomllib.TOMLDecodeError as exc:
        raise LayoutError(path, f"not valid TOML: {exc}") from None
    except OSError as exc:
        raise LayoutError(path, f"cannot be read: {exc.strerror}") from None
    base_name = data.pop("extends", None)
    if base_name is None:
        return data, path
    if not isinstance(base_name, str):
        raise LayoutError(path, "extends: must be the name of another layout")
    base, _ = _merged(directory, base_name, (*seen, name))
    return _deep_merge(base, data), path


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


class _Problems:
    """Every problem of one layout file, gathered so a site sees them all at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.found: list[str] = []

    def add(self, where: str, problem: str) -> None:
        self.found.append(f"{where}: {problem}" if where else problem)

    def raise_any(self) -> None:
        if self.found:
            raise LayoutError(self.path, self.found)


class _Table:
    """Values out of one table of a layout file, each checked, naming the key when wrong. A
    wrong value is noted (see :class:`_Problems`) and read as None, so checking goes on."""

    def __init__(self, problems: _Problems, prefix: str, table: Any) -> None:
        self.problems, self.prefix = problems, prefix
        self.table: dict[str, Any] = table if isinstance(table, dict) else {}
        self.used: set[str] = set()
        if not isinstance(table, dict):
            self.fail("", "must be a table")

    def fail(self, key: str, problem: str) -> None:
        where = f"{self.prefix}.{key}" if self.prefix and key else self.prefix or key
        self.problems.add(where, problem)

    def number(
        self, key: str, default: float | None = None, *, low: float = 0.0, high: float,
        unit: str = "mm",
    ) -> float | None:  # fmt: skip
        """A number more than ``low`` and at most ``high`` (every size is bounded: a label
        drawn at 1e9 pt would keep a terminal busy for minutes)."""
        self.used.add(key)
        value = self.table.get(key, default)
        if value is None:
            self.fail(key, "is missing")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            self.fail(key, f"must be a number, not {value!r}")
            return None
        if value <= low:
            self.fail(key, f"must be more than {low:g} {unit}, not {value:g}")
            return None
        if value > high:
            self.fail(key, f"must be at most {high:g} {unit}, not {value:g}")
            return None
        return float(value)

    def text(self, key: str, default: str, choices: tuple[str, ...] = (), *, most: int = 80) -> str:
        self.used.add(key)
        value = self.table.get(key, default)
        if not isinstance(value, str):
            self.fail(key, f"must be text, not {value!r}")
            return default
        if choices and value not in choices:
            self.fail(key, f"must be one of {', '.join(choices)}, not {value!r}")
            return default
        if len(value) > most:
            self.fail(key, f"must be at most {most} characters, not {len(value)}")
            return default
        return str(value)

    def flag(self, key: str, default: bool) -> bool:
        self.used.add(key)
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            self.fail(key, f"must be true or false, not {value!r}")
            return default
        return bool(value)

    def box(self, key: str = "box") -> Box | None:
        self.used.add(key)
        value = self.table.get(key)
        if value is None:
            self.fail(key, "is missing (give [x, y, width, height] in mm)")
            return None
        if (
            not isinstance(value, list)
            or len(value) != 4
            or any(isinstance(v, bool) or not isinstance(v, int | float) for v in value)
            or any(v != v for v in value)
        ):
            self.fail(key, f"must be [x, y, width, height] in mm, not {value!r}")
            return None
        x, y, w, h = (float(v) for v in value)
        if x < 0 or y < 0 or w <= 0 or h <= 0:
            self.fail(key, f"needs x, y of 0 or more and a positive width and height: {value!r}")
            return None
        if max(x + w, y + h) > MAX_LABEL_MM:
            self.fail(key, f"reaches past {MAX_LABEL_MM:g} mm: {value!r}")
            return None
        return Box(x, y, w, h)

    def done(self) -> None:
        for key in self.table:
            if key not in self.used:
                self.fail(key, "is not a known setting")


def _build(data: dict[str, Any], path: Path, name: str) -> Layout:
    problems = _Problems(path)
    top = _Table(problems, "", data)
    description = top.text("description", "", most=200)
    width = top.number("width_mm", high=MAX_LABEL_MM)
    height = top.number("height_mm", high=MAX_LABEL_MM)
    top.used.update({"blocks", "barcode", "rules"})
    top.done()

    def inside(box: Box | None, where: str) -> None:
        if box is None or width is None or height is None:
            return
        if box.x + box.w > width + 1e-6 or box.y + box.h > height + 1e-6:
            problems.add(
                f"{where}.box",
                f"reaches past the label's edge ({box.x + box.w:g} x {box.y + box.h:g} mm on a "
                f"{width:g} x {height:g} mm label)",
            )

    raw_blocks = data.get("blocks", {})
    if not isinstance(raw_blocks, dict):
        problems.add("blocks", "must be a table of blocks ([blocks.recipient] …)")
        raw_blocks = {}
    blocks: dict[str, Block] = {}
    for block_name, table in raw_blocks.items():
        if block_name not in BLOCKS:
            problems.add(f"blocks.{block_name}", f"is not a block (known: {', '.join(BLOCKS)})")
            continue
        t = _Table(problems, f"blocks.{block_name}", table)
        box = t.box()
        inside(box, f"blocks.{block_name}")
        size = t.number("size", 10.0, high=MAX_PT, unit="pt")
        min_size = t.number("min_size", min(size or 10.0, 7.0), high=MAX_PT, unit="pt")
        if size is not None and min_size is not None and min_size > size:
            t.fail("min_size", f"must not be larger than size ({min_size:g} > {size:g})")
        elif min_size is not None and min_size < FLOOR_PT:
            t.fail("min_size", f"must be {FLOOR_PT:g} pt or more to be readable on a label")
        bold, caption = t.flag("bold", False), t.text("caption", "", most=20)
        frame = _frame(t)
        align = t.text("align", "left", ("left", "center", "right"))
        t.done()
        if box is not None and size is not None and min_size is not None:
            blocks[block_name] = Block(block_name, box, size, min_size, bold, caption, frame, align)
    missing = [b for b in REQUIRED if b not in raw_blocks]
    if missing:
        problems.add("blocks", f"missing {', '.join(missing)} (every label needs them)")

    barcode = _barcode_spec(data, problems, inside)

    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list):
        problems.add("rules", "must be a list of [[rules]] tables")
        raw_rules = []
    rules = []
    for i, table in enumerate(raw_rules):
        t = _Table(problems, f"rules[{i}]", table)
        y = t.number("y_mm", low=-1e-9, high=MAX_LABEL_MM)
        x0 = t.number("x0_mm", 0.0, low=-1e-9, high=MAX_LABEL_MM)
        x1 = t.number("x1_mm", width or MAX_LABEL_MM, high=MAX_LABEL_MM)
        line = t.number("width_mm", 0.5, high=MAX_LINE_MM)
        t.done()
        if None in (y, x0, x1, line, width, height):
            continue  # named above
        assert y is not None and x0 is not None and x1 is not None and line is not None
        assert width is not None and height is not None
        if x1 > width + 1e-6 or y > height + 1e-6 or x0 >= x1:
            t.fail("", f"runs off the label or backwards (y {y:g}, x {x0:g} to {x1:g} mm)")
            continue
        rules.append(Rule(y, x0, x1, line))
    problems.raise_any()
    assert width is not None and height is not None and barcode is not None
    return Layout(name, description, width, height, blocks, barcode, tuple(rules), path)


def _barcode_spec(
    data: dict[str, Any], problems: _Problems, inside: Callable[[Box | None, str], None]
) -> BarcodeSpec | None:
    if "barcode" not in data:
        problems.add("barcode", "is missing (the tracking number's barcode)")
        return None
    t = _Table(problems, "barcode", data["barcode"])
    bar_box = t.box()
    inside(bar_box, "barcode")
    dots = t.number("module_dots", 3, high=MAX_MODULE_DOTS, unit="dots")
    if dots is not None and (dots != int(dots) or dots < MIN_MODULE_DOTS):
        t.fail("module_dots", f"must be a whole number of dots, {MIN_MODULE_DOTS} or more")
        dots = None
    raw_size = t.table.get("text_size", 10)
    t.used.add("text_size")
    text_size: float | None = None
    if (
        isinstance(raw_size, bool)
        or not isinstance(raw_size, int | float)
        or raw_size != raw_size
        or (raw_size != 0 and raw_size < FLOOR_PT)
    ):
        t.fail("text_size", f"must be 0 (no number under the bars) or {FLOOR_PT:g} pt or more")
    elif raw_size > MAX_PT:
        t.fail("text_size", f"must be at most {MAX_PT:g} pt, not {raw_size:g}")
    else:
        text_size = float(raw_size)
    t.done()
    if bar_box is not None:
        needed = barcode_width_mm(SAMPLE_TRACKING, MIN_MODULE_DOTS)
        if needed > bar_box.w + 1e-6:
            t.fail("box", f"is {bar_box.w:g} mm wide, too narrow for a tracking number's "
                          f"barcode: {SAMPLE_TRACKING} needs {needed:.1f} mm with its quiet "
                          f"zones even at {MIN_MODULE_DOTS} dots a bar")  # fmt: skip
        if text_size is not None:
            bars = bar_box.h - text_size * 1.18 * 25.4 / 72
            if bars < MIN_BAR_MM:
                t.fail("box", f"leaves {bars:.1f} mm for the bars under the number; they "
                              f"need {MIN_BAR_MM:g} mm or more")  # fmt: skip
    if bar_box is None or dots is None or text_size is None:
        return None
    return BarcodeSpec(bar_box, int(dots), text_size)


def barcode_width_mm(tracking: str, dots: int) -> float:
    """The width of ``tracking`` as Code128 bars of ``dots`` printer dots a module, with its
    quiet zones, in mm."""
    return (len(modules("code128", tracking)) + 2 * QUIET_MODULES) * dots * DOT_MM


def _frame(t: _Table) -> float:
    t.used.add("frame_mm")
    value = t.table.get("frame_mm", 0)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or value != value
        or not 0 <= value <= MAX_LINE_MM
    ):
        t.fail("frame_mm", f"must be a line width of 0 to {MAX_LINE_MM:g} mm (0 for none), "
                           f"not {value!r}")  # fmt: skip
        return 0.0
    return float(value)
