"""The Picker terminal application: scans in, screens opened by name, the database watched."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

from textual import events, on
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.timer import Timer

from picker.config import Settings
from picker.domain.pins import LockoutPolicy
from picker.domain.scanning import ScanRouter
from picker.domain.text import plural
from picker.services import scans
from picker.services.actors import Clock, OperatorInfo, system_clock
from picker.services.errors import database_unreachable, describe_failure
from picker.services.notify import dispatcher
from picker.services.notify.outbox import Summary
from picker.services.printjobs import print_queue
from picker.store.engine import Database
from picker.tui.capture import ENTER_KEYS, TAB_KEYS, Burst, BurstCapture, StallMonitor
from picker.tui.incoming import IncomingScan
from picker.tui.messages import LoggedIn, LoggedOut
from picker.tui.screens.base import PickerScreen
from picker.tui.screens.handoff import HandoffScreen
from picker.tui.screens.home import HomeScreen
from picker.tui.screens.login import LoginScreen
from picker.tui.screens.pack import PackScreen
from picker.tui.screens.queue import QueueScreen
from picker.tui.screens.scanner_test import ScannerTestScreen
from picker.tui.terminal import ScreenName
from picker.tui.widgets.feedback import Feedback
from picker.tui.widgets.title_bar import TitleBar

#: Seconds between looks for a database that stopped answering.
DATABASE_RETRY_S = 2.0


def _pick_screen(*args: Any, **kwargs: Any) -> PickerScreen:
    from picker.tui.screens.pick import PickScreen

    return PickScreen(*args, **kwargs)


def _lead_screen(*args: Any, **kwargs: Any) -> PickerScreen:
    from picker.tui.screens.lead import LeadScreen

    return LeadScreen(*args, **kwargs)


def _service_screen(*args: Any, **kwargs: Any) -> PickerScreen:
    from picker.tui.screens.service import ServiceScreen

    return ServiceScreen(*args, **kwargs)


def _returns_screen(*args: Any, **kwargs: Any) -> PickerScreen:
    from picker.tui.screens.returns import ReturnsScreen

    return ReturnsScreen(*args, **kwargs)


def _moves_screen(*args: Any, **kwargs: Any) -> PickerScreen:
    from picker.tui.screens.moves import MovesScreen

    return MovesScreen(*args, **kwargs)


def _counting_screen(*args: Any, **kwargs: Any) -> PickerScreen:
    from picker.tui.screens.counting import CountingScreen

    return CountingScreen(*args, **kwargs)


def _receiving_screen(*args: Any, **kwargs: Any) -> PickerScreen:
    from picker.tui.screens.receiving import ReceivingScreen

    return ReceivingScreen(*args, **kwargs)


class _CaptureDue(Message):
    """The burst capture's gap timer ran out (posted so it is handled in order with the keys)."""


class PickerApp(App[None]):
    """One terminal of the floor.

    Every key passes through the burst capture first (:meth:`on_event`); scans, from the scanner
    or typed into a scan field, wait in one queue and one consumer applies them in arrival order
    (:meth:`_apply_scans`), each to the screen current at that moment.
    """

    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "Picker"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", id="app.quit")]
    #: The screens a screen opens by name (:meth:`open_screen`): each opening pushes a new one,
    #: built with the arguments given (unlike Textual's ``SCREENS``, which keeps one of each).
    #: The pick screen, the lead's tools, the service desk and the returns desk are imported when
    #: first opened, as they always were: the terminal starts without them.
    OPENABLE_SCREENS: ClassVar[dict[ScreenName, Callable[..., PickerScreen]]] = {
        "pick": _pick_screen,
        "pack": PackScreen,
        "handoff": HandoffScreen,
        "lead": _lead_screen,
        "service": _service_screen,
        "returns": _returns_screen,
        "moves": _moves_screen,
        "counting": _counting_screen,
        "receiving": _receiving_screen,
        "scanner-test": ScannerTestScreen,
    }

    def __init__(self, settings: Settings, db: Database, *, clock: Clock = system_clock) -> None:
        super().__init__()
        self.settings = settings
        self.db = db
        self.clock = clock
        self.operator: OperatorInfo | None = None
        """The operator logged in on this terminal, if any."""
        self.lockout = LockoutPolicy(
            settings.login.max_failed_pins, timedelta(minutes=settings.login.lockout_minutes)
        )
        """When wrong PINs lock a badge (config [login])."""
        scanner = settings.scanner
        self.router = ScanRouter(scanner.patterns, scanner.prefix, scanner.suffix)
        """Reads every scan: kind, GTIN, GS1 fields, or why it cannot be read."""
        self.stalls = StallMonitor()
        self.capture = BurstCapture(
            self._burst,
            gap_s=scanner.burst_gap_ms / 1000,
            end_keys=ENTER_KEYS | (TAB_KEYS if scanner.suffix == "\t" else frozenset()),
            stalls=self.stalls,
            accepts=self._burst_accepted,
        )
        self._capture_timer: Timer | None = None
        self._queue: QueueScreen | None = None
        self._scans: asyncio.Queue[IncomingScan] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self.scan_applied: Callable[[IncomingScan], None] | None = None
        """Called after each scan's feedback is shown (benchmarks and tests measure with it)."""
        self.database_down = False
        """A call failed for want of the database; the terminal looks for it (see
        :meth:`database_lost`)."""
        self._database_up = asyncio.Event()
        self._database_up.set()
        self.held: IncomingScan | None = None
        """The scan that failed for want of the database: sent again, under the same key, once
        it is back; the scans after it wait their turn."""
        self._left_at = 0.0
        """When a held scan was found to belong to a screen left meanwhile: scans queued before
        then, made for that screen, are not sent either."""
        self.printer_alert: str | None = None
        """This terminal's printer trouble in words ("printer T01 down, 3 labels queued"), shown
        under every screen's title; None while it prints."""
        self.print_worker = print_queue.terminal_worker(
            db, settings, on_status=self._printer_status, clock=clock
        )
        """Sends this terminal's print jobs in the background (a printer that is down never
        blocks a screen: its jobs wait)."""
        self.notify_alert: str | None = None
        """Mail or shop messages that failed ("mail: 3 failed, 12 waiting"), or mail waiting
        with nowhere to go ("mail: not configured, 12 waiting"), shown under every screen's
        title; None while there is neither."""
        self.outbox = dispatcher.Dispatcher(
            db, settings, clock=clock, claimed_by=dispatcher.claimant(settings.terminal.id),
            on_summary=self._outbox_summary, dispatch=settings.notify.dispatch_in_terminal,
        )  # fmt: skip
        """Watches the outbox for the title line and, with ``[notify] dispatch_in_terminal``,
        sends what is due, in the background."""

    def on_mount(self) -> None:
        self._event_loop = asyncio.get_running_loop()
        self.stalls.start()
        self._tasks = [asyncio.create_task(self._apply_scans(), name="scan-consumer")]
        self.push_screen(LoginScreen())
        self.print_worker.start()
        self.outbox.start()
        self.call_after_refresh(settle_memory)

    async def on_unmount(self) -> None:
        self.stalls.stop()
        await asyncio.to_thread(self.print_worker.stop)
        await asyncio.to_thread(self.outbox.stop)
        for task in self._tasks:
            task.cancel()

    # --- the printer ------------------------------------------------------------------------

    def _printer_status(self, current: print_queue.PrinterStatus) -> None:
        """From the print worker's thread: hand the status to the event loop."""
        with contextlib.suppress(RuntimeError):  # the app is closing: nothing left to show
            self.call_from_thread(self.show_printer, print_queue.alert(current))

    def show_printer(self, alert: str | None) -> None:
        if alert == self.printer_alert:
            return
        self.printer_alert = alert
        self._show_alerts()

    def _outbox_summary(self, current: Summary) -> None:
        """From the outbox watcher's thread: hand the failed messages to the event loop."""
        with contextlib.suppress(RuntimeError):  # the app is closing: nothing left to show
            alert = current.alert(mail_configured=self.settings.notify.mail_configured)
            self.call_from_thread(self.show_outbox, alert)

    def show_outbox(self, alert: str | None) -> None:
        if alert == self.notify_alert:
            return
        self.notify_alert = alert
        self._show_alerts()

    def alerts(self) -> list[str]:
        """What the red line under every title says: the printer's trouble, failed messages,
        the database's."""
        found = [f"⎙ {self.printer_alert}"] if self.printer_alert else []
        if self.notify_alert:
            found.append(f"✉ {self.notify_alert}")
        if self.database_down:
            waiting = self._scans.qsize() + (self.held is not None)
            held = f" · {plural(waiting, 'scan')} held" if waiting else ""
            found.append(f"⚠ database unreachable, retrying…{held}")
        return found

    def _show_alerts(self) -> None:
        for screen in self.screen_stack:
            for bar in screen.query(TitleBar):
                bar.show_alerts(self.alerts())

    # --- the database ---------------------------------------------------------------------

    def database_lost(self) -> None:
        """A call failed for want of the database: say so under every title and look for it
        every few seconds until it answers. A scan it failed is held and sent again then (see
        :meth:`_apply`); a key or a command is done again by the operator."""
        if self.database_down:
            return
        self.database_down = True
        self._database_up.clear()
        self._show_alerts()
        # A task of the app's own (not a worker: the scans go on being answered meanwhile).
        self._tasks.append(asyncio.create_task(self._watch_database(), name="database-watch"))

    async def _watch_database(self) -> None:
        while True:
            await asyncio.sleep(DATABASE_RETRY_S)
            try:
                await asyncio.to_thread(self.db.ping)
            except Exception:  # still away
                continue
            break
        self.database_down = False
        self._database_up.set()
        self._show_alerts()
        words = (
            "Database back." if self.held is not None else "Database back. Do again what failed."
        )
        try:
            self.screen.query_one(Feedback).info(words)
        except Exception:
            self.notify(words, markup=False)

    # --- scans in ---------------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            for key in self.capture.feed(event):
                await super().on_event(key)
            self._arm_capture_timer()
            return
        await super().on_event(event)

    def _arm_capture_timer(self) -> None:
        if self.capture.waiting and self._capture_timer is None:
            self._capture_timer = self.set_timer(self.capture.gap_s + 0.001, self._capture_timeout)

    def _capture_timeout(self) -> None:
        # Posted by the route the terminal driver uses (a thread-safe call onto the loop), so keys
        # the driver read before this moment, still on their way, reach the queue first.
        asyncio.run_coroutine_threadsafe(self._post_message(_CaptureDue()), self._event_loop)

    @on(_CaptureDue)
    async def _capture_due(self, message: _CaptureDue) -> None:
        self._capture_timer = None
        # Judged at the moment the timer ran out, not when the loop got round to it.
        for key in self.capture.expire(message.time):
            await super().on_event(key)
        self._arm_capture_timer()

    def _burst_accepted(self, text: str) -> bool:
        screen = self.screen
        return not isinstance(screen, PickerScreen) or screen.accepts_burst(text)

    def _burst(self, burst: Burst) -> None:
        self.enqueue_scan(burst.text, manual=False)

    def enqueue_scan(self, raw: str, *, manual: bool) -> None:
        """Queue a scan for the consumer; it is applied after every scan queued before it."""
        if self.held is None:
            self._scans.put_nowait(IncomingScan(raw, manual, time.monotonic()))
            return
        # The database is away and a scan is held: this one waits behind it, for this screen.
        self._scans.put_nowait(IncomingScan(raw, manual, time.monotonic(), held_on=self.screen))
        self._show_alerts()
        with contextlib.suppress(Exception):  # a screen without feedback: the title line says it
            self.screen.query_one(Feedback).error(
                f"Database unreachable: held, {self._scans.qsize() + 1} scans wait to be sent.",
                scan=raw,
            )

    async def scans_settled(self) -> None:
        """Wait until every queued scan has been applied (tests and benchmarks)."""
        await self._scans.join()

    async def _apply_scans(self) -> None:
        while True:
            incoming = await self._scans.get()
            try:
                await self._apply(incoming)
            except Exception as exc:
                self.report_failure(exc)
            finally:
                self._scans.task_done()
                if self.scan_applied is not None:
                    self.scan_applied(incoming)

    async def _apply(self, incoming: IncomingScan) -> None:
        """Apply one scan on the current screen. If the database cannot be reached, the scan is
        held (and every scan after it waits in the queue) until it is back, then sent again
        under the same key: applied once, whether or not its first sending had been saved."""
        screen = self.screen
        if not isinstance(screen, PickerScreen):
            return
        stamped = incoming.held_on
        if (stamped is not None and stamped is not screen) or (
            stamped is None and incoming.arrived < self._left_at
        ):
            self._not_sent(incoming)
            return
        key = scans.ScanKey(incoming.key)
        while True:
            try:
                if key.resent:
                    await asyncio.to_thread(scans.not_saved_before, self.db, key)
                with scans.sending(key):
                    await screen.receive(incoming)
                return
            except scans.AlreadySaved as saved:
                await screen.resync()
                show = screen.feedback.ok if saved.result == "accepted" else screen.feedback.error
                show(str(saved), scan=incoming.raw)
                return
            except Exception as exc:
                if not database_unreachable(exc):
                    raise
            self.held = incoming
            self.database_lost()
            self._show_alerts()
            screen.feedback.error(
                "Database unreachable: this scan is held, not saved yet. It is sent by itself "
                "when the database is back.",
                scan=incoming.raw,
                next_step="Wait, or go on: later scans are sent after it, in order",
            )
            await self._database_up.wait()
            self.held = None
            if self.screen is not screen:
                self._left_at = time.monotonic()
                self._not_sent(incoming)
                return
            key = scans.ScanKey(incoming.key, resent=True)

    def _not_sent(self, incoming: IncomingScan) -> None:
        """A scan held while the database was away, on a screen since left: not applied."""
        with contextlib.suppress(Exception):
            self.screen.query_one(Feedback).error(
                f"Not sent: {incoming.raw!r} was scanned on a screen you left while the "
                "database was away. Scan it again if it is meant for this one.",
                scan=incoming.raw,
            )

    # --- who is logged in -------------------------------------------------------------------

    @on(LoggedIn)
    def logged_in(self, message: LoggedIn) -> None:
        self.operator = message.operator
        self.push_screen(HomeScreen(message.operator))
        self.call_after_refresh(settle_memory)

    def open_screen(self, name: ScreenName, *args: Any, **kwargs: Any) -> None:
        """Push a new screen ``name`` (a key of :attr:`OPENABLE_SCREENS`), built with ``args``
        and ``kwargs``."""
        self.push_screen(self.OPENABLE_SCREENS[name](*args, **kwargs))

    def open_queue(self, *, resume: bool = False) -> None:
        """Show the picker queue. It is built once per login and kept (installed): opening it
        again only reads the list, which keeps it quick on a small handheld."""
        if self._queue is None:
            self._queue = QueueScreen()
            self.install_screen(self._queue, name="queue")
        self._queue.resume = resume
        self.push_screen("queue")

    @on(LoggedOut)
    def logged_out(self) -> None:
        name = self.operator.name if self.operator else ""
        self.operator = None
        while len(self.screen_stack) > 2:
            self.pop_screen()
        if self._queue is not None:
            self.uninstall_screen("queue")
            self._queue = None
        login = self.screen_stack[-1]
        if isinstance(login, LoginScreen):
            login.restart(f"{name} logged out" if name else "", "ok")

    def report_failure(self, exc: BaseException) -> None:
        """An unexpected failure in a worker: shown in words on the current screen."""
        described = describe_failure(exc)
        if described is None:
            message = f"Something went wrong ({type(exc).__name__}): {exc}"
        elif database_unreachable(exc):
            message = "Database unreachable: nothing was saved. Do it again when it is back."
            self.database_lost()
        else:
            message = described
        try:
            self.screen.query_one(Feedback).error(message)
        except Exception:
            self.notify(message, severity="error", markup=False)


def settle_memory() -> None:
    """Keep the garbage collector's full passes short: what the terminal has built so far
    (modules, screens, the database engine) lives until it exits, so it is collected once and
    then left out of every later pass. Measured on `picker bench pick`: full passes of 135-170
    ms, each one a scan answered that much later, without this."""
    gc.unfreeze()  # what an earlier call froze and has since been let go (a logged-out
    gc.collect()  # operator's screens) is collected now, not kept for the whole shift
    gc.freeze()


def make_app(settings: Settings, db: Database, *, clock: Clock = system_clock) -> PickerApp:
    """The app factory used by the command line and by the tests alike."""
    return PickerApp(settings, db, clock=clock)
