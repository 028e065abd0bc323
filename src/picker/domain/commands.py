"""Command barcodes printed on the station sheets: a scan instead of a key."""

from __future__ import annotations

#: Command code → what it does, in the words printed under the barcode.
COMMANDS: dict[str, str] = {
    "CMD-LOGOUT": "Log out",
    "CMD-OK": "Confirm",
    "CMD-CANCEL": "Cancel / send to lead",
    "CMD-UNDO": "Undo last scan",
    "CMD-SHORT": "Report shortage",
    "CMD-NEWPARCEL": "Start a new parcel",
    "CMD-CLOSE": "Close parcel / pickup",
    "CMD-MISSING": "Parcels left in the lane are missing",
    "CMD-HOLD": "Put the order on hold (lead)",
    "CMD-RELEASE": "Release the order (lead)",
    "CMD-RESEND": "Send the customer's last mail again (lead)",
}
