"""Returns as people read them: the list (``picker return list``) and one in full."""

from __future__ import annotations

from picker.services.returns.shapes import ReturnDetail, ReturnSummary
from picker.store.engine import Database

__all__ = ["ReturnDetail", "ReturnSummary", "list_returns", "show"]


def list_returns(db: Database, *, status: str | None = None) -> list[ReturnSummary]:
    """Every return (of ``status``), newest first."""
    raise NotImplementedError


def show(db: Database, ref: str) -> ReturnDetail:
    """One return: ``ref`` is its RMA number, or an order's number (its latest return)."""
    raise NotImplementedError
