"""Barcodes encoded by python-barcode and drawn as vector bars in ReportLab.

python-barcode gives the module pattern ('1' = bar, '0' = space) with checksums and stop codes;
each run of bars becomes one rectangle, so the bars are crisp at any printer resolution.
"""

from __future__ import annotations

import barcode
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

#: Quiet zone on each side, in modules (ISO/IEC 15417 asks for at least 10).
QUIET_MODULES = 10


def modules(symbology: str, value: str) -> str:
    """The module pattern of ``value`` in ``symbology`` ("code128", "ean13", …).

    python-barcode silently corrects a wrong EAN check digit; callers validate first.
    """
    return "".join(barcode.get(symbology, value).build())


def bar_runs(pattern: str) -> list[tuple[int, int]]:
    """(start module, width in modules) of each run of bars."""
    runs: list[tuple[int, int]] = []
    start = None
    for i, bit in enumerate(pattern + "0"):
        if bit == "1" and start is None:
            start = i
        elif bit != "1" and start is not None:
            runs.append((start, i - start))
            start = None
    return runs


def symbol_width(pattern: str, module: float) -> float:
    """Width of the symbol including both quiet zones, in points."""
    return (len(pattern) + 2 * QUIET_MODULES) * module


def draw_bars(
    canvas: Canvas, pattern: str, x: float, y: float, *, module: float, height: float
) -> float:
    """Draw the bars with their quiet zones starting at ``x``; returns the width used."""
    left = x + QUIET_MODULES * module
    for start, width in bar_runs(pattern):
        canvas.rect(left + start * module, y, width * module, height, stroke=0, fill=1)
    return symbol_width(pattern, module)


#: 3 dots at 203 dpi: wide enough for any handheld scanner at arm's length.
MODULE_203DPI_3 = 3 * 25.4 / 203 * mm
