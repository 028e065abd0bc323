"""The moves screen: pick faces refilled from reserve, by scans alone.

Idle it lists the moves planned (``picker replenish plan``), in walking order of their reserve
bins. Scan the reserve bin (or the MOV number): the move is taken for this terminal and shown
("Take 24 × SKU-00030 Socks… from C-01-04-4 to A-01-03-1"). Scan the item (it must be the move's
product), key how many you took (Enter: the units the move still wants), then scan the pick
face: the stock moves in one transaction and the move is done (or, fewer taken, waits with the
rest). Scanning the face straight after the item moves what the move still wants.

Moves only: there is no free move without a task here. Esc steps back (the count, then the
item); with a move taken and nothing scanned, Esc leaves it planned for any terminal. A terminal
that dies mid-move finds its move again when the screen opens.
"""

from __future__ import annotations

import asyncio
from typing import Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, Static

from picker.domain.scanning import Scan, ScanKind
from picker.domain.text import plural
from picker.services import replenish
from picker.services.replenish import MoveDone, MoveSummary, MoveView
from picker.services.scans import ScanOutcome
from picker.tui.screens.base import PickerScreen
from picker.tui.text import safe
from picker.tui.widgets.big_text import BigText
from picker.tui.widgets.feedback import Feedback
from picker.tui.widgets.key_bar import KeyBar
from picker.tui.widgets.steady_text import SteadyText

Stage = Literal["item", "count", "to"]

PROMPT = "Scan a reserve bin (or a MOV number) to take its move"
#: Moves listed idle.
LISTED = 30


class MovesScreen(PickerScreen):
    SCREEN_NAME = "moves"
    SCAN_COMMANDS = {"CMD-CANCEL": "leave", "CMD-OK": "confirm"}
    BINDINGS = [
        Binding("escape", "leave", "Back", id="moves.leave"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view: MoveView | None = None
        """The move taken at this terminal, None idle."""
        self.stage: Stage = "item"
        """What the move waits for: the item scan, the count keyed, the face scanned."""
        self.units: int | None = None
        """The units keyed (None: what the move still wants)."""
        self.moves: list[MoveSummary] = []
        """The active moves, listed idle."""
        self.last: MoveDone | None = None

    def compose(self) -> ComposeResult:
        yield self.title_bar("moves")
        with Vertical(id="moves-body"):
            yield Static(PROMPT, id="prompt", classes="prompt")
            yield SteadyText(id="task")
            yield BigText(id="where")
            with VerticalScroll(id="move-list"):
                yield SteadyText(id="list")
        yield Input(placeholder="", id="entry", classes="entry")
        yield Input(placeholder="scan", id="scan", classes="scan")
        yield Feedback(id="feedback")
        yield KeyBar()

    async def on_mount(self) -> None:
        self.query_one("#move-list").can_focus = False
        self.query_one("#scan", Input).focus()
        self.show()
        await self.locked(self._resume)

    async def _resume(self) -> None:
        app = self.picker
        view = await asyncio.to_thread(replenish.held_here, app.db, app.settings.terminal.id)
        if view is not None:
            self.view, self.stage = view, "item"
            self.feedback.info(f"Back to {view.number}: scan the item")
        await self._read_list()

    async def _read_list(self) -> None:
        self.moves = await asyncio.to_thread(replenish.list_moves, self.picker.db, limit=LISTED)

    async def reload(self) -> None:
        self.view = None
        await self._resume()

    # --- what the screen shows ------------------------------------------------------------

    @property
    def width(self) -> int:
        return max(20, self.app.size.width - 2)

    def on_resize(self) -> None:
        self.show()

    def show(self) -> None:
        v = self.view
        self.query_one("#prompt").display = v is None
        self.query_one("#task").display = v is not None
        where = self.query_one("#where", BigText)
        where.display = v is not None
        self.query_one("#move-list").display = v is None or not self.narrow
        if v is not None:
            self.query_one("#task", SteadyText).put(self._task_text(v.summary))
            bin_ = v.summary.to_bin if self.stage == "to" else v.summary.from_bin
            where.text = bin_
            where.set_class(self.stage == "to", "-face")
        self.query_one("#list", SteadyText).put(self._list_text())
        entry = self.query_one("#entry", Input)
        if v is not None:
            entry.placeholder = f"how many? (Enter: {v.summary.remaining})"
        self.keyed_or_scan(entry, v is not None and self.stage == "count")
        self.feedback.set_next_step(self.next_step())

    def _task_text(self, m: MoveSummary) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f" {m.number} ", style="bold reverse")
        text.append(f" Take {m.remaining} × {safe(m.sku)}", style="bold")
        text.append("\n")
        text.append_text(cut(m.name, self.width))
        text.append("\n")
        text.append(f"from {m.from_bin} to {m.to_bin}", style="bold")
        if self.units is not None and self.stage == "to":
            text.append(f" · {self.units} taken", style="italic")
        return text

    def _list_text(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        if not self.moves:
            text.append("No moves planned (a lead plans them: picker replenish plan)",
                        style="italic")  # fmt: skip
            return text
        text.append(f"{plural(len(self.moves), 'move')} to do:", style="italic")
        for m in self.moves:
            text.append("\n")
            mark = "▶ " if m.held_by_terminal else "· "
            if self.narrow:
                row = f"{mark}{m.from_bin}→{m.to_bin} {m.remaining}×{m.sku}"
            else:
                row = (
                    f"{mark}{m.number} {m.from_bin} → {m.to_bin}  {m.remaining} × {m.sku} {m.name}"
                )
            text.append_text(cut(row, self.width))
        return text

    def next_step(self) -> str:
        v = self.view
        if v is None:
            return "Scan a reserve bin or MOV · Esc: home" if self.narrow else PROMPT
        m = v.summary
        if self.stage == "item":
            return (
                f"Scan {m.sku} · Esc: leave it"
                if self.narrow
                else (f"Scan the item ({m.sku}) in {m.from_bin} · Esc: leave the move")
            )
        if self.stage == "count":
            return (
                f"Key how many, Enter: {m.remaining}"
                if self.narrow
                else (f"Key how many you took, Enter: {m.remaining} · or scan {m.to_bin}")
            )
        return f"Put them in {m.to_bin}, scan it" if self.narrow else (
            f"Put them in {m.to_bin} and scan the bin · Esc: back")  # fmt: skip

    # --- scans ------------------------------------------------------------------------------

    async def on_scan(self, scan: Scan) -> None:
        async with self.busy:
            try:
                await self._on_scan(scan)
            finally:
                self.show()

    async def _on_scan(self, scan: Scan) -> None:
        v = self.view
        if v is None:
            await self._start(scan)
            return
        m = v.summary
        if scan.text in (m.number, m.from_bin) and self.stage == "item":
            await self.journal(ScanOutcome.of(scan, "accepted"))
            self.feedback.info(f"{m.number} is taken here: scan the item", scan=scan.raw)
            return
        if self.stage == "item":
            if scan.kind is ScanKind.BIN:
                await self.refuse(scan, f"Scan the item first: {m.sku} from {m.from_bin}.")
                return
            await self._item(scan, v)
            return
        if scan.kind is not ScanKind.BIN:
            await self.refuse(scan, f"Now scan the pick face {m.to_bin} (the item was scanned).")
            return
        await self._move(scan, v, self.units if self.units is not None else m.remaining)

    async def _start(self, scan: Scan) -> None:
        if scan.kind not in (ScanKind.BIN, ScanKind.CODE):
            await self.refuse(scan, f"{scan.text}: {PROMPT.lower()}.")
            return
        app = self.picker
        view = await self._call(
            replenish.start_move, app.db, self.actor, scan.text, settings=app.settings,
            clock=app.clock, scan=ScanOutcome.of(scan, "accepted"), refused=scan,
        )  # fmt: skip
        if view is None:
            return
        self.view, self.stage, self.units, self.last = view, "item", None, None
        await self._read_list()
        m = view.summary
        self.feedback.ok(f"{m.number}: take {m.remaining} × {safe(m.sku)}", scan=scan.raw)

    async def _item(self, scan: Scan, v: MoveView) -> None:
        app = self.picker
        code = next(iter(scan.lookup_codes), scan.text)
        done = await self._call(
            replenish.check_item, app.db, self.actor, v.number, code, settings=app.settings,
            clock=app.clock, scan=ScanOutcome.of(scan, "accepted"), refused=scan,
        )  # fmt: skip
        if done is None:
            return
        self.view, self.stage = done, "count"
        self.feedback.ok(f"{safe(done.summary.sku)} ✓ — how many did you take?", scan=scan.raw)

    async def _move(self, scan: Scan, v: MoveView, units: int) -> None:
        app = self.picker
        done = await self._call(
            replenish.do_move, app.db, self.actor, v.number, units, scan.text,
            settings=app.settings, clock=app.clock, scan=ScanOutcome.of(scan, "accepted"),
            refused=scan,
        )  # fmt: skip
        if done is None:
            return
        self.view, self.units, self.stage, self.last = None, None, "item", done
        words = f"Moved {done.units} × {safe(done.sku)} to {done.to_bin}"
        words += f": {done.number} done" if done.done else f": {done.remaining} still to move"
        self.feedback.ok(words, scan=scan.raw)
        await self._read_list()

    # --- the count keyed ---------------------------------------------------------------------

    @on(Input.Submitted, "#entry")
    async def keyed(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        event.input.value = ""
        await self.locked(self._keyed, text)

    async def _keyed(self, text: str) -> None:
        v = self.view
        if v is None or self.stage != "count":
            return
        if text and not (text.isdigit() and int(text) > 0):
            self.feedback.error(f"{text!r} is not a count. Key digits, then Enter.")
            return
        self.units = int(text) if text else v.summary.remaining
        self.stage = "to"
        self.feedback.ok(f"{self.units} × {safe(v.summary.sku)}: to {v.summary.to_bin}")

    # --- leaving ----------------------------------------------------------------------------

    async def action_confirm(self) -> None:
        if self.view is not None and self.stage == "count":
            await self.locked(self._keyed, "")

    async def action_leave(self) -> None:
        v = self.view
        if v is None:
            self.app.pop_screen()
            return
        if self.stage != "item":
            self.stage, self.units = ("count" if self.stage == "to" else "item"), None
            self.feedback.info("Back one step: nothing moved")
            self.show()
            return
        await self.locked(self._park)

    async def _park(self) -> None:
        v = self.view
        if v is None:
            return
        app = self.picker
        await self._call(replenish.park_move, app.db, self.actor, v.number, clock=app.clock)
        self.view = None
        self.feedback.info(f"{v.number} left planned: any terminal may take it")
        await self._read_list()


def cut(text: str | None, width: int, style: str = "") -> Text:
    """Text on one row of ``width`` cells at most: shown literally, cut with "…"."""
    shown = Text(safe(text), style=style, no_wrap=True)
    shown.truncate(max(1, width), overflow="ellipsis")
    return shown
