"""The courier label as HTML through WeasyPrint, to compare with ReportLab.

Only for ``picker bench labels``, to compare with the HTML-to-PDF route some peer systems
take. Needs the ``bench`` extra.
"""

from __future__ import annotations

from html import escape

from weasyprint import HTML

from picker.printing.barcodes import QUIET_MODULES, bar_runs
from picker.printing.fonts import FONT_DIR
from picker.printing.labels import Bars, Composed, Frame, Text


def label_html(label: Composed) -> str:
    """Absolutely positioned text, frames and an inline-SVG barcode: the composition drawn by
    the browser engine instead of ReportLab (a fair race: the same fonts and vectors)."""
    layout = label.layout
    parts = [
        "<html><head><style>",
        f"@page {{ size: {layout.width}mm {layout.height}mm; margin: 0 }}",
        f"@font-face {{ font-family: L; src: url('file://{FONT_DIR / 'DejaVuSans.ttf'}') }}",
        "@font-face { font-family: L; font-weight: bold; "
        f"src: url('file://{FONT_DIR / 'DejaVuSans-Bold.ttf'}') }}",
        "body { margin: 0; font-family: L } div { position: absolute; white-space: pre }",
        "</style></head><body>",
    ]
    for item in label.items:
        if isinstance(item, Text):
            top = item.baseline - item.size * 0.8 / (72 / 25.4)
            weight = "bold" if item.bold else "normal"
            parts.append(
                f'<div style="left:{item.x:.2f}mm;top:{top:.2f}mm;font-size:{item.size}pt;'
                f'font-weight:{weight}">{escape(item.text)}</div>'
            )
        elif isinstance(item, Frame):
            border = f"border:{item.line}mm solid black" if item.line else "background:black"
            parts.append(
                f'<div style="left:{item.x}mm;top:{item.y}mm;width:{item.w}mm;height:{item.h}mm;'
                f'box-sizing:border-box;{border}"></div>'
            )
        elif isinstance(item, Bars):
            width = (len(item.pattern) + 2 * QUIET_MODULES) * item.module
            rects = "".join(
                f'<rect x="{(QUIET_MODULES + start) * item.module:.3f}" y="0" '
                f'width="{run * item.module:.3f}" height="{item.height}"/>'
                for start, run in bar_runs(item.pattern)
            )
            parts.append(
                f'<div style="left:{item.x}mm;top:{item.y}mm">'
                f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}mm" '
                f'height="{item.height}mm" viewBox="0 0 {width} {item.height}">'
                f"{rects}</svg></div>"
            )
    parts.append("</body></html>")
    return "".join(parts)


def render_html_pdf(label: Composed) -> bytes:
    return HTML(string=label_html(label)).write_pdf()
