"""The picker queue: my orders, most urgent first; a tote scan starts the highlighted one.

Scan an empty tote to start the highlighted order into it (then another tote for the next order
of a batch); Enter (or CMD-OK) goes to the pick list. The list refreshes by itself, so an order a
lead assigns on another terminal appears without a key press.
"""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from picker.domain.scanning import Scan, ScanKind
from picker.services.errors import Conflict, ServiceError
from picker.services.floor import picking
from picker.services.floor.picking import QueueEntry
from picker.services.scans import ScanOutcome
from picker.tui.messages import LoggedOut
from picker.tui.screens.base import PickerScreen
from picker.tui.text import safe
from picker.tui.widgets.feedback import Feedback
from picker.tui.widgets.key_bar import KeyBar

REFRESH_S = 5.0
URGENT_MINUTES = 30


def describe(entry: QueueEntry, now_minutes: int | None) -> Text:
    """Two short lines per order: they fit a 40-column handheld."""
    text = Text()
    text.append(safe(entry.number), style="bold")
    if entry.started:
        text.append(f"  ▶ tote {entry.tote}", style="bold green")
    elif entry.express:
        text.append("  EXPRESS", style="bold")
    text.append(f"\n  {entry.lines} lines/{entry.units} u  ")
    text.append(f"{safe(entry.courier or '-')} {safe(entry.service or '')}")
    if now_minutes is not None:
        style = "bold white on red" if now_minutes < URGENT_MINUTES else ""
        text.append(f"  {now_minutes} min", style=style)
    if entry.zones:
        text.append("  zone " + ",".join(entry.zones))
    return text


class QueueScreen(PickerScreen):
    SCREEN_NAME = "queue"
    SCAN_COMMANDS = {"CMD-OK": "pick", "CMD-LOGOUT": "logout"}
    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False, id="queue.up"),
        Binding("down", "move(1)", "Down", show=False, id="queue.down"),
        Binding("f5", "refresh", "Refresh", id="queue.refresh"),
        Binding("escape", "back", "Home", id="queue.back"),
        Binding("f10", "logout", "Log out", id="queue.logout"),
    ]

    def __init__(self, *, resume: bool = False) -> None:
        super().__init__()
        self.entries: list[QueueEntry] = []
        self.resume = resume
        self.loads = 0
        """How many times the list was read (the benchmark waits for a fresh one)."""

    def compose(self) -> ComposeResult:
        yield self.title_bar("picker queue")
        with Vertical(id="queue-body"):
            yield Static("", id="summary", classes="prompt")
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
        highlighted = self._highlighted_number()
        before, self.entries = self.entries, entries
        orders = self.query_one("#orders", OptionList)
        numbers = [e.number for e in entries]
        if numbers == [e.number for e in before] and numbers:
            # The same orders in the same order: only changed lines are drawn again (a full
            # rebuild of the list costs a handheld a noticeable pause on every tote scan).
            for i, (old, new) in enumerate(zip(before, entries, strict=True)):
                prompt = describe(new, new.minutes_to_cutoff(now))
                if old != new or prompt != orders.get_option_at_index(i).prompt:
                    orders.replace_option_prompt_at_index(i, prompt)
        else:
            orders.clear_options()
            orders.add_options(
                Option(describe(e, e.minutes_to_cutoff(now)), id=e.number) for e in entries
            )
        if entries:
            orders.highlighted = numbers.index(highlighted) if highlighted in numbers else 0
        started = sum(e.started for e in entries)
        summary = f"{len(entries)} order(s) for you"
        if started:
            summary += f", {started} started"
        self.query_one("#summary", Static).update(summary)
        self._set_next_step()
        self.loads += 1

    def _highlighted_number(self) -> str | None:
        orders = self.query_one("#orders", OptionList)
        if orders.highlighted is None or orders.highlighted >= orders.option_count:
            return None
        return orders.get_option_at_index(orders.highlighted).id

    def _next_to_start(self) -> QueueEntry | None:
        number = self._highlighted_number()
        chosen = next((e for e in self.entries if e.number == number), None)
        if chosen is not None and not chosen.started:
            return chosen
        return next((e for e in self.entries if not e.started), None)

    def _set_next_step(self) -> None:
        started = sum(e.started for e in self.entries)
        waiting = self._next_to_start()
        batch = self.picker.settings.picking.batch_size
        if waiting is not None and started < batch:
            step = f"Scan an empty tote for {waiting.number}"
            if started:
                step += " · Enter: pick"
        elif started:
            step = "Enter: pick the started orders"
        else:
            step = "No orders for you yet. Ask your shift lead."
        if self.feedback.message == "Loading…":
            self.feedback.info(f"{len(self.entries)} order(s) waiting", next_step=step)
        else:
            self.feedback.set_next_step(step)

    async def on_scan(self, scan: Scan) -> None:
        if scan.kind is not ScanKind.TOTE:
            await self.refuse(scan, f"{scan.text} is not a tote. Scan an empty tote (T-…).")
            return
        app = self.picker
        entry = self._next_to_start()
        if entry is None:
            await self.refuse(scan, "No order waiting to start. Enter: pick.")
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
        orders = self.query_one("#orders", OptionList)
        if orders.option_count:
            current = orders.highlighted or 0
            orders.highlighted = max(0, min(orders.option_count - 1, current + step))
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

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_logout(self) -> None:
        self.post_message(LoggedOut())
