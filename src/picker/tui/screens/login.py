"""Login: scan a badge, then type the PIN."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Input, Static

from picker.services import auth
from picker.services.common import OperatorInfo
from picker.tui.messages import LoggedIn
from picker.tui.screens.base import PickerScreen
from picker.tui.text import plain
from picker.tui.widgets.feedback import Feedback
from picker.tui.widgets.title_bar import TitleBar


class LoginScreen(PickerScreen):
    """Badge first (scanned), then PIN (typed). Escape goes back to the badge."""

    BINDINGS = [Binding("escape", "restart", "Other badge", id="login.restart")]

    def compose(self) -> ComposeResult:
        terminal = self.picker.settings.terminal
        yield TitleBar(terminal.id, terminal.station)
        with Vertical(id="login-body"):
            yield Static("Scan your badge", id="prompt", classes="prompt")
            yield Input(placeholder="badge", id="badge", classes="scan")
            yield Input(placeholder="PIN", id="pin", password=True, classes="scan")
            yield Feedback(id="feedback")
        yield Footer()

    def on_mount(self) -> None:
        self.badge: auth.BadgeInfo | None = None
        self.restart()

    def restart(self, message: str = "", kind: str = "info") -> None:
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
            feedback.show(kind, message)
        else:
            feedback.info("Scan the barcode on your badge")
        badge.focus()

    def action_restart(self) -> None:
        self.restart()

    @on(Input.Submitted, "#badge")
    def badge_scanned(self, event: Input.Submitted) -> None:
        text = self.take_scan(event)
        if text is None:
            return
        if not self.picker.settings.scanner.patterns["badge"].fullmatch(text):
            self.query_one(Feedback).error(f"{text} is not a badge. Scan your badge.")
            return
        self.identify(text)

    @work(thread=True, exclusive=True, group="db", exit_on_error=False)
    def identify(self, badge: str) -> None:
        try:
            info = auth.identify_badge(self.picker.db, badge, clock=self.picker.clock)
        except auth.LoginRefused as exc:
            self.app.call_from_thread(self.query_one(Feedback).error, str(exc))
            return
        except Exception as exc:
            self.app.call_from_thread(self.picker.report_failure, exc)
            return
        self.app.call_from_thread(self._ask_pin, info)

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
        self.query_one(Feedback).info("Esc: a different badge")

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
