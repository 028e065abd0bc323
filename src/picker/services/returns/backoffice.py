"""The returns desk without the station: an RMA authorized ahead of the parcel, and a return
received whole from the command line (all of it, or nothing)."""

from __future__ import annotations

from collections.abc import Sequence

from picker.config import Settings
from picker.services.actors import Actor, Clock, allow, system_clock
from picker.services.returns.shapes import Closed, ReceiveLine, ReturnRefused, ReturnSummary
from picker.store.engine import Database

__all__ = ["Closed", "ReceiveLine", "ReturnRefused", "ReturnSummary", "authorize", "receive"]


def authorize(
    db: Database,
    actor: Actor,
    order_no: str,
    lines: Sequence[tuple[str, int]],
    reason: str,
    *,
    exchange: bool = False,
    settings: Settings,
    clock: Clock = system_clock,
) -> ReturnSummary:
    """Issue an RMA for the order ``order_no`` (ours or the shop's number): the lines expected
    back (SKU, quantity each; at most what was shipped and is not back yet) and the reason (a
    code of ``[returns] reasons``). Status ``authorized``."""
    allow(actor, "returns.backoffice.authorize")
    raise NotImplementedError


def receive(
    db: Database,
    actor: Actor,
    ref: str,
    lines: Sequence[ReceiveLine],
    *,
    reason: str | None = None,
    note: str | None = None,
    exchange: Sequence[tuple[str, int]] | None = None,
    settings: Settings,
    clock: Clock = system_clock,
) -> Closed:
    """Receive a return whole (``ref``: an order, RMA or tracking number) and close it, in ONE
    transaction. Any line refused (not in the order, more than shipped, an unknown bin…) raises
    :class:`ReturnRefused` naming the line, and nothing is written."""
    allow(actor, "returns.backoffice.receive")
    raise NotImplementedError
