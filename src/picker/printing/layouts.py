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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The blocks a label can carry, and what each shows.
BLOCKS: dict[str, str] = {
    "sender": "the warehouse's name and address (config [warehouse])",
    "recipient": "the customer's name and address",
    "courier": "courier and service",
    "routing": "the routing / sort code",
    "parcel": "parcel n of N",
    "weight": "the parcel's weight",
    "order": "the order number",
    "date": "the date the parcel was closed",
    "cod": "the cash-on-delivery amount (drawn only for COD parcels)",
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


class LayoutError(ValueError):
    """A layout file that cannot be used; the message names file, key and problem."""


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
        raise LayoutError(f"{name!r} is not a layout name (lower-case letters, digits, - and _)")
    path = directory / f"{name}.toml"
    if name in seen:
        raise LayoutError(f"{path}: extends: layouts extend each other in a circle ({name})")
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        known = ", ".join(layout_names(directory)) or "none"
        raise LayoutError(f"no layout {name!r} in {directory} (there are: {known})") from None
    except tomllib.TOMLDecodeError as exc:
        raise LayoutError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise LayoutError(f"{path}: cannot be read: {exc.strerror}") from None
    base_name = data.pop("extends", None)
    if base_name is None:
        return data, path
    if not isinstance(base_name, str):
        raise LayoutError(f"{path}: extends: must be the name of another layout")
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


class _Table:
    """Values out of one table of a layout file, each checked, naming the key when wrong."""

    def __init__(self, path: Path, prefix: str, table: Any) -> None:
        self.path, self.prefix = path, prefix
        if not isinstance(table, dict):
            self.fail("", "must be a table")
        self.table: dict[str, Any] = table
        self.used: set[str] = set()

    def fail(self, key: str, problem: str) -> None:
        where = f"{self.prefix}.{key}" if self.prefix and key else self.prefix or key
        raise LayoutError(f"{self.path}: {where}: {problem}")

    def number(self, key: str, default: float | None = None, *, low: float = 0.0) -> float:
        self.used.add(key)
        value = self.table.get(key, default)
        if value is None:
            self.fail(key, "is missing")
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(key, f"must be a number, not {value!r}")
        if value <= low:
            self.fail(key, f"must be more than {low:g}, not {value!r}")
        return float(value)

    def text(self, key: str, default: str, choices: tuple[str, ...] = ()) -> str:
        self.used.add(key)
        value = self.table.get(key, default)
        if not isinstance(value, str):
            self.fail(key, f"must be text, not {value!r}")
        if choices and value not in choices:
            self.fail(key, f"must be one of {', '.join(choices)}, not {value!r}")
        return str(value)

    def flag(self, key: str, default: bool) -> bool:
        self.used.add(key)
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            self.fail(key, f"must be true or false, not {value!r}")
        return bool(value)

    def box(self, key: str = "box") -> Box:
        self.used.add(key)
        value = self.table.get(key)
        if value is None:
            self.fail(key, "is missing (give [x, y, width, height] in mm)")
        if (
            not isinstance(value, list)
            or len(value) != 4
            or any(isinstance(v, bool) or not isinstance(v, int | float) for v in value)
        ):
            self.fail(key, f"must be [x, y, width, height] in mm, not {value!r}")
        x, y, w, h = (float(v) for v in value)
        if x < 0 or y < 0 or w <= 0 or h <= 0:
            self.fail(key, f"needs x, y of 0 or more and a positive width and height: {value!r}")
        return Box(x, y, w, h)

    def done(self) -> None:
        for key in self.table:
            if key not in self.used:
                self.fail(key, "is not a known setting")


def _build(data: dict[str, Any], path: Path, name: str) -> Layout:
    top = _Table(path, "", data)
    description = top.text("description", "")
    width, height = top.number("width_mm"), top.number("height_mm")
    top.used.update({"blocks", "barcode", "rules"})
    top.done()

    def inside(box: Box, where: str) -> None:
        if box.x + box.w > width + 1e-6 or box.y + box.h > height + 1e-6:
            raise LayoutError(
                f"{path}: {where}.box: reaches past the label's edge "
                f"({box.x + box.w:g} x {box.y + box.h:g} mm on a {width:g} x {height:g} mm label)"
            )

    raw_blocks = data.get("blocks", {})
    if not isinstance(raw_blocks, dict):
        raise LayoutError(f"{path}: blocks: must be a table of blocks ([blocks.recipient] …)")
    blocks: dict[str, Block] = {}
    for block_name, table in raw_blocks.items():
        if block_name not in BLOCKS:
            known = ", ".join(BLOCKS)
            raise LayoutError(f"{path}: blocks.{block_name}: is not a block (known: {known})")
        t = _Table(path, f"blocks.{block_name}", table)
        box = t.box()
        inside(box, f"blocks.{block_name}")
        size = t.number("size", 10.0)
        min_size = t.number("min_size", min(size, 7.0))
        if min_size > size:
            t.fail("min_size", f"must not be larger than size ({min_size:g} > {size:g})")
        if min_size < FLOOR_PT:
            t.fail("min_size", f"must be {FLOOR_PT:g} pt or more to be readable on a label")
        blocks[block_name] = Block(
            block_name, box, size, min_size, t.flag("bold", False), t.text("caption", ""),
            _frame(t), t.text("align", "left", ("left", "center", "right")),
        )  # fmt: skip
        t.done()
    missing = [b for b in REQUIRED if b not in blocks]
    if missing:
        raise LayoutError(f"{path}: blocks: missing {', '.join(missing)} (every label needs them)")

    if "barcode" not in data:
        raise LayoutError(f"{path}: barcode: is missing (the tracking number's barcode)")
    t = _Table(path, "barcode", data["barcode"])
    bar_box = t.box()
    inside(bar_box, "barcode")
    dots = t.number("module_dots", 3)
    if dots != int(dots) or dots < MIN_MODULE_DOTS:
        t.fail("module_dots", f"must be a whole number of dots, {MIN_MODULE_DOTS} or more")
    raw_size = t.table.get("text_size", 10)
    t.used.add("text_size")
    if (
        isinstance(raw_size, bool)
        or not isinstance(raw_size, int | float)
        or (raw_size != 0 and raw_size < FLOOR_PT)
    ):
        t.fail("text_size", f"must be 0 (no number under the bars) or {FLOOR_PT:g} pt or more")
    text_size = float(raw_size)
    bars = bar_box.h - text_size * 1.18 * 25.4 / 72
    if bars < MIN_BAR_MM:
        t.fail("box", f"leaves {bars:.1f} mm for the bars under the number; they need "
                      f"{MIN_BAR_MM:g} mm or more")  # fmt: skip
    t.done()

    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list):
        raise LayoutError(f"{path}: rules: must be a list of [[rules]] tables")
    rules = []
    for i, table in enumerate(raw_rules):
        t = _Table(path, f"rules[{i}]", table)
        y = t.number("y_mm", low=-1e-9)
        x0 = t.number("x0_mm", 0.0, low=-1e-9)
        x1 = t.number("x1_mm", width)
        if x1 > width + 1e-6 or y > height + 1e-6 or x0 >= x1:
            t.fail("", f"runs off the label or backwards (y {y:g}, x {x0:g} to {x1:g} mm)")
        rules.append(Rule(y, x0, x1, t.number("width_mm", 0.5)))
        t.done()
    return Layout(
        name, description, width, height, blocks, BarcodeSpec(bar_box, int(dots), text_size),
        tuple(rules), path,
    )  # fmt: skip


def _frame(t: _Table) -> float:
    t.used.add("frame_mm")
    value = t.table.get("frame_mm", 0)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        t.fail("frame_mm", f"must be a line width in mm (0 for none), not {value!r}")
    return float(value)
