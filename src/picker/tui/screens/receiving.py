"""The receiving dock: a supplier's delivery received by scan, then put away bin by bin.

**Receive.** Scan the delivery note (the receipt's reference: ``ASN-2026-0042``, ``PO-778812``,
``4500123456``…): the receipt opens with its lines. Scan each product: a unit barcode or SKU
counts one, a case's GTIN-14 counts its pack size, a GS1-128 label fills lot and expiry. Digits
keyed after a scan (then Enter) say how many units that scan really was. An over-receipt, a
product not on the notice or one the catalogue does not know is refused in red with the bell;
a lead accepts it with CMD-ACCEPT (F5) and a keyed reason. CMD-UNDO (F4) takes the last scan
back. CMD-CLOSE (F8) — twice, or Enter twice on an empty field — closes the receipt and lists
what was short, over or unknown. Esc parks it (any dock may take it up).

**Put away.** CMD-PUTAWAY (F6): scan an item waiting in the dock, its suggested bin is shown
large with the units waiting; key a number to put fewer away; scan the bin it goes in (any pick
or reserve bin: the suggestion is a suggestion). Orders held short of it are released at once
and named. Esc goes back.

A terminal that died mid-receipt opens it again at the next login. Laid out for a 40x16 handheld
first: one row per line, cut with an ellipsis; what to do next is always the last line of the
feedback bar.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, Static

from picker.domain.roles import Role
from picker.domain.scanning import Scan, ScanKind
from picker.domain.text import plural
from picker.services import inbound
from picker.services.errors import ServiceError
from picker.services.scans import ScanOutcome
from picker.tui.screens.base import SHORT_BELOW, PickerScreen
from picker.tui.text import safe
from picker.tui.widgets.big_text import BigText
from picker.tui.widgets.feedback import Feedback
from picker.tui.widgets.key_bar import KeyBar
from picker.tui.widgets.steady_text import SteadyText

Mode = Literal["idle", "receipt", "putaway"]

PROMPT = "Scan a delivery note (its reference), or CMD-PUTAWAY (F6) to put goods away"
#: Over the prompt's lists on a tall screen (the feedback bar spells the whole step out).
HEADING = "Receiving dock: scan a delivery note"
PROMPT_NARROW = "Scan a delivery note · F6: put away"
#: A keyed count after a scan: digits, at most this many (a GTIN or a long reference is not one).
COUNT_DIGITS = 5
#: Receipts and dock items listed at the prompt.
LISTED = 8


@dataclass(frozen=True)
class Refused:
    """The last scan the service refused, for a lead's CMD-ACCEPT."""

    code: str
    units: int
    message: str


class ReceivingScreen(PickerScreen):
    SCREEN_NAME = "receiving"
    SCAN_COMMANDS = {
        "CMD-PUTAWAY": "putaway",
        "CMD-UNDO": "undo",
        "CMD-ACCEPT": "accept",
        "CMD-CLOSE": "close",
        "CMD-OK": "confirm",
        "CMD-CANCEL": "cancel",
    }
    BINDINGS = [
        Binding("f4", "undo", "Undo", id="receiving.undo"),
        Binding("f5", "accept", "Accept", id="receiving.accept"),
        Binding("f6", "putaway", "Put away", id="receiving.putaway"),
        Binding("f8", "close", "Close", id="receiving.close"),
        Binding("escape", "leave", "Back", id="receiving.leave"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.mode: Mode = "idle"
        """At the prompt, receiving a receipt, or putting goods away."""
        self.view: inbound.ReceiptView | None = None
        """The receipt open at this terminal."""
        self.last: inbound.Received | None = None
        """The last scan received here: digits keyed now say how many units it was."""
        self.refused: Refused | None = None
        """The last scan refused: what a lead's CMD-ACCEPT accepts."""
        self.entry: Literal["reason"] | None = None
        """The keyed field shows: a lead keys why the refused scan is accepted."""
        self.closing = False
        """CMD-CLOSE (or Enter on an empty field) once: asks to confirm; again closes."""
        self.closed: inbound.Discrepancies | None = None
        """The receipt closed last here, its discrepancies shown at the prompt."""
        self.receipts: list[inbound.ReceiptSummary] = []
        self.dock: list[inbound.DockItem] = []
        self.suggestion: inbound.Suggestion | None = None
        """Put-away: the item scanned and where it should go."""
        self.put_units: int | None = None
        """Put-away: fewer units than all waiting, keyed."""

    def compose(self) -> ComposeResult:
        yield self.title_bar("receiving")
        with Vertical(id="receiving-body"):
            yield Static(HEADING, id="prompt", classes="prompt")
            yield SteadyText(id="outcome")
            yield SteadyText(id="head")
            with Vertical(id="pending"):
                yield BigText(id="put-bin")
                yield SteadyText(id="item")
            with VerticalScroll(id="receipt-list"):
                yield SteadyText(id="lines")
        yield Input(placeholder="why accept it? (Enter)", id="entry", classes="entry")
        yield Input(placeholder="scan", id="scan", classes="scan")
        yield Feedback(id="feedback")
        yield KeyBar()

    async def on_mount(self) -> None:
        self.query_one("#receipt-list").can_focus = False
        self.query_one("#scan", Input).focus()
        self.show()
        await self.locked(self._resume)  # the database away: said in words, never a crash

    async def _resume(self) -> None:
        """The receipt this terminal was receiving (it died, or its operator logged out) is
        taken up again with its counts; the prompt's lists are read otherwise."""
        app = self.picker
        here = app.settings.terminal.id

        def mine() -> inbound.ReceiptView | None:
            held = inbound.held_receipt(app.db, here)
            if held is None:
                return None
            # Claimed again by whoever is logged in now (a lead may take over the terminal).
            return inbound.open_receipt(
                app.db, self.actor, held.reference, settings=app.settings, clock=app.clock
            )

        try:
            view = await asyncio.to_thread(mine)
        except ServiceError as exc:
            self.feedback.error(str(exc))
            view = None
        if view is not None:
            self.mode, self.view = "receipt", view
            self.feedback.info(f"Back to {view.reference}: what was received is kept")
            return
        await self._read_lists()
        self.feedback.info(self._lists_summary())

    def _lists_summary(self) -> str:
        expected = sum(r.status == "expected" for r in self.receipts)
        waiting = sum(i.units for i in self.dock)
        if self.narrow:
            return f"{expected} expected · {waiting} in the dock"
        return f"{plural(expected, 'receipt')} expected · {plural(waiting, 'unit')} in the dock"

    async def _read_lists(self) -> None:
        app = self.picker

        def read() -> tuple[list[inbound.ReceiptSummary], list[inbound.DockItem]]:
            found = inbound.list_receipts(app.db, status="open", limit=LISTED)
            found += inbound.list_receipts(app.db, status="expected", limit=LISTED)
            return found[:LISTED], inbound.dock_items(app.db, settings=app.settings)

        self.receipts, self.dock = await asyncio.to_thread(read)

    async def reload(self) -> None:
        """What the database has (a scan sent twice: its first answer was lost)."""
        app = self.picker
        if self.mode == "receipt" and self.view is not None:
            reference = self.view.reference
            self._reset()
            try:
                self.view = await asyncio.to_thread(
                    inbound.open_receipt, app.db, self.actor, reference,
                    settings=app.settings, clock=app.clock,
                )  # fmt: skip
            except ServiceError:  # closed by the scan that was saved: back to the prompt
                self.mode, self.view = "idle", None
        if self.mode == "idle":
            await self._read_lists()

    # --- what the screen shows ------------------------------------------------------------

    @property
    def width(self) -> int:
        """Columns a row may take (the body's padding left out)."""
        return max(20, self.app.size.width - (0 if self.narrow else 2))

    def on_resize(self) -> None:
        self.show()  # the rows are cut to the width

    def show(self) -> None:
        mode = self.mode
        prompt = self.query_one("#prompt", Static)
        # A handheld's rows go to the lists: the feedback bar's last line says the same.
        prompt.display = mode == "idle" and self.app.size.height >= SHORT_BELOW
        outcome = self.query_one("#outcome", SteadyText)
        outcome.display = mode == "idle" and self.closed is not None
        if outcome.display and self.closed is not None:
            outcome.put(self._closed_text(self.closed))
        head = self.query_one("#head", SteadyText)
        head.display = mode != "idle"
        self.query_one("#pending").display = mode == "putaway" and self.suggestion is not None
        lines = self.query_one("#lines", SteadyText)
        if mode == "receipt" and self.view is not None:
            head.put(self._head_text(self.view))
            lines.put(self._lines_text(self.view))
        elif mode == "putaway":
            waiting = sum(i.units for i in self.dock)
            head.put(Text(f" PUT AWAY  {plural(waiting, 'unit')} in the dock", style="bold"))
            self._show_suggestion()
            lines.put(self._dock_text(heading=True))
        else:
            lines.put(self._idle_text())
        entry = self.query_one("#entry", Input)
        self.keyed_or_scan(entry, self.entry is not None)
        self.feedback.set_next_step(self.next_step())

    def _head_text(self, v: inbound.ReceiptView) -> Text:
        w = self.width
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(f" {v.reference} ", style="bold reverse")
        received, expected = _totals(v)
        head.append(f" {received}/{expected} ", style="bold")
        head.append_text(_cut(v.supplier or "", w - head.cell_len))
        return head

    def _lines_text(self, v: inbound.ReceiptView) -> Text:
        """One row per line: received/expected, ✓ when complete, the SKU and name."""
        text = Text(no_wrap=True, overflow="ellipsis")
        last_line = self.last.line.line_no if self.last is not None else None
        for i, ln in enumerate(v.lines):
            if i:
                text.append("\n")
            done = ln.expected > 0 and ln.received >= ln.expected
            over = ln.received > ln.expected
            mark, style = ("✓ ", "bold green") if done and not over else ("· ", "bold")
            if over:
                mark, style = ("+ ", "bold yellow")
            text.append(mark, style=style)
            text.append(f"{ln.received}/{ln.expected} ", style="bold")
            row = f"{ln.sku} {ln.name or ''}"
            lot = f" lot {ln.lot}" if ln.lot else ""
            room = self.width - _last_row_len(text)
            if lot and not self.narrow:
                text.append_text(_cut(row, max(8, room - len(lot))))
                text.append(lot, style="italic")
            else:
                text.append_text(_cut(row, room))
            if ln.line_no == last_line:
                text.stylize("underline", len(text) - _last_row_len(text), len(text))
        if not v.lines:
            text.append("No lines yet: scan the first item", style="italic")
        return text

    def _idle_text(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("Receipts expected / open", style="bold underline")
        for r in self.receipts:
            text.append("\n")
            state = "▶ " if r.status == "open" else "  "
            text.append(state, style="bold")
            row = f"{r.reference} {r.received_units}/{r.expected_units}"
            text.append(row, style="bold")
            if not self.narrow:
                text.append(f" · {plural(r.lines, 'line')}")
            room = self.width - _last_row_len(text) - 1
            if r.supplier and room > 3:
                text.append(" ")
                text.append_text(_cut(r.supplier, room))
        if not self.receipts:
            text.append("\nNone expected", style="italic")
        text.append("\n")
        text.append_text(self._dock_text(heading=True))
        return text

    def _dock_text(self, *, heading: bool) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        if heading:
            text.append("In the dock, to put away", style="bold underline")
        for item in self.dock[:LISTED]:
            text.append("\n")
            text.append(f"{item.units:>4} ", style="bold")
            text.append_text(_cut(f"{item.sku} {item.name}", self.width - 5))
        if len(self.dock) > LISTED:
            text.append(f"\n… and {len(self.dock) - LISTED} more", style="italic")
        if not self.dock:
            text.append("\nNothing waiting", style="italic")
        return text

    def _show_suggestion(self) -> None:
        s = self.suggestion
        big = self.query_one("#put-bin", BigText)
        item = self.query_one("#item", SteadyText)
        pending = self.query_one("#pending")
        if s is None:
            big.text = ""
            return
        big.text = s.bin or ""
        pending.set_class(s.bin is None, "-none")
        units = self.put_units if self.put_units is not None else s.units
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append_text(_cut(f"{s.sku} {s.name}", self.width - 2, "bold"))
        text.append("\n")
        of = f" of {s.units}" if units != s.units else ""
        if s.bin:
            text.append_text(_cut(f"Put {units}{of} in {s.bin}", self.width - 2, "bold"))
        else:
            text.append_text(_cut(f"{units}{of} to put away: any bin", self.width - 2, "bold"))
        if s.why and not self.narrow:
            text.append("\n")
            text.append_text(_cut(s.why, self.width - 2, "italic"))
        item.put(text)

    def _closed_text(self, d: inbound.Discrepancies) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f" {d.reference} closed ", style="bold reverse green")
        if d.clean:
            text.append("\nEverything as the notice said", style="bold")
            return text
        for line in d.lines:
            text.append("\n")
            text.append(f"{line.kind.replace('_', ' ')} ", style="bold red")
            text.append(f"{line.received}/{line.expected} ", style="bold")
            text.append_text(_cut(f"{line.sku} {line.name or ''}", self.width - 16))
        return text

    def next_step(self) -> str:
        """What to do next: the last line of the feedback bar (short on a handheld)."""
        short, wide = self._steps()
        return short if self.narrow else wide

    def _steps(self) -> tuple[str, str]:
        """The next step for a handheld and for a wide screen."""
        if self.mode == "idle":
            return PROMPT_NARROW, PROMPT if self.closed is None else f"{PROMPT} · Esc: home"
        if self.mode == "putaway":
            s = self.suggestion
            if s is None:
                return "Scan an item · Esc: back", (
                    "Scan an item waiting in the dock · Esc: back to the receipts"
                )
            units = self.put_units if self.put_units is not None else s.units
            if s.bin:
                return f"Put {units} in {s.bin}, scan the bin", (
                    f"Put {units} in BIN {s.bin} — scan the bin · key a number for fewer"
                )
            return "Scan the bin you put it in", (
                "No bin suggested: scan any pick or reserve bin you put it in"
            )
        if self.entry == "reason":
            return "Key why, Enter · Esc: back", "Key why it is accepted, Enter · Esc: back"
        if self.closing:
            return "CMD-CLOSE/Enter: close · Esc: go on", (
                "CMD-CLOSE again or Enter: close · Esc: go on"
            )
        if self.refused is not None and self._is_lead():
            return "F5: accept it · or scan the next", (
                "CMD-ACCEPT (F5): accept it with a reason · or scan the next item"
            )
        if self.refused is not None:
            return "Set it aside · scan the next", "Set it aside for a lead · scan the next item"
        if self.last is not None:
            return "Next item · digits: count · F8", (
                "Scan the next item · key a number: that scan's units · done: CMD-CLOSE"
            )
        return "Scan an item · done: CMD-CLOSE", (
            "Scan each item (a case counts its pack) · done: CMD-CLOSE"
        )

    def _is_lead(self) -> bool:
        op = self.picker.operator
        return op is not None and Role.LEAD in op.roles

    # --- scans ------------------------------------------------------------------------------

    async def on_scan(self, scan: Scan) -> None:
        async with self.busy:
            try:
                await self._on_scan(scan)
            finally:
                self.show()

    async def _on_scan(self, scan: Scan) -> None:
        if self.entry is not None:
            await self.refuse(scan, "Key the reason (a scan is none), then Enter · Esc: back.")
            return
        if self.mode == "putaway":
            await self._putaway_scan(scan)
            return
        if self.mode == "idle":
            await self._open(scan)
            return
        self.closing = False
        v = self.view
        assert v is not None
        if scan.text == v.reference:
            await self.journal(ScanOutcome.of(scan, "accepted"))
            self.feedback.info(f"{v.reference} is open here", scan=scan.raw)
            return
        if _is_count(scan):
            if self.last is None:
                await self.refuse(scan, f"{scan.text}: scan an item first, then key its count.")
                return
            await self._key_count(scan, v, int(scan.text))
            return
        if scan.kind in (ScanKind.BIN, ScanKind.BADGE, ScanKind.TOTE, ScanKind.PARCEL):
            await self.refuse(
                scan,
                f"{scan.text}: scan the items of {v.reference} · put away after: Esc, then F6.",
            )
            return
        await self._receive(scan, v)

    async def _open(self, scan: Scan) -> None:
        if scan.kind in (ScanKind.BIN, ScanKind.BADGE, ScanKind.TOTE, ScanKind.PARCEL):
            await self.refuse(scan, f"{scan.text}: {PROMPT_NARROW.lower()}.")
            return
        app = self.picker
        opened = await self._call(
            inbound.open_receipt, app.db, self.actor, scan.text, settings=app.settings,
            clock=app.clock, scan=ScanOutcome.of(scan, "accepted"), refused=scan,
        )  # fmt: skip
        if opened is None:
            return
        self._reset()
        self.mode, self.view, self.closed = "receipt", opened, None
        received, expected = _totals(opened)
        self.feedback.ok(f"{opened.reference} open · {received}/{expected} received", scan=scan.raw)

    async def _receive(self, scan: Scan, v: inbound.ReceiptView) -> None:
        app = self.picker
        product = inbound.scanned_product(scan)  # the code, and a GS1 label's lot and expiry
        units = scan.quantity if scan.quantity > 1 else None  # a GS1 count (AI 30/37)
        try:
            got = await asyncio.to_thread(
                inbound.receive, app.db, self.actor, v.reference, product.code, units=units,
                lot=product.lot, expiry=product.expiry, settings=app.settings, clock=app.clock,
                scan=ScanOutcome.of(scan, "accepted"),
            )  # fmt: skip
        except ServiceError as exc:
            self.last = None
            # What a lead would accept: the units this scan stood for (a case: its units).
            refused = (inbound.OverReceipt, inbound.NotOnNotice, inbound.UnknownProduct)
            more = exc.units if isinstance(exc, refused) else units or 1
            self.refused = Refused(product.code, more, str(exc))
            await self.refuse(scan, str(exc))
            return
        self._received(got, scan=scan.raw)

    def _received(
        self, got: inbound.Received, *, scan: str | None = None, before: str = ""
    ) -> None:
        """Units in: "+1 SKU-1001 Blue mug (3/12)" in green (a case: "… case of 12")."""
        self.last, self.refused = got, None
        self.view = got.view
        ln = got.line
        words = f"{before}+{got.added} {ln.sku} {ln.name or ''}".rstrip()
        words += f" ({ln.received}/{ln.expected})"
        if got.units_per_scan > 1:
            words += f" case of {got.units_per_scan}"
        if got.note:  # a lot the notice does not list: where it was counted instead
            words += f" · {got.note}"
        elif got.lot and not self.narrow:
            words += f" · lot {got.lot}"
        if got.expiry and not self.narrow and not got.note:
            words += f" exp {got.expiry.isoformat()}"
        self.feedback.ok(safe(words), scan=scan)

    async def _key_count(self, scan: Scan, v: inbound.ReceiptView, units: int) -> None:
        app = self.picker
        got = await self._call(
            inbound.key_count, app.db, self.actor, v.reference, units, settings=app.settings,
            clock=app.clock, scan=ScanOutcome.of(scan, "accepted"), refused=scan,
        )  # fmt: skip
        if got is None:
            return
        self.last, self.refused, self.view = got, None, got.view
        ln = got.line
        self.feedback.ok(
            safe(f"{ln.sku}: {units} on that scan ({ln.received}/{ln.expected})"), scan=scan.raw
        )

    async def _release_held(self, sku: str, words: str, raw: str) -> None:
        app = self.picker
        try:
            released = await asyncio.to_thread(
                inbound.release_held, app.db, self.actor, sku, settings=app.settings,
                clock=app.clock,
            )  # fmt: skip
        except Exception:  # the put-away stands: said, and the orders stay held for a lead
            self.app.notify(
                f"Orders waiting for {sku} were not tried again (the database did not answer): "
                "tell the shift lead",
                severity="warning", timeout=10,
            )  # fmt: skip
            return
        if not released:
            return
        said = f"Released {', '.join(released)} — they were waiting for {sku}"
        if self.feedback.message == safe(words):
            self.feedback.ok(safe(f"{words} · {said}"), scan=raw)  # nothing scanned since
        else:
            self.app.notify(said, timeout=8)

    async def _putaway_scan(self, scan: Scan) -> None:
        app = self.picker
        s = self.suggestion
        if s is not None and _is_count(scan):
            units = int(scan.text)
            if not 1 <= units <= s.units:
                await self.refuse(
                    scan, f"{units} is not a count here: {s.units} of {s.sku} wait in the dock."
                )
                return
            await self.journal(ScanOutcome.of(scan, "accepted"))
            self.put_units = None if units == s.units else units
            self.feedback.info(f"Put {units} of {s.units} {s.sku} away", scan=scan.raw)
            return
        if scan.kind is ScanKind.BIN:
            if s is None:
                await self.refuse(scan, f"Bin {scan.text}: scan the item first, then its bin.")
                return
            done = await self._call(
                inbound.put_away, app.db, self.actor, s.sku, scan.text, units=self.put_units,
                settings=app.settings, clock=app.clock, scan=ScanOutcome.of(scan, "accepted"),
                refused=scan, retry=False,
            )  # fmt: skip
            if done is None:
                return
            self.suggestion, self.put_units = None, None
            words = f"{done.units} {done.sku} → {done.bin}"
            if done.left_in_dock:
                words += f" · {done.left_in_dock} left in the dock"
            self.feedback.ok(safe(words), scan=scan.raw)
            await self._read_lists()
            # Orders held short of the SKU are tried again after the put-away is shown (their
            # release and assignment is not the receiver's wait); the released are named then.
            self.run_worker(self._release_held(done.sku, words, scan.raw), group="release")
            return
        if scan.kind in (ScanKind.BADGE, ScanKind.TOTE, ScanKind.PARCEL, ScanKind.ORDER):
            await self.refuse(scan, f"{scan.text}: scan an item from the dock · Esc: back.")
            return
        code = next(iter(scan.lookup_codes), scan.text)
        found = await self._call(
            inbound.suggest_bin, app.db, code, settings=app.settings, refused=scan
        )
        if found is None:
            return
        if found.units < 1:
            await self.refuse(scan, f"{found.sku} is not waiting in the dock: nothing to put away.")
            return
        await self.journal(ScanOutcome.of(scan, "accepted"))
        self.suggestion, self.put_units = found, None
        where = f"→ {found.bin}" if found.bin else "· no bin suggested"
        self.feedback.ok(safe(f"{found.sku}: {found.units} waiting {where}"), scan=scan.raw)

    # --- commands (a scan of the station sheet, or a key) -------------------------------------

    async def action_putaway(self) -> None:
        await self.locked(self._putaway)

    async def _putaway(self) -> None:
        if self.mode == "receipt" and self.view is not None:
            self.feedback.error(
                f"{self.view.reference} is open: park it (Esc) or close it (F8) first."
            )
            return
        if self.mode == "putaway":
            self.feedback.info("Putting away: scan an item from the dock")
            return
        self._reset()
        self.mode, self.closed = "putaway", None
        await self._read_lists()
        self.feedback.info(f"Put away: {plural(sum(i.units for i in self.dock), 'unit')} waiting")

    async def action_undo(self) -> None:
        await self.locked(self._undo)

    async def _undo(self) -> None:
        v = self.view
        if self.mode != "receipt" or v is None:
            self.feedback.error("No receipt open: nothing to undo.")
            return
        self._reset()
        app = self.picker
        done = await self._call(
            inbound.undo_last, app.db, self.actor, v.reference, settings=app.settings,
            clock=app.clock,
        )  # fmt: skip
        if done is None:
            return
        self.view = done
        received, expected = _totals(done)
        self.feedback.ok(f"Undone: the last scan · {received}/{expected} received")

    async def action_accept(self) -> None:
        await self.locked(self._accept)

    async def _accept(self) -> None:
        if self.mode != "receipt":
            self.feedback.error("Nothing to accept: open a receipt and scan the item.")
            return
        if self.refused is None:
            self.feedback.error("Nothing refused to accept: CMD-ACCEPT follows a refused scan.")
            return
        if not self._is_lead():
            self.feedback.error(
                "Accepting needs a lead: a lead logs in here, scans the item, then CMD-ACCEPT."
            )
            return
        self.closing = False
        self.entry = "reason"
        self.feedback.info(f"Accept {self.refused.code}: why?")

    async def action_close(self) -> None:
        await self.locked(self._close)

    async def action_confirm(self) -> None:
        if self.closing:
            await self.locked(self._close)

    async def _close(self) -> None:
        v = self.view
        if self.mode != "receipt" or v is None:
            self.feedback.error("No receipt open: nothing to close.")
            return
        if not self.closing:
            self._reset()
            self.closing = True
            received, expected = _totals(v)
            self.feedback.info(f"Close {v.reference}? {received} of {expected} received")
            return
        app = self.picker
        self._reset()
        closed = await self._call(
            inbound.close_receipt, app.db, self.actor, v.reference, settings=app.settings,
            clock=app.clock,
        )  # fmt: skip
        if closed is None:
            return
        self.mode, self.view, self.closed = "idle", None, closed
        await self._read_lists()
        if closed.clean:
            self.feedback.ok(f"{v.reference} closed: everything as the notice said")
        else:
            found = plural(len(closed.lines), "discrepancy", "discrepancies")
            # Not a refusal (no bell): a note that stays until the next scan.
            self.feedback.info(f"{v.reference} closed with {found}: see the list")

    def on_blank_enter(self) -> None:
        """Enter alone, a receipt open: asks to close it; again, closes it."""
        if self.mode == "receipt" and self.entry is None:
            self.run_worker(self.locked(self._close), exclusive=False)

    # --- keyed entries ----------------------------------------------------------------------

    @on(Input.Submitted, "#entry")
    async def keyed(self, event: Input.Submitted) -> None:
        event.stop()
        text = " ".join(event.value.split())
        event.input.value = ""
        await self.locked(self._keyed, text)

    async def _keyed(self, text: str) -> None:
        v, r = self.view, self.refused
        if self.entry != "reason" or v is None or r is None:
            return
        if not text:
            self.feedback.error("Key why it is accepted: it is kept with the receipt.")
            return
        self.entry = None
        app = self.picker
        got = await self._call(
            inbound.accept, app.db, self.actor, v.reference, r.code, r.units, text,
            settings=app.settings, clock=app.clock,
        )  # fmt: skip
        if got is None:
            return
        self._received(got, before="Accepted: ")

    # --- leaving ----------------------------------------------------------------------------

    def _reset(self) -> None:
        self.entry, self.closing = None, False

    def action_cancel(self) -> None:
        if self.entry is not None or self.closing:
            self._reset()
            self.feedback.info("Stopped: nothing changed")
            self.show()

    async def action_leave(self) -> None:
        if self.entry is not None or self.closing:
            self.action_cancel()
            return
        if self.mode == "putaway":
            if self.suggestion is not None:
                self.suggestion, self.put_units = None, None
                self.feedback.info("Nothing put away")
                self.show()
                return
            self.mode = "idle"
            await self.locked(self._read_lists)
            self.feedback.info("Back to the receipts")
            return
        if self.mode == "idle":
            self.app.pop_screen()
            return
        await self.locked(self._park)

    async def _park(self) -> None:
        v = self.view
        if v is None:
            return
        app = self.picker
        try:
            await asyncio.to_thread(inbound.park, app.db, self.actor, v.reference, clock=app.clock)
        except ServiceError as exc:  # taken over elsewhere meanwhile: not ours to park
            self.feedback.error(str(exc))
        else:
            self.feedback.info(f"{v.reference} parked: any dock may take it up")
        self.mode, self.view, self.last, self.refused = "idle", None, None, None
        await self._read_lists()


def _is_count(scan: Scan) -> bool:
    """Digits keyed after a scan: how many units it was (never a product here)."""
    return scan.kind is ScanKind.CODE and scan.text.isdigit() and len(scan.text) <= COUNT_DIGITS


def _totals(v: inbound.ReceiptView) -> tuple[int, int]:
    """Units received and expected on the receipt."""
    return v.received_units, v.expected_units


def _cut(text: str | None, width: int, style: str = "") -> Text:
    """Text on one row of ``width`` cells at most: shown literally, cut with "…"."""
    shown = Text(safe(text), style=style, no_wrap=True)
    shown.truncate(max(1, width), overflow="ellipsis")
    return shown


def _last_row_len(text: Text) -> int:
    return len(text.plain.rsplit("\n", 1)[-1])
