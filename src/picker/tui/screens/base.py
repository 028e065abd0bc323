"""What every Picker screen shares: typed access to the app, and the scan path.

Scans reach a screen one at a time, in arrival order, through :meth:`PickerScreen.receive` (the
app's single scan consumer calls it). The base class reads the scan with the router, answers
refusals and command barcodes, journals what it did, and hands a readable scan to
:meth:`PickerScreen.on_scan`, which stations override.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ClassVar, TypeVar, cast

from textual import events, on
from textual.screen import Screen
from textual.widgets import Input

from picker.domain.commands import COMMANDS
from picker.domain.scanning import Scan, ScanError, ScanKind
from picker.services import scans
from picker.services.actors import Actor
from picker.services.errors import ServiceError
from picker.services.scans import ScanOutcome
from picker.tui.incoming import IncomingScan
from picker.tui.terminal import Terminal
from picker.tui.widgets.feedback import Feedback
from picker.tui.widgets.title_bar import TitleBar

#: Below this many columns a screen is written for a handheld (shorter lines); below this many
#: rows, with fewer of them.
NARROW_BELOW = 60
SHORT_BELOW = 20


_T = TypeVar("_T")


class PickerScreen(Screen[None]):
    #: The screen's name in the scan journal.
    SCREEN_NAME: ClassVar[str] = "screen"
    #: Command barcodes this screen obeys: code → action name (each has a key binding too).
    SCAN_COMMANDS: ClassVar[dict[str, str]] = {}
    #: Classes the screen carries by its size, for styles that make room on a 40x16 handheld:
    #: ``-narrow`` under 60 columns (else ``-wide``), ``-short`` under 20 rows (else ``-tall``).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW_BELOW, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (SHORT_BELOW, "-tall")]

    def __init__(self) -> None:
        super().__init__()
        self.busy = asyncio.Lock()
        """Scans, keys and keyed entries change what the screen works on one at a time."""

    @property
    def narrow(self) -> bool:
        """A handheld's width: every line written short."""
        return self.app.size.width < NARROW_BELOW

    def show(self) -> None:
        """Draw what the screen works on as it now stands (stations override this)."""

    async def reload(self) -> None:
        """Read what the screen works on from the database (stations override this)."""

    async def resync(self) -> None:
        """Read again what the screen works on: a scan sent twice (its first answer lost with
        the database connection) had been saved, and the screen did not see it happen."""
        await self.locked(self.reload)

    async def locked(self, fn: Callable[..., object], *args: object) -> None:
        """Run a key's action under the screen's lock, a failure said in words (never a crash),
        then show the screen as it now stands."""
        async with self.busy:
            try:
                result = fn(*args)
                if asyncio.iscoroutine(result):
                    await result
            except Exception as exc:  # the database, for one
                self.picker.report_failure(exc)
            finally:
                self.show()

    @property
    def picker(self) -> Terminal:
        """The running app, typed as what screens may use of it (``self.app`` is a plain
        ``App`` to the type checker)."""
        return cast(Terminal, self.app)

    @on(events.ScreenResume)
    def _printer_line_again(self) -> None:
        """A screen kept while others were shown (the picker queue) shows the printer as it
        is now, not as it was when it was last on screen."""
        for bar in self.query(TitleBar):
            bar.show_alerts(self.picker.alerts())

    def title_bar(self, place: str) -> TitleBar:
        """The top line: this terminal, ``place`` (a station or a screen), who is logged in."""
        app = self.picker
        return TitleBar(app.settings.terminal.id, place, app.operator.name if app.operator else "")

    @property
    def feedback(self) -> Feedback:
        return self.query_one(Feedback)

    @property
    def actor(self) -> Actor:
        app = self.picker
        return Actor(app.settings.terminal.id, app.operator)

    def accepts_burst(self, text: str) -> bool:
        """Whether a fast burst ending in Enter is a scan here (a PIN field says no to digits)."""
        return True

    @on(Input.Submitted, ".scan")
    def _typed_scan(self, event: Input.Submitted) -> None:
        """Typed by hand into the scan field: the same path as a scanner's burst."""
        event.stop()
        raw = event.value
        event.input.value = ""
        if raw.strip():
            self.picker.enqueue_scan(raw, manual=True)
        else:
            self.on_blank_enter()

    @on(Input.Changed)
    def _typing(self, event: Input.Changed) -> None:
        """A key typed into a field (a scan never reaches one): a refusal shown has been read
        and gives way to the next step."""
        if event.value:
            for feedback in self.query(Feedback):
                feedback.key_typed()

    def keyed_or_scan(self, entry: Input, keyed: bool) -> None:
        """Show ``entry`` (a field a person keys a number into) or the scan field, never both,
        and put the focus there. Scans arrive whatever has the focus, so on a small screen the
        scan field makes room for the keyed one."""
        entry.display = keyed
        field = self.query_one("#scan", Input)
        if field.display == keyed:  # only a change costs a new layout
            field.display = not keyed
        target = entry if keyed else field
        if self.focused is not target:
            target.focus()

    def on_blank_enter(self) -> None:
        """Enter with nothing typed: a screen's "go on" (open the station, start picking…)."""

    async def receive(self, incoming: IncomingScan) -> None:
        """Apply one scan; returns when its effect is committed and its feedback is shown."""
        try:
            scan = self.picker.router.classify(incoming.raw)
        except ScanError as exc:
            await self.journal(ScanOutcome.unreadable(incoming.raw, exc))
            self.feedback.error(str(exc), scan=incoming.raw)
            return
        if scan.kind is ScanKind.COMMAND:
            await self.on_command(scan)
            return
        await self.on_scan(scan)

    async def on_command(self, scan: Scan) -> None:
        action = self.SCAN_COMMANDS.get(scan.text)
        if action is None:
            what = COMMANDS.get(scan.text, "an unknown command")
            await self.refuse(scan, f"{scan.text} ({what}) does nothing on this screen.")
            return
        await self.journal(ScanOutcome.of(scan, "accepted"))
        await self.run_action(action)

    async def on_scan(self, scan: Scan) -> None:
        """A readable scan that is not a command. Stations override this."""
        await self.refuse(scan, f"{scan.kind.value.capitalize()} {scan.text}: nothing to do here.")

    async def _call(
        self, fn: Callable[..., _T], *args: object, refused: Scan | None = None, **kw: object
    ) -> _T | None:
        """Run a service call in a thread. A refusal is shown in red with the bell (journaled
        against ``refused``, the scan that asked, when the service did not) and None returned."""
        try:
            return await asyncio.to_thread(fn, *args, **kw)
        except ServiceError as exc:
            if refused is not None:
                await self.refuse(refused, str(exc))
            else:
                self.feedback.error(str(exc))
            return None

    async def refuse(self, scan: Scan, message: str) -> None:
        """Journal a refused scan and say why, in red with the bell."""
        await self.journal(ScanOutcome.of(scan, "refused", message))
        self.feedback.error(message, scan=scan.raw)

    async def journal(self, outcome: ScanOutcome) -> None:
        """Record a scan that changes nothing else (off the event loop; waits for the commit)."""
        app = self.picker
        await asyncio.to_thread(
            scans.record,
            app.db,
            self.actor,
            app.settings.terminal.station,
            self.SCREEN_NAME,
            outcome,
            clock=app.clock,
        )
