"""Home: who is logged in and the stations their roles allow."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from picker.domain.roles import STATION_TITLES, stations_for
from picker.domain.scanning import Scan
from picker.services.common import OperatorInfo
from picker.tui.messages import LoggedOut
from picker.tui.screens.base import PickerScreen
from picker.tui.screens.scanner_test import ScannerTestScreen
from picker.tui.text import plain
from picker.tui.widgets.feedback import Feedback
from picker.tui.widgets.title_bar import TitleBar


class HomeScreen(PickerScreen):
    """The operator's stations. Stations come in later releases and are shown as such."""

    SCREEN_NAME = "home"
    SCAN_COMMANDS = {"CMD-LOGOUT": "logout"}
    BINDINGS = [
        Binding("f2", "scanner_test", "Scanner test", id="home.scanner_test"),
        Binding("f10", "logout", "Log out", id="home.logout"),
        Binding("escape", "logout", "Log out", show=False, id="home.logout_esc"),
    ]

    def __init__(self, operator: OperatorInfo) -> None:
        super().__init__()
        self.operator = operator

    def compose(self) -> ComposeResult:
        settings = self.picker.settings
        op = self.operator
        yield TitleBar(settings.terminal.id, settings.terminal.station, op.name)
        with Vertical(id="home-body"):
            roles = ", ".join(sorted(r.value for r in op.roles))
            who = plain(f"{op.name} ({op.badge})")
            who.append(f"\nRoles: {roles}")
            yield Static(who, id="who")
            yield Static("Stations", classes="heading")
            options = [
                Option(f"{STATION_TITLES[s]} — not yet available", id=s.value, disabled=True)
                for s in stations_for(op.roles)
            ]
            yield OptionList(*options, id="stations")
            yield Input(placeholder="scan", id="scan", classes="scan")
            yield Feedback(id="feedback")
        yield Footer()

    def on_mount(self) -> None:
        # The scan input keeps the focus: a scan typed into anything else would be lost.
        self.query_one("#stations", OptionList).can_focus = False
        self.query_one(Feedback).info(
            "F2: scanner test", next_step="Scan CMD-LOGOUT or press F10 to log out"
        )
        self.query_one("#scan", Input).focus()

    async def on_scan(self, scan: Scan) -> None:
        await self.refuse(
            scan,
            f"{scan.text}: nothing to do with this scan here. Stations open in a later release.",
        )

    def action_scanner_test(self) -> None:
        self.app.push_screen(ScannerTestScreen())

    def action_logout(self) -> None:
        self.post_message(LoggedOut())
