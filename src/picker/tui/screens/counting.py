"""Stock counts: a bin counted blind, by scans alone.

Idle, the screen lists the counts waiting (planned, and recounts) in walking order; any bin may be
scanned, listed or not. A bin scan starts (or takes up again) its count: the bin is locked for
picking and put-away until the count closes. Then every item in the bin is scanned (a case's
barcode counts its pack size); digits and Enter after a scan set how many of that product there
are in all. The expected quantity is never on this screen, only what was counted so far this
round. CMD-EMPTY (F5) — or CMD-CLOSE (F8) — finishes the round: nothing scanned asks first
whether the bin is empty (CMD-EMPTY again or Enter). The result is said in words: no difference,
a recount by another operator, a lead's approval, or the stock adjusted with the orders it
re-reserved, held or released named.

F6 opens the replenishment moves when this terminal has them. Esc goes back and leaves a count
being made held by this terminal, its bin locked: opening counting again (or a terminal that
died, logged in again) takes it up with what was counted.

Laid out for a 40x16 handheld first: the bin large, one row per product counted, what to do next
always the last line of the feedback bar.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, Static

from picker.domain.scanning import Scan, ScanKind
from picker.domain.text import plural
from picker.services import counts
from picker.services.counts import CountLineView, CountResult, CountSummary, CountView
from picker.services.errors import ServiceError
from picker.services.scans import ScanOutcome
from picker.tui.screens.base import PickerScreen
from picker.tui.terminal import ScreenName
from picker.tui.text import safe
from picker.tui.widgets.big_text import BigText
from picker.tui.widgets.feedback import Feedback
from picker.tui.widgets.key_bar import KeyBar
from picker.tui.widgets.steady_text import SteadyText

PROMPT = "Scan a bin to count it"
#: Statuses of the counts a counter may take up, listed on the idle screen.
WAITING = ("planned", "recount")
#: A keyed count after a scan: a plain number this long at most (a barcode is longer).
KEYED_DIGITS = 6
#: The screen the replenishment branch registers (F6); said "not available" until it exists.
MOVES: ScreenName = cast(ScreenName, "moves")


class CountingScreen(PickerScreen):
    SCREEN_NAME = "counting"
    SCAN_COMMANDS = {
        "CMD-EMPTY": "done('empty')",
        "CMD-CLOSE": "done('close')",
        "CMD-OK": "confirm",
        "CMD-CANCEL": "cancel",
    }
    BINDINGS = [
        Binding("f5", "done('empty')", "Done", id="counting.done"),
        Binding("f8", "done('close')", "Close", show=False, id="counting.close"),
        Binding("f6", "moves", "Moves", id="counting.moves"),
        Binding("escape", "leave", "Back", id="counting.leave"),
    ]
    DEFAULT_CSS = """
    CountingScreen #count-body {
        height: 1fr;
        padding: 0 1;
    }
    CountingScreen.-narrow #count-body {
        padding: 0;
    }
    CountingScreen #bin {
        padding: 0 1;
        background: $primary-darken-2;
        color: $text;
    }
    CountingScreen #head, CountingScreen #lines, CountingScreen #tasks {
        width: 100%;
        height: auto;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    CountingScreen #head {
        padding: 0 1;
        background: $boost;
    }
    CountingScreen #outcome {
        width: 100%;
        height: auto;
        padding: 0 1;
        background: $boost;
    }
    CountingScreen.-tall #outcome, CountingScreen.-tall #head {
        margin: 0 0 1 0;
    }
    CountingScreen #count-list {
        height: 1fr;
        min-height: 2;
        scrollbar-size-vertical: 1;
    }
    CountingScreen.-short #prompt {
        padding: 0;
    }
    CountingScreen.-short Input.scan, CountingScreen.-short Input.entry {
        height: 1;
        border: none;
        padding: 0 1;
        margin: 0;
        background: $boost;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.view: CountView | None = None
        """The count open at this terminal; None at the prompt."""
        self.tasks: list[CountSummary] = []
        """The counts waiting to be taken up (planned, recounts), in walking order."""
        self.result: CountResult | None = None
        """The count finished last here, shown under the prompt until the next bin."""
        self.asking_empty = False
        """CMD-EMPTY with nothing scanned: the bin is empty? (CMD-EMPTY again or Enter)."""

    def compose(self) -> ComposeResult:
        yield self.title_bar("stock counts")
        with Vertical(id="count-body"):
            yield Static(PROMPT, id="prompt", classes="prompt")
            yield SteadyText(id="outcome")
            yield BigText(id="bin")
            yield SteadyText(id="head")
            with VerticalScroll(id="count-list"):
                yield SteadyText(id="tasks")
                yield SteadyText(id="lines")
        # At most the digits of the largest count: more could never be one.
        yield Input(placeholder="", id="qty", classes="entry",
                    max_length=len(str(counts.MAX_UNITS)))  # fmt: skip
        yield Input(placeholder="scan", id="scan", classes="scan")
        yield Feedback(id="feedback")
        yield KeyBar()

    async def on_mount(self) -> None:
        self.query_one("#count-list").can_focus = False
        self.query_one("#scan", Input).focus()
        self.show()
        await self.locked(self._resume)  # the database away: said in words, never a crash

    async def _resume(self) -> None:
        """A count this terminal was making (it died, or its operator logged out or left
        mid-way) is taken up again with what was counted; else the waiting counts are read."""
        app = self.picker
        view = await asyncio.to_thread(counts.held_count, app.db, self.actor.terminal_id)
        if view is not None:
            self.view = view
            self.feedback.info(f"Back to {view.number} at {view.bin}: what was counted is kept")
            return
        await self._read_tasks()

    async def _read_tasks(self) -> None:
        app = self.picker
        found = await asyncio.to_thread(lambda: [
            c for status in WAITING for c in counts.list_counts(app.db, status=status)
        ])  # fmt: skip
        self.tasks = sorted(found, key=lambda c: (c.pick_seq, c.bin))

    async def reload(self) -> None:
        """The count as the database has it (a scan sent twice: its first answer lost)."""
        app = self.picker
        if self.view is None:
            await self._read_tasks()
            return
        number = self.view.number
        try:
            view = await asyncio.to_thread(counts.count_view, app.db, number, blind=True)
        except ServiceError:
            view = None
        if view is None or view.status != "counting":  # finished by the scan that was saved
            self.view = None
            await self._read_tasks()
            return
        self.view = view

    # --- the database, off the event loop -------------------------------------------------

    # --- what the screen shows ------------------------------------------------------------

    @property
    def width(self) -> int:
        """Columns a row may take (the body's padding left out)."""
        return max(20, self.app.size.width - (2 if self.narrow else 4))

    def on_resize(self) -> None:
        self.show()  # the rows are cut to the width

    def show(self) -> None:
        v = self.view
        idle = v is None
        self.query_one("#prompt").display = idle
        outcome = self.query_one("#outcome", SteadyText)
        outcome.display = idle and self.result is not None
        if outcome.display and self.result is not None:
            outcome.put(self._result_text(self.result))
        tasks = self.query_one("#tasks", SteadyText)
        tasks.display = idle
        if idle:
            tasks.put(self._tasks_text())
        big = self.query_one("#bin", BigText)
        big.text = v.bin if v is not None else ""
        for part in ("#bin", "#head", "#lines"):
            self.query_one(part).display = not idle
        if v is not None:
            self.query_one("#head", SteadyText).put(self._head_text(v))
            self.query_one("#lines", SteadyText).put(self._lines_text(v))
        qty = self.query_one("#qty", Input)
        keyed = v is not None and v.last_sku is not None and not self.asking_empty
        qty.placeholder = f"how many {v.last_sku} in all? Enter" if v and keyed else ""
        self.keyed_or_scan(qty, keyed)
        self.feedback.set_next_step(self.next_step())

    def _tasks_text(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        if not self.tasks:
            text.append("No counts planned: any bin may be counted", style="italic")
            return text
        text.append(f"{plural(len(self.tasks), 'count')} waiting:", style="italic")
        for c in self.tasks:
            text.append("\n")
            text.append(f"{c.bin:<11}", style="bold")
            row = c.number if self.narrow else f"{c.number}  {c.plan_reason or ''}".rstrip()
            if c.status == "recount":
                text.append(" RECOUNT ", style="bold reverse yellow")
                text.append(" ")
            text.append_text(cut(row, self.width - text_len_of_last(text)))
        return text

    def _head_text(self, v: CountView) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{v.number}", style="bold")
        if v.round > 1:
            text.append(" RECOUNT ", style="bold reverse yellow")
        text.append(f" · counted {plural(v.units, 'unit')}")
        return text

    def _lines_text(self, v: CountView) -> Text:
        """One row per product counted this round, the last scanned marked: how many so far."""
        text = Text(no_wrap=True, overflow="ellipsis")
        lines = [ln for ln in v.lines if ln.round == v.round]
        if not lines:
            text.append("Nothing counted yet", style="italic")
            return text
        for i, ln in enumerate(lines):
            if i:
                text.append("\n")
            last = ln.sku == v.last_sku
            text.append("▶ " if last else "  ", style="bold")
            text.append(f"{ln.counted:>4} ", style="bold")
            text.append_text(cut(f"{ln.sku} {ln.name}", self.width - 7, "bold" if last else ""))
        return text

    def _result_text(self, r: CountResult) -> Text:
        """What the count came to, for the counter: the differences once the stock is settled,
        never what was expected before it (a recount must be as blind as the first count)."""
        text = Text()
        text.append(f" {r.bin} ", style="bold reverse")
        text.append(f" {r.number}: ", style="bold")
        text.append(status_words(r), style="bold")
        if r.adjusted:
            for p in r.differences:
                text.append(f"\n{p.difference:+d} {safe(p.sku)}: {p.counted} on hand now")
        for label, numbers in (
            ("Re-reserved elsewhere", r.re_reserved),
            ("On hold, short", r.held),
            ("Released", r.released),
        ):
            if numbers:
                text.append(f"\n{label}: ", style="bold")
                text.append(", ".join(numbers))
        for order, tote in r.totes_to_shelf:
            text.append(f"\nTote {tote} ({order}) to the problem shelf")
        return text

    def next_step(self) -> str:
        v = self.view
        if v is None:
            return PROMPT
        if self.asking_empty:
            if self.narrow:
                return f"{v.bin} empty? CMD-EMPTY/Enter"
            return f"Is {v.bin} empty? CMD-EMPTY again or Enter: yes · Esc: go on counting"
        if self.narrow:
            if v.last_sku is not None:
                return "Next item · key a number · F5: done"
            return "Scan every item · F5: done"
        if v.last_sku is not None:
            return "Scan the next item, or key how many in all · CMD-EMPTY (F5) when done"
        return (
            f"Counting {v.bin} — scan every item, key a number after a scan for many; "
            "CMD-EMPTY (F5) when done"
        )

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
        self.asking_empty = False
        if scan.kind is ScanKind.BIN:
            if scan.text == v.bin:
                await self.journal(ScanOutcome.of(scan, "accepted"))
                self.feedback.info(f"Counting {v.bin}: scan what is in it", scan=scan.raw)
                return
            await self.refuse(
                scan, f"You are counting {v.bin}: finish it first (CMD-EMPTY or F5), then "
                f"scan {scan.text}."
            )  # fmt: skip
            return
        if scan.kind is ScanKind.CODE and is_keyed_count(scan.text):
            # A short number is a keyed count, unless it is a product's code (a numeric SKU
            # scanned): then it is an item.
            known = await asyncio.to_thread(counts.is_product_code, self.picker.db, scan.text)
            if not known:
                await self._keyed_count(int(scan.text), scan)
                return
        if scan.kind not in (ScanKind.PRODUCT, ScanKind.CODE):
            await self.refuse(scan, f"{scan.text} is not an item: scan what is in {v.bin}.")
            return
        await self._item(scan, v)

    async def _start(self, scan: Scan) -> None:
        app = self.picker
        if scan.kind is not ScanKind.BIN:
            await self.refuse(scan, f"{scan.text} is not a bin. {PROMPT} (e.g. A-01-02-1).")
            return
        started = await self._call(
            counts.start_count, app.db, self.actor, scan.text, settings=app.settings,
            clock=app.clock, scan=ScanOutcome.of(scan, "accepted"),
            refused=scan,
        )  # fmt: skip
        if started is None:
            return
        self.view, self.result = started, None
        again = " (recount)" if started.round > 1 else ""
        self.feedback.ok(f"Counting {started.bin}{again} · {started.number}", scan=scan.raw)

    async def _item(self, scan: Scan, v: CountView) -> None:
        app = self.picker
        code = next(iter(scan.lookup_codes), scan.text)
        before = {ln.sku: ln.counted for ln in v.lines if ln.round == v.round}
        done = await self._call(
            counts.count_item, app.db, self.actor, v.number, code, settings=app.settings,
            clock=app.clock, scan=ScanOutcome.of(scan, "accepted"),
            refused=scan,
        )  # fmt: skip
        if done is None:
            return
        self.view = done
        line = last_counted(done)
        if line is None:  # nothing to name (the service counted nothing new)
            self.feedback.ok(f"{scan.text} counted", scan=scan.raw)
            return
        added = line.counted - before.get(line.sku, 0)
        pack = f" (a case of {added})" if added > 1 else ""
        self.feedback.ok(
            f"+{added} {line.sku} {safe(line.name)}{pack} · counted {line.counted}",
            scan=scan.raw,
        )

    async def _keyed_count(self, units: int, scan: Scan | None) -> None:
        v = self.view
        if v is None:
            return
        if v.last_sku is None:
            words = f"Scan an item of {v.bin} first, then key how many of it there are."
            if scan is not None:
                await self.refuse(scan, words)
            else:
                self.feedback.error(words)
            return
        app = self.picker
        sku = v.last_sku
        done = await self._call(
            counts.key_count, app.db, self.actor, v.number, units, settings=app.settings,
            clock=app.clock, scan=ScanOutcome.of(scan, "accepted") if scan else None,
            refused=scan,
        )  # fmt: skip
        if done is None:
            return
        self.view = done
        self.feedback.ok(f"{sku}: {units} counted", scan=scan.raw if scan else None)

    # --- keyed entries ----------------------------------------------------------------------

    @on(Input.Submitted, "#qty")
    async def keyed(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        event.input.value = ""
        if text and not text.isdigit():  # typed by hand: an item's code, a bin, a command
            self.picker.enqueue_scan(text, manual=True)
            return
        if text:
            await self.locked(self._keyed_count, int(text), None)

    # --- commands (a scan of the station sheet, or a key) -------------------------------------

    async def action_done(self, how: str = "empty") -> None:
        await self.locked(self._done, how)

    async def action_confirm(self) -> None:
        if self.asking_empty:
            await self.locked(self._done, "empty")

    def on_blank_enter(self) -> None:
        """Enter alone: says yes to "is the bin empty?"."""
        if self.asking_empty:
            self.run_worker(self.locked(self._done, "empty"), exclusive=False)

    async def _done(self, how: str) -> None:
        """CMD-EMPTY (every item scanned; an empty bin: nothing) or CMD-CLOSE: the round is
        finished. Nothing scanned asks first whether the bin is really empty."""
        v = self.view
        if v is None:
            self.feedback.error(f"No bin is being counted here. {PROMPT}.")
            return
        if not any(ln.counted for ln in v.lines) and not self.asking_empty:
            self.asking_empty = True
            self.feedback.info(f"Nothing counted in {v.bin}")
            return
        self.asking_empty = False
        app = self.picker
        finish = counts.confirm_empty if how == "empty" else counts.finish_count
        finished = await self._call(
            finish, app.db, self.actor, v.number, settings=app.settings,
            clock=app.clock,
        )  # fmt: skip
        if finished is None:
            return
        self.view, self.result = None, finished
        # Settled: green. Waiting for someone else (a recount, a lead): blue, no bell — the
        # counter did nothing wrong.
        show = self.feedback.ok if finished.status == "done" else self.feedback.info
        show(finished.words)
        await self._read_tasks()

    def action_cancel(self) -> None:
        if self.asking_empty:
            self.asking_empty = False
            self.feedback.info("Go on counting")
            self.show()

    async def action_leave(self) -> None:
        """Esc: back to where counting was opened from. A count being made stays held by this
        terminal, its bin locked: opening counting again takes it up."""
        if self.asking_empty:
            self.action_cancel()
            return
        v = self.view
        self.app.pop_screen()
        if v is not None:
            with contextlib.suppress(Exception):  # a screen without feedback: nothing to say
                self.app.screen.query_one(Feedback).info(
                    f"{v.number} stays open here, {v.bin} locked: open counting to finish it"
                )

    def action_moves(self) -> None:
        """The replenishment moves, when this terminal has them (an app of a later release)."""
        if MOVES not in getattr(self.app, "OPENABLE_SCREENS", {}):
            self.feedback.error("Moves are not available on this terminal yet.")
            return
        self.picker.open_screen(MOVES)


# --- words ------------------------------------------------------------------------------------


def status_words(r: CountResult) -> str:
    """The outcome in a few words (the feedback bar says it in full: ``CountResult.words``)."""
    if r.status == "recount":
        return "counts differ — another operator must recount it"
    if r.status == "approval":
        return "the difference waits for a lead's approval"
    if r.adjusted:
        return "stock adjusted"
    return "no difference"


def is_keyed_count(text: str) -> bool:
    """A plain number short enough to be keyed (a barcode is longer): how many in all."""
    return text.isdigit() and len(text) <= KEYED_DIGITS


def last_counted(v: CountView) -> CountLineView | None:
    """The line of the product scanned last this round."""
    return next((ln for ln in v.lines if ln.round == v.round and ln.sku == v.last_sku), None)


def cut(text: str | None, width: int, style: str = "") -> Text:
    """Text on one row of ``width`` cells at most: shown literally, cut with "…"."""
    shown = Text(safe(text), style=style, no_wrap=True)
    shown.truncate(max(1, width), overflow="ellipsis")
    return shown


def text_len_of_last(text: Text) -> int:
    """Cells used on the last row of ``text``."""
    return len(text.plain.rsplit("\n", 1)[-1])
