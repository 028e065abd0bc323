"""What screens may use of the running app, stated as a Protocol so they never import the app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol, TypeVar

from picker.config import Settings
from picker.domain.pins import LockoutPolicy
from picker.domain.scanning import ScanRouter
from picker.services.actors import Clock, OperatorInfo
from picker.services.printjobs.print_queue import PrintWorker
from picker.store.engine import Database

_R = TypeVar("_R")

#: The screens a screen may open by name (:meth:`Terminal.open_screen`).
ScreenName = Literal[
    "pick", "pack", "handoff", "lead", "service", "returns", "scanner-test", "receiving"
]


class Terminal(Protocol):
    """The app as a screen sees it (``PickerScreen.picker``). The app (``picker.tui.app``)
    imports the screens and fills this in; screens reach other screens only through
    :meth:`open_screen` and :meth:`open_queue`, by name."""

    settings: Settings
    db: Database
    clock: Clock
    operator: OperatorInfo | None
    """The operator logged in on this terminal, if any."""
    lockout: LockoutPolicy
    router: ScanRouter
    print_worker: PrintWorker
    database_down: bool
    """A call failed for want of the database; the terminal looks for it."""

    def alerts(self) -> list[str]:
        """What the red line under every title says: the printer's trouble, the database's."""
        ...

    def report_failure(self, exc: BaseException) -> None:
        """An unexpected failure in a worker: shown in words on the current screen."""
        ...

    def enqueue_scan(self, raw: str, *, manual: bool) -> None:
        """Queue a scan for the consumer; it is applied after every scan queued before it."""
        ...

    def database_lost(self) -> None:
        """A call failed for want of the database: say so and look for it until it answers."""
        ...

    def open_queue(self, *, resume: bool = False) -> None:
        """Show the picker queue (built once per login and kept)."""
        ...

    def open_screen(self, name: ScreenName, *args: Any, **kwargs: Any) -> None:
        """Push a new screen ``name`` (a :data:`ScreenName`), built with ``args`` and
        ``kwargs``."""
        ...

    def call_from_thread(
        self,
        callback: Callable[..., _R | Awaitable[_R]],
        *args: Any,
        **kwargs: Any,
    ) -> _R:
        """Run ``callback`` on the app's event loop from a worker thread (Textual's own)."""
        ...
