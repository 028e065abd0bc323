"""A raster of the ZPL Picker writes, as a 203-dpi printer would print it — so tests can read
its barcode back with a real decoder.

Only the commands our renderer emits are understood (^XA ^XZ ^CI ^PW ^LL ^LH ^FO ^GB ^BY ^BC ^FD
^FS ^GF with Zebra's Z64 encoding); anything else fails the test, so a renderer change cannot
slip past unread. ^BC is drawn with python-barcode's Code128, as the printer's own encoder would
choose the code sets (the decoder checks the result, not the bar-for-bar choice).
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib

import barcode
from PIL import Image, ImageDraw


def rasterize(zpl: bytes) -> list[Image.Image]:
    """One image per ^XA … ^XZ label (mode "1", 0 = black)."""
    text = zpl.decode("utf-8")
    labels: list[Image.Image] = []
    width = height = 0
    commands: list[tuple[str, str]] = []
    for part in text.split("^")[1:]:
        part = part.rstrip("\n")
        name = part[:2]
        if name in ("FO", "GB", "BY", "BC", "FD", "FS", "GF", "XA", "XZ", "CI", "PW", "LL", "LH"):
            commands.append((name, part[2:]))
        else:
            raise AssertionError(f"unexpected ZPL command ^{part[:10]}")
    image: Image.Image | None = None
    draw: ImageDraw.ImageDraw | None = None
    x = y = module = 0
    pending: tuple[str, list[str]] | None = None
    for name, args in commands:
        if name == "XA":
            width = height = 0
            image = None
        elif name == "PW":
            width = int(args)
        elif name == "LL":
            height = int(args)
            image = Image.new("1", (width, height), 1)
            draw = ImageDraw.Draw(image)
        elif name == "FO":
            x, y = (int(v) for v in args.split(","))
        elif name == "BY":
            module = int(args.split(",")[0])
        elif name == "GB":
            assert draw is not None
            w, h, thick = (int(v) for v in args.split(",")[:3])
            if thick >= min(w, h):
                draw.rectangle((x, y, x + w - 1, y + h - 1), fill=0)
            else:
                draw.rectangle((x, y, x + w - 1, y + h - 1), outline=0, width=thick)
        elif name == "BC":
            pending = ("BC", args.split(","))
        elif name == "FD":
            assert pending is not None and draw is not None, "^FD without a field"
            bars_height = int(pending[1][1])
            pattern = "".join(barcode.get("code128", args).build())
            for i, bit in enumerate(pattern):
                if bit == "1":
                    left = x + i * module
                    draw.rectangle((left, y, left + module - 1, y + bars_height - 1), fill=0)
        elif name == "GF":
            assert image is not None
            _graphic(image, x, y, args)
        elif name == "FS":
            pending = None
        elif name == "XZ":
            assert image is not None, "^XZ before ^PW/^LL"
            labels.append(image)
    return labels


def _graphic(image: Image.Image, x: int, y: int, args: str) -> None:
    kind, total, _, row, data = args.split(",", 4)
    assert kind == "A"
    m = re.fullmatch(r":Z64:([A-Za-z0-9+/=]+):([0-9A-F]{4})", data)
    assert m, "only Z64 graphics are written"
    encoded = m.group(1).encode("ascii")
    assert binascii.crc_hqx(encoded, 0) == int(m.group(2), 16), "Z64 CRC does not match"
    raw = zlib.decompress(base64.b64decode(encoded))
    assert len(raw) == int(total)
    rows = len(raw) // int(row)
    bits = Image.frombytes("1", (int(row) * 8, rows), raw)  # 1 = a black dot
    black = Image.new("1", bits.size, 0)
    image.paste(black, (x, y), mask=bits.convert("L"))
