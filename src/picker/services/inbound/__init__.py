"""Receiving: inbound notices (:mod:`.notices`), the dock's scans (:mod:`.dock`) and put-away
(:mod:`.putaway`); the shapes they share are in :mod:`.shapes`.

Goods received wait in the dock (``[receiving] dock_bin``, a bin of role ``receiving``: never
reserved or picked) until put away into a pick or reserve bin; every unit is in the ledger
(``receipt``, ``receipt_undo``, ``putaway``, the receipt's reference as the document).
"""

from picker.services.inbound.dock import (
    ScannedProduct,
    accept,
    close_receipt,
    held_receipt,
    key_count,
    open_receipt,
    park,
    receive,
    scanned_product,
    undo_last,
)
from picker.services.inbound.notices import import_notices, list_receipts, receipt_view
from picker.services.inbound.putaway import (
    dock_items,
    put_away,
    receive_lines,
    release_held,
    suggest_bin,
)
from picker.services.inbound.shapes import (
    BackOfficeLine,
    BackOfficeReceipt,
    Discrepancies,
    Discrepancy,
    DockItem,
    InboundRefused,
    NotOnNotice,
    OverReceipt,
    PutAwayDone,
    PutAwayRefused,
    ReceiptBusy,
    ReceiptLineView,
    ReceiptRefused,
    ReceiptSummary,
    ReceiptView,
    Received,
    Suggestion,
    UnknownProduct,
)

__all__ = [
    "BackOfficeLine",
    "BackOfficeReceipt",
    "Discrepancies",
    "Discrepancy",
    "DockItem",
    "InboundRefused",
    "NotOnNotice",
    "OverReceipt",
    "PutAwayDone",
    "PutAwayRefused",
    "ReceiptBusy",
    "ReceiptLineView",
    "ReceiptRefused",
    "ReceiptSummary",
    "ReceiptView",
    "Received",
    "ScannedProduct",
    "Suggestion",
    "UnknownProduct",
    "accept",
    "close_receipt",
    "dock_items",
    "held_receipt",
    "import_notices",
    "key_count",
    "list_receipts",
    "open_receipt",
    "park",
    "put_away",
    "receipt_view",
    "receive",
    "receive_lines",
    "release_held",
    "scanned_product",
    "suggest_bin",
    "undo_last",
]
