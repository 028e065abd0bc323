"""Cycle counts: planned by a lead, made blind by scan at the bin, recounted by another
operator on a difference, adjusted (or approved by a lead), with the bin locked meanwhile.

The API the counting station, the command line and the other stations use."""

from picker.services.counts.counting import (
    MAX_UNITS,
    confirm_empty,
    count_item,
    finish_count,
    held_count,
    is_product_code,
    key_count,
    start_count,
)
from picker.services.counts.decide import approve, cancel, reject
from picker.services.counts.lock import hold_bin, lock_of, locked_words
from picker.services.counts.plan import count_view, list_counts, plan_counts
from picker.services.counts.shapes import (
    STATION,
    CountBusy,
    CountLineView,
    CountRefused,
    CountResult,
    CountSummary,
    CountView,
    PlannedCounts,
    ProductResult,
    RecountBySameOperator,
    planned_words,
)

__all__ = [
    "MAX_UNITS",
    "STATION",
    "CountBusy",
    "CountLineView",
    "CountRefused",
    "CountResult",
    "CountSummary",
    "CountView",
    "PlannedCounts",
    "ProductResult",
    "RecountBySameOperator",
    "approve",
    "cancel",
    "confirm_empty",
    "count_item",
    "count_view",
    "finish_count",
    "held_count",
    "hold_bin",
    "is_product_code",
    "key_count",
    "list_counts",
    "lock_of",
    "locked_words",
    "plan_counts",
    "planned_words",
    "reject",
    "start_count",
]
