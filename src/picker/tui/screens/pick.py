"""The pick screen: the walk, the current line large, and each step done by a scan.

Per line: scan the bin, then the item (one scan per unit; after the first, the quantity may be
keyed). With more than one order started, the order's tote is scanned after the item before the
pick counts (put-to-tote check). Every accepted pick is committed before the screen says so.
CMD-UNDO (F4) puts the last pick back; CMD-SHORT (F6) reports that the bin holds fewer. A bin
being counted is refused at its scan: the picker goes on, and its lines come back at the end of
the walk.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from picker.domain.picking import (
    PickLine,
    Step,
    WrongScan,
    check_bin,
    check_item,
    check_quantity,
    check_short_count,
    check_tote,
    walk,
)
from picker.domain.scanning import Scan, ScanKind
from picker.domain.text import plural
from picker.services.errors import ServiceError
from picker.services.floor import picking
from picker.services.scans import ScanOutcome
from picker.tui.screens.base import PickerScreen
from picker.tui.text import safe
from picker.tui.widgets.big_text import BigText
from picker.tui.widgets.feedback import Feedback
from picker.tui.widgets.key_bar import KeyBar

#: Lines of the walk shown after the current one (on a handheld: the next one only).
AHEAD = 4
#: Under this many rows (a 40x16 handheld) the walk ahead is one line: the next bin.
TALL = 20


class PickScreen(PickerScreen):
    SCREEN_NAME = "pick"
    SCAN_COMMANDS = {"CMD-UNDO": "undo", "CMD-SHORT": "short", "CMD-CANCEL": "cancel_entry"}
    BINDINGS = [
        Binding("f4", "undo", "Undo", id="pick.undo"),
        Binding("f6", "short", "Short", id="pick.short"),
        Binding("escape", "leave", "Queue", id="pick.leave"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[PickLine] = []
        self.told: set[int] = set()
        """Orders whose leaving the walk the picker was already told about."""
        self.step = Step.BIN
        self.confirmed_bin: str | None = None
        self.pending = 0
        """Units scanned but not yet put in the tote (batch mode), of ``pending_task``."""
        self.pending_task: int | None = None
        self.pending_scans: list[ScanOutcome] = []
        self.asking_short = False
        self.deferred: set[int] = set()
        """Lines whose bin was being counted when scanned: offered again after the others."""

    def compose(self) -> ComposeResult:
        yield self.title_bar("picking")
        with Vertical(id="pick-body"):
            yield BigText(id="bin")
            yield Static("", id="line")
            yield Static("", id="walk")
        yield Input(placeholder="quantity", id="qty", classes="entry")
        yield Input(placeholder="scan", id="scan", classes="scan")
        yield Feedback(id="feedback")
        yield KeyBar()

    async def on_mount(self) -> None:
        self.query_one("#qty", Input).display = False
        await self.locked(self.reload)  # the database away: said in words, never a crash
        self.query_one("#scan", Input).focus()

    # --- state ---------------------------------------------------------------------------

    @property
    def is_batch(self) -> bool:
        return len({ln.order_id for ln in self.lines}) > 1

    def ordered(self) -> list[PickLine]:
        """The lines left in walking order, those put off by a count at the end."""
        rest = [ln for ln in walk(self.lines) if not ln.done]
        return [ln for ln in rest if ln.task_id not in self.deferred] + [
            ln for ln in rest if ln.task_id in self.deferred
        ]

    @property
    def line(self) -> PickLine | None:
        rest = self.ordered()
        return rest[0] if rest else None

    async def reload(self) -> None:
        app = self.picker
        assert app.operator is not None
        before = {ln.order_id for ln in self.lines}
        self.lines = await asyncio.to_thread(picking.pick_list, app.db, app.operator.id)
        left = before - {ln.order_id for ln in self.lines} - self.told
        if left:
            # An order can leave the walk from another terminal (a shortage there held it, a
            # lead took it over): say what became of it, and where its tote goes.
            changed = await asyncio.to_thread(picking.gone, app.db, sorted(left))
            if changed:
                self.feedback.error(" ".join(g.words for g in changed))
            self.told |= left
        self._next_step()

    async def resync(self) -> None:
        self.pending, self.pending_scans, self.pending_task = 0, [], None  # saved before
        self.step = Step.BIN
        await super().resync()

    def _picked(self, task_id: int, count: int) -> None:
        """A committed pick, counted in the walk on screen without reading it again (the
        database refuses a pick whose line changed elsewhere, and the walk is read afresh
        then, after an order is finished and after every shortage)."""
        self.lines = [
            replace(ln, picked=ln.picked + count) if ln.task_id == task_id else ln
            for ln in self.lines
        ]
        self._next_step()

    def _next_step(self) -> None:
        line = self.line
        if self.pending and (line is None or line.task_id != self.pending_task):
            # Units in hand belong to the line they were scanned for, never to another.
            self.pending, self.pending_scans, self.pending_task = 0, [], None
            self.step = Step.BIN
        if line is None:
            self.show()
            return
        if self.step is not Step.TOTE:
            self.step = Step.ITEM if line.bin_code == self.confirmed_bin else Step.BIN
        self.show()

    def on_resize(self) -> None:
        """The walk ahead gets the rows there are: redrawn when the screen changes size."""
        if self.lines:
            self.show(set_step=False)

    def show(self, *, set_step: bool = True) -> None:
        line = self.line
        big = self.query_one("#bin", BigText)
        body = self.query_one("#line", Static)
        walk_view = self.query_one("#walk", Static)
        qty = self.query_one("#qty", Input)
        if line is None:
            big.text = ""
            body.update(Text("Nothing left to pick", style="bold"))
            walk_view.update("")
            self.keyed_or_scan(qty, False)  # the scan field back, even after a keyed last unit
            return
        # The bin large, read at arm's length; green once scanned (then the item is next).
        big.text = line.bin_code
        big.set_class(self.step is not Step.BIN, "-confirmed")
        text = Text(overflow="ellipsis")
        text.append(f"{safe(line.name)}\n", style="bold")
        text.append(f"{safe(line.sku)}  ")
        text.append(f" take {line.left} ", style="bold reverse")
        text.append(f" of {line.quantity}")
        if self.pending:
            text.append(f" · {self.pending} in hand", style="bold")
        text.append("\ntote ")
        text.append(line.tote, style="bold")
        if self.is_batch:
            text.append(f" · {line.order_number}")
        if line.exchange:  # a return's replacement goods: the packer and the customer expect it
            text.append("\n")
            text.append(f" EXCHANGE · {line.exchange} ", style="bold reverse")
        body.update(text)
        ahead = [ln for ln in self.ordered() if ln.task_id != line.task_id]
        walk_view.update(self._ahead(ahead))
        more = self.step is Step.ITEM and line.picked + self.pending > 0
        self.keyed_or_scan(qty, more or self.asking_short)
        if set_step:
            self.feedback.set_next_step(self.next_step(line))

    def _ahead(self, ahead: list[PickLine]) -> Text:
        """The walk after this line: on a handheld the next bin only (and how many lines
        follow it), on a taller screen the next few."""
        rest = Text(no_wrap=True, overflow="ellipsis")
        if not ahead:
            rest.append("Last line of the walk", style="italic")
            return rest
        if self.size.height < TALL:
            ln = ahead[0]
            rest.append("Next: ", style="italic")
            rest.append(f"{ln.bin_code} {safe(ln.sku)} ×{ln.left}")
            if len(ahead) > 1:
                rest.append(f" +{len(ahead) - 1}", style="italic")
            return rest
        rest.append(f"Next ({plural(len(ahead), 'line')} to go):\n", style="italic")
        for ln in ahead[:AHEAD]:
            rest.append(f"{ln.bin_code}  {safe(ln.sku)} ×{ln.left}  tote {ln.tote}\n")
        if len(ahead) > AHEAD:
            rest.append(f"… and {len(ahead) - AHEAD} more", style="italic")
        return rest

    def next_step(self, line: PickLine) -> str:
        if self.asking_short:
            return f"Key how many {line.sku} are in bin {line.bin_code}, then Enter"
        if self.step is Step.BIN:
            return f"Scan bin {line.bin_code}"
        if self.step is Step.TOTE:
            return f"Put it in tote {line.tote} and scan the tote"
        if line.picked + self.pending:
            return f"Scan {line.sku} (or key how many more)"
        return f"Scan {line.sku}"

    # --- scans ---------------------------------------------------------------------------

    async def on_scan(self, scan: Scan) -> None:
        async with self.busy:
            await self._on_scan(scan)

    async def _on_scan(self, scan: Scan) -> None:
        line = self.line
        if line is None:
            await self.refuse(scan, "Nothing left to pick. Esc: back to the queue.")
            return
        try:
            if self.step is Step.BIN:
                await self._bin(scan, line)
            elif self.step is Step.ITEM:
                await self._item(scan, line)
            else:
                await self._tote(scan, line)
        except WrongScan as exc:
            await self.refuse(scan, str(exc))
            self.show()

    async def _bin(self, scan: Scan, line: PickLine) -> None:
        if scan.kind is not ScanKind.BIN:
            raise WrongScan(f"Scan the bin first: {line.bin_code}.")
        check_bin(line, scan.text)
        app = self.picker
        try:
            await asyncio.to_thread(
                picking.scan_bin, app.db, self.actor, line.task_id,
                scan=ScanOutcome.of(scan, "accepted", order_id=line.order_id),
                screen=self.SCREEN_NAME, clock=app.clock,
            )  # fmt: skip
        except picking.BinCounted as exc:
            self._put_off(line)
            await self.refuse(scan, self._counted_words(exc))
            self._next_step()
            return
        except ServiceError as exc:
            self.feedback.error(str(exc), scan=scan.raw)
            await self.reload()
            return
        self.deferred -= {ln.task_id for ln in self.lines if ln.bin_code == line.bin_code}
        self.confirmed_bin = line.bin_code
        self.step = Step.ITEM
        self.feedback.ok(f"Bin {line.bin_code}", scan=scan.raw)
        self.show()

    async def _item(self, scan: Scan, line: PickLine) -> None:
        if scan.kind is ScanKind.BIN:
            raise WrongScan(f"You are at bin {line.bin_code}. Scan the item {line.sku}.")
        codes = list(scan.lookup_codes) or [scan.text]
        check_item(line, codes, scan.text)
        count = max(1, scan.quantity)
        check_quantity(line, count + self.pending)
        outcome = ScanOutcome.of(scan, "accepted", order_id=line.order_id)
        if self.is_batch:
            self.pending += count
            self.pending_task = line.task_id
            self.pending_scans.append(outcome)
            self.step = Step.TOTE
            self.feedback.ok(f"{line.sku}: {self.pending} in hand", scan=scan.raw)
            self.show()
            return
        await self._commit(line, count, [outcome], scan.raw)

    async def _tote(self, scan: Scan, line: PickLine) -> None:
        if scan.kind is not ScanKind.TOTE:
            raise WrongScan(f"Put it in tote {line.tote} and scan the tote.")
        check_tote(line, scan.text)
        outcomes = [*self.pending_scans, ScanOutcome.of(scan, "accepted", order_id=line.order_id)]
        # The units stay in hand until the pick is committed: a scan held for want of the
        # database is sent again with them.
        await self._commit(line, self.pending, outcomes, scan.raw)

    async def _commit(
        self, line: PickLine, count: int, outcomes: list[ScanOutcome], raw: str
    ) -> None:
        app = self.picker
        try:
            done = await asyncio.to_thread(
                picking.pick, app.db, self.actor, line.task_id, count, scans_=outcomes,
                screen=self.SCREEN_NAME, clock=app.clock,
            )  # fmt: skip
        except ServiceError as exc:
            self.pending, self.pending_scans = 0, []
            self.step = Step.ITEM
            words = str(exc)
            if isinstance(exc, picking.BinCounted):  # the count began since the bin's scan
                self._put_off(line)
                self.confirmed_bin = None
                self.step = Step.BIN
                words = self._counted_words(exc)
            self.feedback.error(words, scan=raw)
            await self.reload()
            return
        self.pending, self.pending_scans = 0, []
        self.step = Step.ITEM
        if done.order_picked:
            drop = app.settings.picking.drop_off
            self.feedback.ok(
                f"{done.order_number} picked. Take tote {done.tote} to {drop}.", scan=raw
            )
            self.told.add(line.order_id)
            await self.reload()
        else:
            self.feedback.ok(f"{done.quantity} × {done.sku} · {done.left} left", scan=raw)
            self._picked(line.task_id, count)
        if self.line is None:
            self._all_done()

    def _counted_words(self, exc: picking.BinCounted) -> str:
        """The service's words, unless no line is left but those of bins being counted: then
        there is no next line to go on to."""
        if any(ln.task_id not in self.deferred for ln in self.ordered()):
            return str(exc)
        return (
            f"{exc.bin} is being counted ({exc.number}) and no other line is left: wait for "
            "the count to close and scan the bin again, or go on with another order (Esc) and "
            "report it to the shift lead"
        )

    def _put_off(self, line: PickLine) -> None:
        """The lines of a bin being counted go to the end of the walk."""
        self.deferred |= {ln.task_id for ln in self.lines if ln.bin_code == line.bin_code}

    def _all_done(self) -> None:
        drop = self.picker.settings.picking.drop_off
        self.feedback.set_next_step(f"All picked: take the totes to {drop} · Esc: queue")

    # --- keyed quantities: more units of a line, or the count of a short bin -------------

    @on(Input.Submitted, "#qty")
    async def keyed(self, event: Input.Submitted) -> None:
        event.stop()
        async with self.busy:
            try:
                await self._keyed(event)
            except Exception as exc:  # the database, for one: said in words, never a crash
                self.picker.report_failure(exc)

    async def _keyed(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        event.input.value = ""
        line = self.line
        if line is None or not text:
            return
        if not text.isdigit():
            self.feedback.error(f"{text!r} is not a number. Key digits, then Enter.")
            return
        number = int(text)
        if self.asking_short:
            await self._short(line, number)
            return
        try:
            check_quantity(line, number + self.pending)
        except WrongScan as exc:
            self.feedback.error(str(exc))
            return
        if self.is_batch:
            self.pending += number
            self.pending_task = line.task_id
            self.step = Step.TOTE
            self.feedback.ok(f"{line.sku}: {self.pending} in hand")
            self.show()
            return
        await self._commit(line, number, [], f"{number} keyed")

    def action_short(self) -> None:
        line = self.line
        if line is None:
            return
        if self.pending:
            self.feedback.error(
                f"{self.pending} × {line.sku} in hand: put them in tote {line.tote} and scan "
                "the tote first, then report the shortage."
            )
            return
        self.asking_short = True
        self.show()
        self.feedback.info(f"Shortage at {line.bin_code}")

    def action_cancel_entry(self) -> None:
        if self.asking_short:
            self.asking_short = False
            self.feedback.info("Shortage cancelled")
            self.show()

    async def _short(self, line: PickLine, found: int) -> None:
        self.asking_short = False
        try:
            check_short_count(line, found)
            result = await asyncio.to_thread(
                picking.report_shortage, self.picker.db, self.actor, line.task_id, found,
                clock=self.picker.clock,
            )  # fmt: skip
        except (WrongScan, ServiceError) as exc:
            self.feedback.error(str(exc))
            self.show()
            return
        # Orders of this batch that the shortage left with no stock anywhere, this one first.
        held = [(result.order_number, result.tote, result.put_back)] if result.on_hold else []
        held += [
            (h.number, h.tote or "", h.put_back)
            for h in result.mine_held(self.actor.operator_id or 0)
        ]
        if held:
            message = f"{result.sku} short. "
            if result.replacement_bins:
                bins = ", ".join(result.replacement_bins)
                message += f"{result.missing} now from {bins} (added to the walk). "
            for number, tote, put_back in held:
                back = "; ".join(f"{p.quantity} × {p.sku} → {p.bin}" for p in put_back)
                message += f"{number} on hold: "
                message += f"put back {back}, then tote " if back else "tote "
                message += f"{tote} to the problem shelf. "
            numbers = {number for number, _, _ in held}
            self.told |= {ln.order_id for ln in self.lines if ln.order_number in numbers}
            self.feedback.error(message.strip())
        elif result.replacement_bins:
            bins = ", ".join(result.replacement_bins)
            self.feedback.ok(f"{result.missing} × {result.sku} now from {bins} (added to the walk)")
        else:
            self.feedback.ok(f"Bin {line.bin_code} corrected")
        await self.reload()
        if self.line is None:
            self._all_done()

    async def action_undo(self) -> None:
        self.pending, self.pending_scans, self.pending_task = 0, [], None
        async with self.busy:
            try:
                await self._undo()
            except Exception as exc:
                self.picker.report_failure(exc)

    async def _undo(self) -> None:
        app = self.picker
        try:
            undone = await asyncio.to_thread(
                picking.undo_last_pick, app.db, self.actor, clock=app.clock
            )
        except ServiceError as exc:
            self.feedback.error(str(exc))
            return
        if undone is None:
            self.feedback.error("Nothing to undo.")
            return
        self.feedback.ok(f"Undone: {undone.quantity} × {undone.sku}. Put it back in {undone.bin}.")
        self.step = Step.BIN
        self.confirmed_bin = None
        await self.reload()

    def action_leave(self) -> None:
        if self.asking_short:
            self.action_cancel_entry()
            return
        self.app.pop_screen()
