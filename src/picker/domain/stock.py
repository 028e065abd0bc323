"""Stock quantities: the limits a keyed or scanned count is held to."""

from __future__ import annotations

#: More units than this received on one scan or counted of one product in one bin is a typing
#: slip (and would overflow a 32-bit column on PostgreSQL), never stock.
MAX_UNITS = 1_000_000
