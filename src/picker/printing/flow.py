"""Documents laid out top to bottom over as many pages as they need.

Packing slips and manifests: text and rules placed first, page by page, then drawn — so
every page can say "page n of N" and a block that must not be split moves whole to the next
page.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reportlab.pdfgen.canvas import Canvas

from picker.printing.fonts import fit, prime


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # the baseline
    text: str
    font: str
    size: float
    width: float  # shortened with an ellipsis beyond this
    right: bool = False  # x is the right edge


@dataclass(frozen=True)
class Line:
    x0: float
    x1: float
    y: float
    weight: float


Item = Text | Line


class Flow:
    """Items placed top to bottom from ``top``, a new page whenever the next block does not
    fit above ``bottom``."""

    def __init__(self, top: float, bottom: float) -> None:
        self.top = top
        self.bottom = bottom
        self.pages: list[list[Item]] = [[]]
        self.y = top

    def need(self, height: float) -> bool:
        """Start a new page unless ``height`` fits below ``y``; True when a page was started."""
        if self.y - height >= self.bottom or self.y == self.top:
            return False
        self.pages.append([])
        self.y = self.top
        return True

    def add(self, *items: Item) -> None:
        self.pages[-1].extend(items)


def draw(c: Canvas, items: Sequence[Item]) -> None:
    """One page's items, text fitted to its width."""
    for item in items:
        if isinstance(item, Line):
            c.setLineWidth(item.weight)
            c.line(item.x0, item.y, item.x1, item.y)
            continue
        c.setFont(item.font, item.size)
        text = fit(c, item.text, item.width, item.size, item.font)
        if item.right:
            c.drawRightString(item.x, item.y, text)
        else:
            c.drawString(item.x, item.y, text)


def render(
    pages: Sequence[Sequence[Item]],
    pagesize: tuple[float, float],
    title: str,
    header: Callable[[Canvas, str], None],
) -> bytes:
    """The laid-out pages as one PDF (byte-identical for the same input), each under its
    ``header`` drawn with "page n of N"."""
    out = io.BytesIO()
    c = Canvas(out, pagesize=pagesize, invariant=1)
    c.setTitle(title)
    prime(c)
    for n, items in enumerate(pages, start=1):
        header(c, f"page {n} of {len(pages)}")
        draw(c, items)
        c.showPage()
    c.save()
    return out.getvalue()
