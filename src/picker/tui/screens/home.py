"""Home: who is logged in and the stations their roles allow."""

from __future__ import annotations

import asyncio

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from picker.domain.roles import STATION_TITLES, Station, stations_for
from picker.domain.scanning import Scan
from picker.services.actors import OperatorInfo
from picker.services.floor import packing, picking
from picker.tui.messages import LoggedOut
from picker.tui.screens.base import PickerScreen
from picker.tui.text import plain
from picker.tui.widgets.feedback import Feedback
from picker.tui.widgets.key_bar import KeyBar
from picker.tui.widgets.title_bar import TitleBar

#: Stations this release has; the others are listed as coming.
OPEN_STATIONS = frozenset(
    {
        Station.PICKING,
        Station.PACKING,
        Station.HANDOFF,
        Station.SERVICE,
        Station.RETURNS,
        Station.COUNTING,
        Station.RECEIVING,
    }
)


class HomeScreen(PickerScreen):
    """The operator's stations; Enter opens the first one (those of later releases are shown as
    such). A picker with orders started goes straight back to them."""

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
                Option(STATION_TITLES[s], id=s.value)
                if s in OPEN_STATIONS
                else Option(f"{STATION_TITLES[s]} — not yet available", id=s.value, disabled=True)
                for s in stations_for(op.roles)
            ]
            yield OptionList(*options, id="stations")
            yield Input(placeholder="scan", id="scan", classes="scan")
            yield Feedback(id="feedback")
        yield KeyBar()

    async def on_mount(self) -> None:
        self.query_one("#stations", OptionList).can_focus = False
        station = self._station()
        step = "Scan CMD-LOGOUT or press F10 to log out"
        if station is not None:
            step = f"Enter: {STATION_TITLES[station]} · F10: log out"
            if len(step) + 4 > self.app.size.width:  # a handheld: the key bar names F10
                step = f"Enter: {STATION_TITLES[station]}"
        self.query_one(Feedback).info("F2: scanner test", next_step=step)
        self.query_one("#scan", Input).focus()
        await self.locked(self._resume, station)  # the database away: said, never a crash

    async def _resume(self, station: Station | None) -> None:
        """Back after a logout, a crash or a power cut: straight on with the same totes, or
        the same order at the packing table (any table)."""
        if station is Station.PICKING and await self._has_started_orders():
            self.picker.open_queue(resume=True)
        elif station is Station.PACKING:
            packing_now = await asyncio.to_thread(packing.mine, self.picker.db, self.operator.id)
            if packing_now is not None:
                self.picker.open_screen("pack", packing_now)
        elif station is Station.RECEIVING and await self._holds_receipt():
            self.picker.open_screen("receiving")  # it takes the receipt up again

    def _station(self) -> Station | None:
        """The station Enter opens: the one this terminal stands at (config [terminal]
        station) if the operator may work it, else the first open one they may."""
        mine = [s for s in stations_for(self.operator.roles) if s in OPEN_STATIONS]
        here = Station(self.picker.settings.terminal.station)
        return here if here in mine else next(iter(mine), None)

    async def _has_started_orders(self) -> bool:
        app = self.picker
        entries = await asyncio.to_thread(
            picking.queue, app.db, self.operator.id, now=app.clock(), tz=app.settings.warehouse.tz
        )
        return any(e.started for e in entries)

    async def _holds_receipt(self) -> bool:
        """Whether this terminal was receiving a receipt (it died, or its operator left)."""
        from picker.services import inbound  # as the dock's screen: loaded when first needed

        app = self.picker
        held = await asyncio.to_thread(inbound.held_receipt, app.db, app.settings.terminal.id)
        return held is not None

    def on_blank_enter(self) -> None:
        station = self._station()
        if station is Station.PICKING:
            self.picker.open_queue()
        elif station is Station.PACKING:
            self.picker.open_screen("pack")
        elif station is Station.HANDOFF:
            self.picker.open_screen("handoff")
        elif station is Station.SERVICE:
            self.picker.open_screen("service")
        elif station is Station.RETURNS:
            self.picker.open_screen("returns")
        elif station is Station.COUNTING:
            self.picker.open_screen("counting")
        elif station is Station.RECEIVING:
            self.picker.open_screen("receiving")
        else:
            self.query_one(Feedback).error("No station of yours is open in this release.")

    async def on_scan(self, scan: Scan) -> None:
        station = self._station()
        then = f"Enter opens {STATION_TITLES[station]}." if station is not None else ""
        await self.refuse(scan, f"{scan.text}: nothing to do with this scan here. {then}".strip())

    def action_scanner_test(self) -> None:
        self.picker.open_screen("scanner-test")

    def action_logout(self) -> None:
        self.post_message(LoggedOut())
