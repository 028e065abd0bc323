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
    "CMD-CLOSE": "Close parcel / pickup / return",
    "CMD-MISSING": "Parcels left in the lane are missing",
    "CMD-HOLD": "Put the order on hold (lead)",
    "CMD-RELEASE": "Release the order (lead)",
    "CMD-RESEND": "Send the customer's last mail again (lead)",
    # The returns desk: a returned unit's condition, then the return's close.
    "CMD-RESELL": "Return: resell (put it away)",
    "CMD-DAMAGED": "Return: damaged (quarantine)",
    "CMD-DEFECT": "Return: defective (quarantine)",
    "CMD-INCOMPLETE": "Return: incomplete (quarantine)",
    "CMD-SCRAP": "Return: scrap (key the reason)",
    "CMD-FOREIGN": "Return: not ours / empty box (key a note)",
    "CMD-EXCHANGE": "Return: close as an exchange",
    # The receiving dock.
    "CMD-PUTAWAY": "Receiving: put goods away",
    "CMD-ACCEPT": "Receiving: accept the refused scan (lead)",
    # Stock counts.
    "CMD-EMPTY": "Count: done (nothing more / bin empty)",
}
