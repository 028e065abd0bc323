"""The Picker terminal application."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from textual import on
from textual.app import App
from textual.binding import Binding

from picker.config import Settings
from picker.domain.pins import LockoutPolicy
from picker.services.common import Clock, OperatorInfo, describe_failure, system_clock
from picker.store.engine import Database
from picker.tui.messages import LoggedIn, LoggedOut
from picker.tui.screens.home import HomeScreen
from picker.tui.screens.login import LoginScreen
from picker.tui.widgets.feedback import Feedback


class PickerApp(App[None]):
    """One terminal of the floor."""

    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "Picker"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", show=False, id="app.quit")]

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

    def on_mount(self) -> None:
        self.push_screen(LoginScreen())

    @on(LoggedIn)
    def logged_in(self, message: LoggedIn) -> None:
        self.operator = message.operator
        self.push_screen(HomeScreen(message.operator))

    @on(LoggedOut)
    def logged_out(self) -> None:
        name = self.operator.name if self.operator else ""
        self.operator = None
        while len(self.screen_stack) > 2:
            self.pop_screen()
        login = self.screen_stack[-1]
        if isinstance(login, LoginScreen):
            login.restart(f"{name} logged out" if name else "", "ok")

    def report_failure(self, exc: BaseException) -> None:
        """An unexpected failure in a worker: shown in words on the current screen."""
        described = describe_failure(exc)
        if described is None:
            message = f"Something went wrong ({type(exc).__name__}): {exc}"
        elif described.startswith("the database cannot be used"):
            message = "Database unreachable. Try again; call the shift lead if it persists."
        else:
            message = described
        try:
            self.screen.query_one(Feedback).error(message)
        except Exception:
            self.notify(message, severity="error", markup=False)


def make_app(settings: Settings, db: Database, *, clock: Clock = system_clock) -> PickerApp:
    """The app factory used by the command line and by the tests alike."""
    return PickerApp(settings, db, clock=clock)
