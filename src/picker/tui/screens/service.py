"""The customer-service desk: any key a customer or a parcel gives, the order behind it.

Type or scan an order number, the shop's number, a tracking number, an e-mail, a phone or
words of a name, then Enter: the matching orders are listed (one alone opens at once); Enter
opens the one highlighted (↑ ↓). An open order shows first what the agent reads out on the
phone — where it stands in the customer's words, each parcel's tracking number, what its
courier last said and its tracking link — and under it the order's whole story, newest first
(PgUp/PgDn, ↑ ↓ scroll). From there a lead can put it on hold (F3, with the reason), release it
(F4) or send the customer their last mail again (F5); the service role is refused those in
words. Esc goes back to the matches, then to the home screen.

Laid out for a 40x16 handheld first: every customer text on one row, cut with an ellipsis, the
status and tracking before anything else. Customer text is shown literally (no markup, control
characters made visible).
"""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Callable
from datetime import datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from picker.domain.roles import USE_CASES, NotAllowed, check_use_case
from picker.domain.scanning import ScanError, ScanKind
from picker.domain.text import plural
from picker.services.errors import ServiceError
from picker.services.notify import outbox
from picker.services.orders import lead_actions, service_desk
from picker.services.orders.find import FoundOrder, find_orders
from picker.services.orders.service_desk import OrderCard
from picker.services.orders.timeline import Entry, order_timeline
from picker.services.scans import ScanOutcome
from picker.tui.incoming import IncomingScan
from picker.tui.screens.base import PickerScreen
from picker.tui.text import safe
from picker.tui.widgets.feedback import Feedback
from picker.tui.widgets.key_bar import KeyBar

#: Orders listed for one search at most (newest first).
LISTED = 50
#: A parcel's state before its courier says anything, in the desk's words.
_OURS = {"open": "being packed", "closed": "packed", "handed_over": "handed over"}
#: Orders past holding, and why, in words.
_GONE = {
    "executed": "has left with its courier",
    "delivered": "is delivered",
    "cancelled": "is cancelled",
    "returned": "is returned",
}
#: What the desk finds an order by, shown while nothing is searched yet.
_KEYS = (
    "Find an order by any of:\n"
    "  our order number    PO-0000123\n"
    "  the shop's number   1004 or #1004\n"
    "  a tracking number\n"
    "  the customer's e-mail or phone\n"
    "  words of the name   nguyen an"
)
#: The lead's actions: key action → the use-case it runs (checked before anything is asked).
_ACTIONS = {
    "hold": "orders.lead_actions.hold_order",
    "release": "orders.lead_actions.release_order",
    "resend": "notify.outbox.resend",
}


def cut(text: str | None, width: int, style: str = "") -> Text:
    """Customer text on one row of ``width`` cells at most: shown literally, cut with "…"."""
    shown = Text(safe(text), style=style, no_wrap=True)
    shown.truncate(max(1, width), overflow="ellipsis")
    return shown


class ServiceScreen(PickerScreen):
    SCREEN_NAME = "service"
    SCAN_COMMANDS = {
        "CMD-CANCEL": "back",
        "CMD-HOLD": "act('hold')",
        "CMD-RELEASE": "act('release')",
        "CMD-RESEND": "act('resend')",
    }
    BINDINGS = [
        Binding("f3", "act('hold')", "Hold", id="service.hold"),
        Binding("f4", "act('release')", "Release", id="service.release"),
        Binding("f5", "act('resend')", "Resend mail", id="service.resend"),
        Binding("escape", "back", "Back", id="service.back"),
        Binding("down", "move(1)", "Next", show=False, id="service.down"),
        Binding("up", "move(-1)", "Previous", show=False, id="service.up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="service.page_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="service.page_up"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.query_text = ""
        """The last search."""
        self.matches: list[FoundOrder] = []
        self.card: OrderCard | None = None
        """The order open, None while searching."""
        self.entries: list[Entry] = []
        """Its story, oldest first (shown newest first)."""
        self.asking: str | None = None
        """An action waiting for its reason (keyed): "hold"."""

    def compose(self) -> ComposeResult:
        yield self.title_bar("service")
        with VerticalScroll(id="service-body"):
            yield Static(_KEYS, id="keys", markup=False)
            yield Static("", id="card")
            yield OptionList(id="matches")
            yield Static("", id="timeline")
        yield Input(placeholder="reason", id="entry", classes="entry")
        yield Input(placeholder="order, tracking, e-mail, phone or name", id="scan",
                    classes="scan")  # fmt: skip
        yield Feedback(id="feedback")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#service-body").can_focus = False
        self.query_one("#matches", OptionList).can_focus = False
        self.query_one("#scan", Input).focus()
        self.feedback.info("Customer service")
        self.show()

    def on_resize(self) -> None:
        self.show()  # rows are cut to the width

    # --- what the screen shows ------------------------------------------------------------

    @property
    def width(self) -> int:
        """Columns a row may take (the body's padding and scroll bar left out)."""
        return max(20, self.app.size.width - 3)

    def show(self) -> None:
        card = self.query_one("#card", Static)
        matches = self.query_one("#matches", OptionList)
        timeline = self.query_one("#timeline", Static)
        card.display = timeline.display = self.card is not None
        matches.display = self.card is None and bool(self.matches)
        self.query_one("#keys").display = self.card is None and not self.matches
        if self.card is not None:
            card.update(self._card_text(self.card))
            timeline.update(self._timeline_text())
        self.keyed_or_scan(self.query_one("#entry", Input), self.asking is not None)
        self.feedback.set_next_step(self.next_step())

    def next_step(self) -> str:
        if self.asking is not None:
            return "Key the reason, Enter · Esc: stop"
        if self.card is not None:
            return "Esc: back" if self.narrow else "F3 hold · F4 release · F5 resend · Esc: back"
        if self.matches:
            return (
                "↑ ↓ choose, Enter opens"
                if self.narrow
                else ("↑ ↓ choose, Enter opens · or search again")
            )
        return "Type or scan a key, then Enter"

    def _card_text(self, c: OrderCard) -> Text:
        w = self.width
        text = Text()
        head = Text(c.number, style="bold")
        head.append(" · ")
        head.append_text(cut(f"{c.shop_order_no} {c.channel}", w - head.cell_len))
        text.append_text(head)
        text.append("\n")
        text.append_text(cut(c.customer, w, "bold"))
        if not self.narrow:
            contact = " · ".join(safe(x) for x in (c.email, c.phone) if x)
            if contact:
                text.append("\n")
                text.append_text(cut(contact, w))
        text.append("\n")
        text.append(f" {c.words} ", style="bold reverse")
        for p in c.parcels:
            text.append("\n")
            text.append_text(self._parcel_row(p))
        if not c.parcels:
            text.append("\nNo parcel yet", style="italic")
        if c.last_mail is not None:
            m = c.last_mail
            when = m.sent_at or m.created_at
            text.append("\n")
            label = "Mail" if self.narrow else "Last mail"  # a handheld: the time fits
            text.append_text(cut(f"{label}: {m.event}, {m.status} {self._at(when)}", w))
        return text

    def _parcel_row(self, p: service_desk.ParcelCard) -> Text:
        """Tracking number, what the courier last said (or ours: packed, handed over) and
        when; the tracking link under it (on a handheld without ``https://``: one row)."""
        row = Text()
        if p.status == "voided":
            row.append(f"{safe(p.tracking_no) or '-'} voided", style="strike")
            return row
        row.append(safe(p.tracking_no) or "not closed yet", style="bold")
        said, at = p.courier_said, p.courier_said_at
        if said is None:
            said = _OURS.get(p.status, p.status)
            at = p.handed_over_at if p.status == "handed_over" else None
        courier = "" if self.narrow else f"{safe(p.courier)}: "
        when = f" {self._at(at)}" if at else ""
        row.append(" ")
        row.append_text(cut(courier + said + when, self.width - row.cell_len))
        if p.url:
            url = p.url.removeprefix("https://") if self.narrow else p.url
            row.append("\n")
            row.append(safe(url), style="underline")
        return row

    def _at(self, at: datetime | None) -> str:
        if at is None:
            return ""
        local = at.astimezone(self.picker.settings.warehouse.tz)
        return f"{local.day} {local:%b %H:%M}"

    def _timeline_text(self) -> Text:
        text = Text()
        text.append(f"Story ({plural(len(self.entries), 'entry', 'entries')}, newest first)",
                    style="bold underline")  # fmt: skip
        for e in reversed(self.entries):
            text.append("\n")
            text.append(f"{self._at(e.at):>12} ", style="bold")
            who = " ".join(x for x in (e.operator or e.source, e.terminal) if x)
            what = safe(e.what)
            if self.narrow:  # the time on a row of its own, the words indented under it
                text.append(safe(who), style="dim")
                for line in textwrap.wrap(what, self.width - 2) or [""]:
                    text.append(f"\n  {line}")
            else:
                text.append(what)
                if who:
                    text.append(f" · {safe(who)}", style="dim")
        return text

    def _match_option(self, o: FoundOrder) -> Option:
        """One match: our number, the day it was placed, its status, the customer (on a
        handheld on a row of its own); wide, the shop's number and what matched too."""
        w = self.width
        placed = self._at(o.placed_at).rsplit(" ", 1)[0]
        row = Text(o.number, style="bold")
        if self.narrow:
            row.append(f" {placed:>6} {o.status}\n")
            row.append_text(cut(o.customer, w))
            return Option(row, id=o.number)
        row.append(" ")
        row.append_text(cut(o.shop_order_no, 10))
        row.pad_right(max(0, 22 - row.cell_len))
        row.append(f"{placed:>6}  ")
        row.append_text(cut(o.customer, 26))
        row.pad_right(max(0, 57 - row.cell_len))
        row.append(f"{o.status:<10} ")
        row.append_text(cut(", ".join(o.matched), max(1, w - row.cell_len)))
        return Option(row, id=o.number)

    # --- scans and typed keys ---------------------------------------------------------------

    async def receive(self, incoming: IncomingScan) -> None:
        """Any text is a search (an e-mail, a name with spaces: nothing a scanner sends), but a
        command barcode is a command. Typed text is searched as typed; a scanner's is read
        first (its prefix and suffix taken off, a code sent twice taken once)."""
        typed = incoming.raw.strip()
        scan = None
        if not incoming.manual or typed.upper().startswith("CMD-"):
            try:
                scan = self.picker.router.classify(incoming.raw)
            except ScanError:
                scan = None
        if scan is not None and scan.kind is ScanKind.COMMAND:
            await self.on_command(scan)
            return
        if self.asking is not None:
            self.feedback.error("Key the reason (a scan is no reason), then Enter.",
                                scan=incoming.raw)  # fmt: skip
            return
        if scan is not None:
            await self.journal(ScanOutcome.of(scan, "accepted"))
        await self.search(typed if scan is None else scan.text)

    async def search(self, text: str) -> None:
        app = self.picker
        async with self.busy:
            try:
                found = await asyncio.to_thread(find_orders, app.db, text, LISTED)
            except Exception as exc:  # refused text, the database: said in words
                app.report_failure(exc)
                self.show()
                return
            self.query_text, self.matches, self.card = text, found, None
            self._list_matches()
            if not found:
                self.feedback.error(f"No order matches {safe(text)!r}.")
            elif len(found) == 1:
                await self._open(found[0].number)
            else:
                more = "+" if len(found) >= LISTED else ""
                self.feedback.ok(f"{len(found)}{more} orders match {safe(text)!r}")
            self.show()

    def _list_matches(self) -> None:
        matches = self.query_one("#matches", OptionList)
        matches.clear_options()
        matches.add_options([self._match_option(o) for o in self.matches])
        if self.matches:
            matches.highlighted = 0

    async def _open(self, number: str, *, say: bool = True) -> None:
        """Read the order (its card and story) and show it (``say``: where it stands, in the
        feedback bar); the caller holds the lock."""
        app = self.picker

        def read() -> tuple[OrderCard, list[Entry]]:
            card = service_desk.order_card(app.db, app.settings, number, now=app.clock())
            return card, list(order_timeline(app.db, number).entries)

        self.card, self.entries = await asyncio.to_thread(read)
        self.query_one("#service-body", VerticalScroll).scroll_home(animate=False)
        if say:  # on a handheld the card says where it stands: the bar keeps to one row
            self.feedback.info(
                f"{number} opened" if self.narrow else f"{number}: {self.card.words}"
            )

    def on_blank_enter(self) -> None:
        """Enter with nothing typed: open the match highlighted."""
        if self.card is not None or not self.matches:
            return
        index = self.query_one("#matches", OptionList).highlighted or 0
        self.run_worker(self.locked(self._open, self.matches[index].number), exclusive=False)

    @on(OptionList.OptionSelected, "#matches")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.run_worker(self.locked(self._open, event.option.id), exclusive=False)

    def action_move(self, step: int) -> None:
        if self.card is not None:
            self.query_one("#service-body", VerticalScroll).scroll_relative(y=step, animate=False)
            return
        matches = self.query_one("#matches", OptionList)
        if self.matches:
            index = (matches.highlighted or 0) + step
            matches.highlighted = max(0, min(len(self.matches) - 1, index))

    def action_page(self, step: int) -> None:
        body = self.query_one("#service-body", VerticalScroll)
        if step > 0:
            body.scroll_page_down(animate=False)
        else:
            body.scroll_page_up(animate=False)

    def action_back(self) -> None:
        if self.asking is not None:
            self.asking = None
            self.feedback.info("Stopped: nothing changed")
        elif self.card is not None:
            self.card, self.entries = None, []
            self.feedback.info(
                f"{len(self.matches)} orders match {safe(self.query_text)!r}"
                if len(self.matches) > 1
                else "Customer service"
            )
        else:
            self.app.pop_screen()
            return
        self.show()

    # --- a lead's actions -------------------------------------------------------------------

    def action_act(self, name: str) -> None:
        if self.card is None:
            self.feedback.error("Open an order first: search, then Enter.")
            return
        operator = self.picker.operator
        try:
            if operator is not None:
                check_use_case(operator.roles, _ACTIONS[name])
        except NotAllowed:
            action = USE_CASES[_ACTIONS[name]][0]
            self.feedback.error(f"Only a lead may do this: {action} needs the lead role.")
            return
        if name == "hold":
            self.asking = "hold"
            self.feedback.info(f"Put {self.card.number} on hold")
            self.show()
            return
        self.run_worker(self._act(name, ""), exclusive=False)

    @on(Input.Submitted, "#entry")
    async def keyed(self, event: Input.Submitted) -> None:
        event.stop()
        text = " ".join(event.value.split())
        event.input.value = ""
        if self.asking is None:
            return
        if not text:
            self.feedback.error("Key the reason: it is journaled with your name.")
            return
        name, self.asking = self.asking, None
        self.show()
        await self._act(name, text)

    async def _act(self, name: str, reason: str) -> None:
        card = self.card
        if card is None:
            return
        run: Callable[[], str] = {
            "hold": lambda: self._hold(card.number, reason),
            "release": lambda: self._release(card.number),
            "resend": lambda: self._resend(card.number),
        }[name]
        async with self.busy:
            try:
                words = await asyncio.to_thread(run)
            except Exception as exc:  # refusals and the database in words, as on every screen
                self.picker.report_failure(exc)
            else:
                self.feedback.ok(words)
                try:
                    await self._open(card.number, say=False)
                except Exception as exc:  # done, but not read back: said, never a crash
                    self.picker.report_failure(exc)
            self.show()

    def _lead_name(self) -> str:
        operator = self.picker.operator
        return operator.name if operator else "the lead"

    def _hold(self, number: str, reason: str) -> str:
        app = self.picker
        gone = _GONE.get(self.card.status if self.card else "")
        if gone is not None:  # said in the desk's words, not the state machine's
            raise ServiceError(f"{number} {gone}: it cannot be put on hold. Nothing changed.")
        lead_actions.hold_order(app.db, self.actor, number, reason, clock=app.clock)
        return f"{number} on hold" if self.narrow else f"{number} on hold: {reason}"

    def _release(self, number: str) -> str:
        app = self.picker
        done = lead_actions.release_order(
            app.db, self.actor, number, settings=app.settings,
            reason=f"released at the service desk by {self._lead_name()}", clock=app.clock,
        )  # fmt: skip
        if not done.released:
            raise ServiceError(f"{done.number} stays on hold: {'; '.join(done.reasons)}")
        return f"{done.number} released"

    def _resend(self, number: str) -> str:
        app = self.picker
        done = outbox.resend(app.db, self.actor, number, clock=app.clock)
        return f"{done.number}: the {done.event} mail goes again to {done.to}"
