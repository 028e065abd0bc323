"""The picker queue: my orders, most urgent first; a tote scan starts the highlighted one.

Scan an empty tote to start the highlighted order into it (then another tote for the next order
of a batch); Enter (or CMD-OK) goes to the pick list; F7 opens the stock counts. The list
refreshes by itself, so an order a lead assigns on another terminal appears without a key press.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, tzinfo

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from picker.domain.scanning import Scan, ScanKind
from picker.domain.text import plural
from picker.services.errors import Conflict, ServiceError
from picker.services.floor import picking
from picker.services.floor.picking import QueueEntry
from picker.services.scans import ScanOutcome
from picker.tui.messages import LoggedOut
from picker.tui.screens.base import NARROW_BELOW, PickerScreen
from picker.tui.text import safe
from picker.tui.widgets.feedback import Feedback
from picker.tui.widgets.key_bar import KeyBar

REFRESH_S = 5.0
URGENT_MINUTES = 30
#: From this many columns on, a row adds the courier, its service and the zones.
LATE_STYLE = "bold white on red"


def cutoff_words(entry: QueueEntry, now: datetime, tz: tzinfo) -> Text:
    """When the order must be picked by, as a clock time: LATE in red once its day's last
    pickup went without it, a pickup within the half hour in red, tomorrow's marked so."""
    if entry.late:
        return Text("LATE", style=LATE_STYLE)
    if entry.cutoff_at is None:
        return Text("")
    local = entry.cutoff_at.astimezone(tz)
    words = f"{local:%H:%M}"
    if local.date() > now.astimezone(tz).date():
        words = f"tmrw {words}"
    minutes = entry.minutes_to_cutoff(now)
    urgent = minutes is not None and minutes < URGENT_MINUTES
    return Text(words, style=LATE_STYLE if urgent else "bold")


def describe(entry: QueueEntry, now: datetime, tz: tzinfo, width: int) -> Text:
    """One line per order: number, started tote or EXPRESS, lines/units, pick-by time; a
    wide screen adds the courier, its service and the zones."""
    wide = width >= NARROW_BELOW
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(safe(entry.number), style="bold")
    text.append(" ")
    if entry.started:
        text.append(f"▶{safe(entry.tote or '')}".ljust(8), style="bold green")
    elif entry.express:
        text.append("EXPRESS ", style="bold")
    else:
        text.append(" " * 8)
    size = f"{entry.lines}/{entry.units}u"
    if wide:
        size = f"{plural(entry.lines, 'line')} · {plural(entry.units, 'unit')}".ljust(18)
        text.append(size)
        text.append(f"{safe(entry.courier or '-')} {safe(entry.service or '')}".ljust(18)[:18])
    else:
        text.append(size.rjust(6))
    cutoff = cutoff_words(entry, now, tz)
    text.append(" " * (11 - cutoff.cell_len))  # right-aligned, the red only on the words
    text.append_text(cutoff)
    if wide and entry.zones:
        text.append("  zone " + ",".join(entry.zones))
    return text


class QueueScreen(PickerScreen):
    SCREEN_NAME = "queue"
    SCAN_COMMANDS = {"CMD-OK": "pick", "CMD-LOGOUT": "logout"}
    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False, id="queue.up"),
        Binding("down", "move(1)", "Down", show=False, id="queue.down"),
        # Enter reaches the scan field first (an empty Enter there picks too): listed here so
        # the key bar names it.
        Binding("enter", "pick", "Pick", id="queue.pick"),
        Binding("f5", "refresh", "Refresh", show=False, id="queue.refresh"),
        Binding("f7", "count", "Count", id="queue.count"),
        Binding("escape", "back", "Home", id="queue.back"),
        Binding("f10", "logout", "Log out", id="queue.logout"),
    ]

    def __init__(self, *, resume: bool = False) -> None:
        super().__init__()
        self.entries: list[QueueEntry] = []
        self.resume = resume
        self.loads = 0
        """How many times the list was read (the benchmark waits for a fresh one)."""
        self._drawn_width = 0

    def compose(self) -> ComposeResult:
        yield self.title_bar("picker queue")
        with Vertical(id="queue-body"):
            yield Static("", id="summary")
            yield OptionList(id="orders")
        yield Input(placeholder="scan a tote", id="scan", classes="scan")
        yield Feedback(id="feedback")
        yield KeyBar()

    def on_mount(self) -> None:
        # The scan field keeps the focus (Enter there picks); arrows move the highlight.
        self.query_one("#orders", OptionList).can_focus = False
        self.feedback.info("Loading…")
        self.set_interval(REFRESH_S, self._refresh_if_shown)

    async def on_screen_resume(self) -> None:
        """Shown (first time or again: the screen is kept for the shift, not rebuilt)."""
        self.query_one("#scan", Input).focus()
        await self.locked(self.reload)  # the database away: said in words, never a crash
        if self.resume and any(e.started for e in self.entries):
            self.resume = False
            self.action_pick()

    def on_resize(self) -> None:
        """A row says more on a wide screen: drawn again when the width crosses
        :data:`NARROW_BELOW`."""
        if self.entries and (self.size.width >= NARROW_BELOW) != (
            self._drawn_width >= NARROW_BELOW
        ):
            self._draw(self.entries, [], self.picker.clock())
            self._set_next_step()

    async def _refresh_if_shown(self) -> None:
        if self.is_current and not self.picker.database_down:  # the title line says it is away
            await self.locked(self.reload)

    async def reload(self) -> None:
        app = self.picker
        if app.operator is None:
            return
        now = app.clock()
        entries = await asyncio.to_thread(
            picking.queue, app.db, app.operator.id, now=now, tz=app.settings.warehouse.tz
        )
        chosen = self._highlighted_number()
        before, self.entries = self.entries, entries
        self._draw(entries, before, now)
        self._highlight(chosen)
        started = sum(e.started for e in entries)
        summary = f"{plural(len(entries), 'order')} for you"
        if started:
            summary += f", {started} started"
        self.query_one("#summary", Static).update(summary)
        self._set_next_step()
        self.loads += 1

    def _draw(self, entries: list[QueueEntry], before: list[QueueEntry], now: datetime) -> None:
        orders = self.query_one("#orders", OptionList)
        tz, width = self.picker.settings.warehouse.tz, self.size.width
        numbers = [e.number for e in entries]
        if numbers == [e.number for e in before] and numbers:
            # The same orders in the same order: only changed lines are drawn again (a full
            # rebuild of the list costs a handheld a noticeable pause on every tote scan).
            for i, new in enumerate(entries):
                prompt = describe(new, now, tz, width)
                if prompt != orders.get_option_at_index(i).prompt:
                    orders.replace_option_prompt_at_index(i, prompt)
        else:
            highlighted = orders.highlighted
            orders.clear_options()
            orders.add_options(Option(describe(e, now, tz, width), id=e.number) for e in entries)
            if highlighted is not None and entries:
                orders.highlighted = min(highlighted, len(entries) - 1)
        self._drawn_width = width

    def _highlighted_number(self) -> str | None:
        orders = self.query_one("#orders", OptionList)
        if orders.highlighted is None or orders.highlighted >= orders.option_count:
            return None
        return orders.get_option_at_index(orders.highlighted).id

    def _highlight(self, chosen: str | None) -> None:
        """Put the highlight on the order the prompt names: ``chosen`` while it waits to be
        started, else the next one waiting; with none to start, the first started one."""
        orders = self.query_one("#orders", OptionList)
        if not self.entries:
            return
        target = self._next_to_start(chosen) or self.entries[0]
        orders.highlighted = self.entries.index(target)

    def _startable(self) -> list[QueueEntry]:
        """Orders a tote scan may start now (none once the batch is full)."""
        started = sum(e.started for e in self.entries)
        if started >= self.picker.settings.picking.batch_size:
            return []
        return [e for e in self.entries if not e.started]

    def _next_to_start(self, chosen: str | None = None) -> QueueEntry | None:
        number = chosen if chosen is not None else self._highlighted_number()
        waiting = self._startable()
        return next((e for e in waiting if e.number == number), next(iter(waiting), None))

    def _set_next_step(self) -> None:
        started = sum(e.started for e in self.entries)
        waiting = self._next_to_start()
        if waiting is not None:
            step = f"Scan an empty tote for {waiting.number}"
            if started and self.size.width >= NARROW_BELOW:  # a handheld's key bar says it
                step += " · Enter: pick"
        elif started:
            step = "Enter: pick the started orders"
        else:
            step = "No orders for you yet. Ask your shift lead."
        if self.feedback.message == "Loading…":
            left = len(self.entries) - started
            self.feedback.info(f"{plural(left, 'order')} to start", next_step=step)
        else:
            self.feedback.set_next_step(step)

    async def on_scan(self, scan: Scan) -> None:
        if scan.kind is not ScanKind.TOTE:
            await self.refuse(scan, f"{scan.text} is not a tote. Scan an empty tote (T-…).")
            return
        app = self.picker
        entry = self._next_to_start()
        if entry is None:
            going = sum(e.started for e in self.entries)
            words = "No order waiting to start."
            if going and going < len(self.entries):
                words = f"{plural(going, 'order')} started: the most at once."
            await self.refuse(scan, f"{words} Enter: pick.")
            return
        try:
            started = await asyncio.to_thread(
                picking.start_order,
                app.db,
                self.actor,
                entry.order_id,
                scan.text,
                batch_size=app.settings.picking.batch_size,
                scan=ScanOutcome.of(scan, "accepted"),
                screen=self.SCREEN_NAME,
                clock=app.clock,
            )
        except ServiceError as exc:
            await self.refuse(scan, str(exc))
            if isinstance(exc, Conflict):
                await self.reload()
            return
        await self.reload()
        batch = app.settings.picking.batch_size
        self.feedback.ok(
            f"{started.order_number} → tote {started.tote} ({started.batch} of {batch})",
            scan=scan.raw,
        )
        if started.batch >= batch or self._next_to_start() is None:
            self.action_pick()

    def on_blank_enter(self) -> None:
        self.action_pick()

    def action_move(self, step: int) -> None:
        """The highlight moves among the orders a tote may start: it always names the one the
        next tote scan starts."""
        waiting = self._startable()
        current = self._next_to_start()
        if current is None:
            return
        at = waiting.index(current)
        chosen = waiting[max(0, min(len(waiting) - 1, at + step))]
        self._highlight(chosen.number)
        self.feedback.key_typed()
        self._set_next_step()

    def action_pick(self) -> None:
        if not any(e.started for e in self.entries):
            waiting = self._next_to_start()
            what = (
                f"Scan an empty tote for {waiting.number} first." if waiting else "Nothing to pick."
            )
            self.feedback.error(what)
            return
        self.picker.open_screen("pick")

    async def action_refresh(self) -> None:
        await self.locked(self.reload)

    def action_count(self) -> None:
        """Stock counts from the picking station: the counting screen, back here with Esc."""
        self.picker.open_screen("counting")

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_logout(self) -> None:
        self.post_message(LoggedOut())
