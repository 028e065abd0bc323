"""Which bins an order's stock is reserved from: all or nothing, fewest bins, walking order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class BinStock:
    stock_id: int
    bin_id: int
    pick_seq: int
    available: int  # on_hand - reserved


@dataclass(frozen=True)
class Need:
    line_id: int
    product_id: int
    sku: str
    quantity: int


@dataclass(frozen=True)
class Take:
    """Reserve ``quantity`` for ``line_id`` from this stock row (one pick task)."""

    line_id: int
    product_id: int
    stock_id: int
    bin_id: int
    pick_seq: int
    quantity: int


@dataclass(frozen=True)
class Plan:
    takes: tuple[Take, ...]
    short: tuple[str, ...]  # SKUs that cannot be covered: then nothing is to be reserved

    @property
    def complete(self) -> bool:
        return not self.short


def plan_reservation(needs: Sequence[Need], stock: Mapping[int, Sequence[BinStock]]) -> Plan:
    """Cover every need from ``stock`` (per product) or say which SKUs are short.

    A line comes from one bin when any bin has enough (the first in walking order); otherwise
    from as few bins as possible (largest first). Two lines of the same product share what is
    available. The takes come back in walking order.
    """
    # What is left in each bin, per product, as lines take from it (filled when first needed).
    left: dict[int, dict[int, int]] = {}
    takes: list[Take] = []
    short: list[str] = []
    for need in needs:
        product = need.product_id
        avail = left.get(product)
        if avail is None:
            bins_of = stock.get(product, ())
            avail = left[product] = {b.stock_id: b.available for b in bins_of if b.available > 0}
        bins = [b for b in stock.get(product, ()) if avail.get(b.stock_id)]
        if len(bins) > 1:
            bins.sort(key=_walk)
        wanted = need.quantity
        if sum([avail[b.stock_id] for b in bins]) < wanted:
            short.append(need.sku)
            continue
        single = next((b for b in bins if avail[b.stock_id] >= wanted), None)
        chosen: list[tuple[BinStock, int]] = []
        if single is not None:
            chosen.append((single, wanted))
        else:
            remaining = wanted
            for b in sorted(bins, key=lambda b: (-avail[b.stock_id], b.pick_seq)):
                take = min(remaining, avail[b.stock_id])
                chosen.append((b, take))
                remaining -= take
                if remaining == 0:
                    break
        for b, qty in chosen:
            avail[b.stock_id] -= qty
            takes.append(Take(need.line_id, product, b.stock_id, b.bin_id, b.pick_seq, qty))
    if short:
        return Plan((), tuple(sorted(set(short))))
    if len(takes) > 1:
        takes.sort(key=_walk_then_line)
    return Plan(tuple(takes), ())


def _walk(b: BinStock) -> int:
    return b.pick_seq


def _walk_then_line(t: Take) -> tuple[int, int]:
    return t.pick_seq, t.line_id
