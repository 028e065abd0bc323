"""Login: scan a badge, then type the PIN."""

from __future__ import annotations

import asyncio

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from picker.domain.scanning import Scan, ScanError, ScanKind
from picker.services import auth
from picker.services.actors import OperatorInfo
from picker.services.scans import ScanOutcome
from picker.tui.incoming import IncomingScan
from picker.tui.messages import LoggedIn
from picker.tui.screens.base import PickerScreen
from picker.tui.text import plain
from picker.tui.widgets.feedback import Feedback, Kind
from picker.tui.widgets.key_bar import KeyBar
from picker.tui.widgets.title_bar import TitleBar


class LoginScreen(PickerScreen):
    """Badge first (scanned), then PIN (typed). Escape or CMD-CANCEL goes back to the badge.

    A badge scanned while the PIN is asked for starts over with that badge; anything else typed
    fast into the PIN field is the PIN (never read as a scan, so never journaled).
    """

    SCREEN_NAME = "login"
    SCAN_COMMANDS = {"CMD-CANCEL": "restart"}
    BINDINGS = [Binding("escape", "restart", "Other badge", id="login.restart")]

    def compose(self) -> ComposeResult:
        terminal = self.picker.settings.terminal
        yield TitleBar(terminal.id, terminal.station)
        with Vertical(id="login-body"):
            yield Static("Scan your badge", id="prompt", classes="prompt")
            yield Input(placeholder="badge", id="badge", classes="scan")
            yield Input(placeholder="PIN", id="pin", password=True, classes="entry")
            yield Feedback(id="feedback")
        yield KeyBar()

    def on_mount(self) -> None:
        self.badge: auth.BadgeInfo | None = None
        self.restart()

    def restart(self, message: str = "", kind: Kind = "info") -> None:
        """Back to the first step: ask for a badge."""
        self.badge = None
        badge, pin = self.query_one("#badge", Input), self.query_one("#pin", Input)
        badge.value = ""
        pin.value = ""
        badge.display = True
        pin.display = False
        self.query_one("#prompt", Static).update("Scan your badge")
        feedback = self.query_one(Feedback)
        if message:
            feedback.show(kind, message, next_step="Scan your badge")
        else:
            feedback.info("Scan the barcode on your badge", next_step="")
        badge.focus()

    def action_restart(self) -> None:
        self.restart()

    def accepts_burst(self, text: str) -> bool:
        if self.badge is None:
            return True
        try:
            return self.picker.router.classify(text).kind is ScanKind.BADGE
        except ScanError:
            return False

    async def receive(self, incoming: IncomingScan) -> None:
        # Anything but a badge or a command may be a PIN typed before the PIN field showed:
        # it is neither journaled nor shown.
        try:
            scan = self.picker.router.classify(incoming.raw)
        except ScanError:
            scan = None
        if scan is not None and scan.kind in (ScanKind.BADGE, ScanKind.COMMAND):
            await super().receive(incoming)
            return
        kind = scan.kind.value if scan is not None else "unreadable"
        await self.journal(ScanOutcome("(not a badge: not recorded)", kind, "refused"))
        self.query_one(Feedback).error("That was not a badge. Scan your badge.")

    async def on_scan(self, scan: Scan) -> None:
        app = self.picker
        try:
            info = await asyncio.to_thread(auth.identify_badge, app.db, scan.text, clock=app.clock)
        except auth.LoginRefused as exc:
            await self.journal(ScanOutcome.of(scan, "refused", str(exc)))
            self.restart(str(exc), "error")
            return
        await self.journal(ScanOutcome.of(scan, "accepted"))
        self._ask_pin(info)

    def _ask_pin(self, info: auth.BadgeInfo) -> None:
        self.badge = info
        self.query_one("#badge", Input).display = False
        pin = self.query_one("#pin", Input)
        pin.display = True
        pin.value = ""
        pin.focus()
        prompt = plain(f"Hello {info.name}")
        prompt.append("\nType your PIN, then Enter")
        self.query_one("#prompt", Static).update(prompt)
        self.query_one(Feedback).info("Esc: a different badge", next_step="Type your PIN")

    @on(Input.Submitted, "#pin")
    def pin_entered(self, event: Input.Submitted) -> None:
        pin = event.value
        event.input.value = ""
        if self.badge is None or not pin:
            return
        self.query_one(Feedback).info("Checking…")
        self.check_pin(self.badge.badge, pin)

    @work(thread=True, exclusive=True, group="db", exit_on_error=False)
    def check_pin(self, badge: str, pin: str) -> None:
        app = self.picker
        try:
            operator = auth.login(
                app.db, app.settings.terminal.id, badge, pin, policy=app.lockout, clock=app.clock
            )
        except auth.LoginRefused as exc:
            if exc.reason == "wrong_pin":
                app.call_from_thread(self.query_one(Feedback).error, str(exc))
            else:
                app.call_from_thread(self.restart, str(exc), "error")
            return
        except Exception as exc:
            app.call_from_thread(app.report_failure, exc)
            return
        app.call_from_thread(self._logged_in, operator)

    def _logged_in(self, operator: OperatorInfo) -> None:
        self.post_message(LoggedIn(operator))
