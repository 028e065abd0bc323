"""The returns desk: a parcel comes back, every unit is judged by scan, stock and money follow.

Scan the parcel's tracking number (the outbound one or the return label's), the order number or
the RMA: the return opens with what may come back. Then, per unit: scan the item (refused in red
with the bell when it is not in the order or more than was shipped), scan its condition
(CMD-RESELL, CMD-DAMAGED, CMD-DEFECT, CMD-INCOMPLETE, CMD-SCRAP — or F2, F3, F5, F6, F7); a
resellable unit is put away by scanning its bin (the pick face is suggested, large), the others
go to the quarantine bin at once; scrap asks for a keyed reason. CMD-FOREIGN (F9) records an item
that is not ours (or an empty box) with a keyed note. CMD-UNDO (F4) takes back the last unit.

CMD-CLOSE (F8) asks to confirm — a second CMD-CLOSE or Enter — and closes: the refund and the
order's new status are shown. CMD-EXCHANGE (F10) closes as an exchange: scan the replacement item
(Enter: the same SKU as returned), key the quantity (Enter: as many as returned). A return whose
RMA lines are all judged closes by itself (``[returns] auto_close``). Esc parks the return (any
terminal may take it up) and goes back to the prompt.

Laid out for a 40x16 handheld first: one row per line, cut with an ellipsis; what to do next is
always the last line of the feedback bar.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from decimal import Decimal
from typing import Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, Static

from picker.domain.returns import CONDITION_WORDS, QUARANTINE, Condition
from picker.domain.scanning import Scan, ScanKind
from picker.services.errors import ServiceError
from picker.services.orders.views import amount
from picker.services.products import product_detail
from picker.services.returns import desk, views
from picker.services.returns.shapes import Closed, ReturnView
from picker.services.scans import ScanOutcome
from picker.tui.screens.base import PickerScreen
from picker.tui.text import safe
from picker.tui.widgets.big_text import BigText
from picker.tui.widgets.feedback import Feedback
from picker.tui.widgets.key_bar import KeyBar
from picker.tui.widgets.steady_text import SteadyText

Entry = Literal["scrap", "foreign", "quantity"]

PROMPT = "Scan the parcel, the order or the RMA"
#: The conditions a unit is given, with their F-keys, in the order listed on screen.
CONDITION_KEYS: tuple[tuple[str, Condition], ...] = (
    ("F2", Condition.RESELL),
    ("F3", Condition.DAMAGED),
    ("F5", Condition.DEFECT),
    ("F6", Condition.INCOMPLETE),
    ("F7", Condition.SCRAP),
)
#: Units of this return listed on a tall screen (last first).
UNITS_SHOWN = 4
_PLACEHOLDERS: dict[str, str] = {
    "scrap": "why scrap? (Enter)",
    "foreign": "what is it? e.g. empty box (Enter)",
}


class ReturnsScreen(PickerScreen):
    SCREEN_NAME = "returns"
    SCAN_COMMANDS = {
        "CMD-RESELL": "judge('resell')",
        "CMD-DAMAGED": "judge('damaged')",
        "CMD-DEFECT": "judge('defect')",
        "CMD-INCOMPLETE": "judge('incomplete')",
        "CMD-SCRAP": "judge('scrap')",
        "CMD-FOREIGN": "foreign",
        "CMD-UNDO": "undo",
        "CMD-CLOSE": "close",
        "CMD-OK": "confirm",
        "CMD-EXCHANGE": "exchange",
        "CMD-CANCEL": "cancel",
    }
    BINDINGS = [
        Binding("f2", "judge('resell')", "Resell", show=False, id="returns.resell"),
        Binding("f3", "judge('damaged')", "Damaged", show=False, id="returns.damaged"),
        Binding("f5", "judge('defect')", "Defect", show=False, id="returns.defect"),
        Binding("f6", "judge('incomplete')", "Incomplete", show=False, id="returns.incomplete"),
        Binding("f7", "judge('scrap')", "Scrap", show=False, id="returns.scrap"),
        Binding("f4", "undo", "Undo", id="returns.undo"),
        Binding("f8", "close", "Close", id="returns.close"),
        Binding("f9", "foreign", "Foreign", id="returns.foreign"),
        Binding("f10", "exchange", "Exchange", id="returns.exchange"),
        Binding("escape", "leave", "Park", id="returns.leave"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view: ReturnView | None = None
        """The return open at this terminal, None at the prompt."""
        self.entry: Entry | None = None
        """What the keyed field asks for, if it shows."""
        self.closing = False
        """CMD-CLOSE once: asks to confirm; again (or Enter) closes."""
        self.exchanging = False
        """CMD-EXCHANGE: the next scan is the replacement item (Enter: the same SKU)."""
        self.replacement: list[tuple[str, int]] = []
        """The replacement goods chosen so far: (SKU, quantity)."""
        self.closed: Closed | None = None
        """The return closed last here, shown under the prompt until the next one opens."""

    def compose(self) -> ComposeResult:
        yield self.title_bar("returns")
        with Vertical(id="returns-body"):
            yield Static(PROMPT, id="prompt", classes="prompt")
            yield SteadyText(id="outcome")
            yield SteadyText(id="head")
            with Vertical(id="pending"):
                yield BigText(id="put-bin")
                yield SteadyText(id="unit")
            with VerticalScroll(id="return-list"):
                yield SteadyText(id="lines")
                yield SteadyText(id="units")
        yield Input(placeholder="", id="entry", classes="entry")
        yield Input(placeholder="scan", id="scan", classes="scan")
        yield Feedback(id="feedback")
        yield KeyBar()

    async def on_mount(self) -> None:
        self.query_one("#return-list").can_focus = False
        self.query_one("#scan", Input).focus()
        self.show()
        await self.locked(self._resume)  # the database away: said in words, never a crash

    async def _resume(self) -> None:
        """A return this terminal was receiving (it died, or its operator logged out mid-way)
        is taken up again with its counts; one parked is left for whoever scans it."""
        app = self.picker
        here = app.settings.terminal.id

        def mine() -> ReturnView | None:
            held = [r for r in views.list_returns(app.db, status="open")
                    if r.held_by_terminal == here]  # fmt: skip
            if not held:
                return None
            return desk.open_return(
                app.db, self.actor, held[0].number, settings=app.settings, clock=app.clock
            )

        try:
            view = await asyncio.to_thread(mine)
        except ServiceError as exc:
            self.feedback.error(str(exc))
            return
        if view is not None:
            self.view = view
            self.feedback.info(f"Back to {view.number}: what was received is kept")

    # --- the database, off the event loop -------------------------------------------------

    async def reload(self) -> None:
        """The return as the database has it (a scan sent twice: its first answer lost)."""
        if self.view is None:
            return
        app = self.picker
        self._reset()
        try:
            self.view = await asyncio.to_thread(
                desk.open_return, app.db, self.actor, self.view.number, settings=app.settings,
                clock=app.clock,
            )  # fmt: skip
        except ServiceError:  # closed by the scan that was saved: back to the prompt
            self.view = None

    # --- what the screen shows ------------------------------------------------------------

    @property
    def width(self) -> int:
        """Columns a row may take (the body's padding left out)."""
        return max(20, self.app.size.width - 2)

    def on_resize(self) -> None:
        self.show()  # the rows are cut to the width

    def show(self) -> None:
        v = self.view
        self.query_one("#prompt").display = v is None
        outcome = self.query_one("#outcome", SteadyText)
        outcome.display = v is None and self.closed is not None
        if outcome.display and self.closed is not None:
            outcome.put(self._closed_text(self.closed))
        for part in ("#head", "#return-list"):
            self.query_one(part).display = v is not None
        pending = self.query_one("#pending")
        pending.display = v is not None and (v.pending is not None or self.exchanging)
        if v is not None:
            self._show_return(v)
        entry = self.query_one("#entry", Input)
        entry.placeholder = self._placeholder()
        self.keyed_or_scan(entry, self.entry is not None)
        self.feedback.set_next_step(self.next_step())

    def _placeholder(self) -> str:
        if self.entry == "quantity":
            return f"how many? (Enter: {self._returned_units()})"
        return _PLACEHOLDERS.get(self.entry or "", "")

    def _show_return(self, v: ReturnView) -> None:
        w = self.width
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(f" {v.number} ", style="bold reverse")
        head.append(f" {v.order_number} ", style="bold")
        head.append(cut(v.customer_name, w - head.cell_len))
        if not self.narrow or v.exchange:
            head.append("\n")
            row = Text()
            if v.exchange:
                row.append(" EXCHANGE ", style="bold reverse yellow")
                row.append(" ")
            if v.reason:
                row.append(f"{safe(v.reason).replace('_', ' ')} · ")
            row.append(f"Refund so far {money(v.refund_so_far, v.currency)}")
            head.append_text(cut(row.plain, w) if not v.exchange else row)
        self.query_one("#head", SteadyText).put(head)
        self._show_pending(v)
        self.query_one("#lines", SteadyText).put(self._lines_text(v))
        units = self.query_one("#units", SteadyText)
        units.display = bool(v.units) and not self.narrow
        if units.display:
            units.put(self._units_text(v))

    def _show_pending(self, v: ReturnView) -> None:
        big = self.query_one("#put-bin", BigText)
        unit = self.query_one("#unit", SteadyText)
        p = v.pending
        text = Text(no_wrap=True, overflow="ellipsis")
        big.text = ""
        if self.exchanging:
            text.append("Exchange: the replacement?", style="bold")
            text.append("\nScan it · Enter: the same SKU", style="")
            if self.replacement:
                sku, qty = self.replacement[-1]
                text = Text(f"Exchange: {qty} × {safe(sku)}", style="bold")
        elif p is None:
            pass
        elif p.needs == "bin":
            where = p.suggested_bin or ""
            big.text = where
            text.append_text(cut(f"{p.sku} {p.name}", self.width, "bold"))
            text.append("\n")
            text.append(
                f"Resell: put it in {where}" if where else "Resell: scan the bin it goes in",
                style="bold",
            )
        else:
            text.append_text(cut(f"{p.sku} {p.name}", self.width, "bold"))
            if self.entry is None:  # keying why it is scrapped, or what it is: the keys wait
                text.append("\nIts condition? Scan or press:")
                text.append("\n")
                text.append_text(self._condition_keys())
        self.query_one("#pending").set_class(p is not None and p.needs == "bin", "-bin")
        unit.put(text)

    def _condition_keys(self) -> Text:
        """The conditions with their keys, wrapped to the width."""
        text = Text()
        used = 0
        for key, condition in CONDITION_KEYS:
            item = f"{key} {condition.value}"
            if used and used + 1 + len(item) > self.width:
                text.append("\n")
                used = 0
            elif used:
                text.append(" ")
                used += 1
            text.append(key, style="bold reverse")
            text.append(f" {condition.value}")
            used += len(item)
        return text

    def _lines_text(self, v: ReturnView) -> Text:
        """One row per order line: units back in this return of those that may come back."""
        text = Text(no_wrap=True, overflow="ellipsis")
        for i, ln in enumerate(v.lines):
            if i:
                text.append("\n")
            may = ln.shipped - ln.returned_before
            now = sum(ln.this_return.values())
            wanted = ln.expected if ln.expected is not None else may
            done = wanted > 0 and now >= wanted and not ln.this_return.get("pending")
            text.append("✔ " if done else "· ", style="green" if done else "bold")
            text.append(f"{now}/{wanted} ", style="bold")
            room = self.width - text_len_of_last(text)
            judged = ", ".join(f"{n} {c}" for c, n in ln.this_return.items() if n)
            if judged and not self.narrow:  # wide: how they were judged, after the name
                name = cut(f"{ln.sku} {ln.name}", max(10, room - len(judged) - 3))
                text.append_text(name)
                text.append(f" ({judged})", style="italic")
            else:
                text.append_text(cut(f"{ln.sku} {ln.name}", room))
        if not v.lines:
            text.append("Nothing of this order may come back", style="italic")
        return text

    def _units_text(self, v: ReturnView) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("Received (last first):", style="italic")
        for u in v.units[:UNITS_SHOWN]:
            text.append("\n")
            if u.condition == Condition.FOREIGN:
                row = f"not ours: {u.note or ''}"
            else:
                where = f" → {u.bin}" if u.bin else ""
                note = f": {u.note}" if u.note else ""
                row = f"{u.sku} {u.condition or 'pending'}{where}{note}"
            text.append_text(cut(row, self.width))
        if len(v.units) > UNITS_SHOWN:
            text.append(f"\n… and {len(v.units) - UNITS_SHOWN} more", style="italic")
        return text

    def _closed_text(self, c: Closed) -> Text:
        text = Text()
        text.append(f" {c.number} closed ", style="bold reverse green")
        text.append(f"\nOrder {c.order_number}: {c.order_status}", style="bold")
        text.append(f"\nRefund {money(c.refund, c.currency)}", style="bold")
        if c.refund_shipping:
            text.append(f" (shipping {money(c.refund_shipping, c.currency)})")
        if c.exchange_order:
            text.append(f"\nExchange order {c.exchange_order}", style="bold")
            if c.exchange_due:
                text.append(f"\nCustomer owes {money(c.exchange_due, c.currency)}", style="bold")
        return text

    def next_step(self) -> str:
        v = self.view
        if v is None:
            if self.narrow:
                return "Scan parcel, order or RMA"
            return PROMPT if self.closed is None else f"{PROMPT} · Esc: home"
        if self.entry == "scrap":
            if self.narrow:
                return "Key why, Enter · Esc: back"
            return "Key why it is scrapped, Enter · Esc: back"
        if self.entry == "foreign":
            return "Key what it is, Enter · Esc: back"
        if self.entry == "quantity":
            return f"Key how many, Enter: {self._returned_units()} · Esc: back"
        if self.exchanging:
            if self.narrow:
                return "Scan replacement · Enter: same SKU"
            return "Scan the replacement item · Enter: the same SKU · Esc: back"
        if self.closing:
            if self.narrow:
                return "CMD-CLOSE/Enter: close · Esc: go on"
            return "CMD-CLOSE again or Enter: close · Esc: go on"
        p = v.pending
        if p is not None and p.needs == "bin":
            if p.suggested_bin and self.narrow:
                return f"Put it in {p.suggested_bin}, scan the bin"
            if p.suggested_bin:
                return f"Put it in BIN {p.suggested_bin} (the pick face) — scan the bin"
            return "Put it on a shelf — scan the bin"
        if p is not None:
            return "Scan its condition: CMD-RESELL…"
        if v.exchange:  # the RMA asks for replacement goods: closing means choosing them
            if self.narrow:
                return "Next item · done: CMD-EXCHANGE"
            return "Scan the next item · not ours: CMD-FOREIGN · done: CMD-EXCHANGE"
        if self.narrow:
            return "Scan the next item · CMD-CLOSE: done"
        return "Scan the next item · not ours: CMD-FOREIGN · done: CMD-CLOSE"

    def _returned_units(self) -> int:
        v = self.view
        if v is None:
            return 0
        return sum(sum(ln.this_return.values()) for ln in v.lines) or 1

    # --- scans ------------------------------------------------------------------------------

    async def on_scan(self, scan: Scan) -> None:
        async with self.busy:
            try:
                await self._on_scan(scan)
            finally:
                self.show()

    async def _on_scan(self, scan: Scan) -> None:
        v = self.view
        if self.entry is not None:
            await self.refuse(scan, "Key the answer (a scan is none), then Enter · Esc: back.")
            return
        if v is None:
            await self._open(scan)
            return
        self.closing = False
        if self.exchanging:
            await self._replacement(scan)
            return
        if scan.text in (v.number, v.order_number):
            await self.journal(ScanOutcome.of(scan, "accepted"))
            self.feedback.info(f"{v.number} is open here", scan=scan.raw)
            return
        if scan.kind in (ScanKind.RMA, ScanKind.ORDER, ScanKind.PARCEL, ScanKind.TOTE):
            await self.refuse(
                scan, f"{v.number} is open: close it (CMD-CLOSE) or park it (Esc) first."
            )
            return
        p = v.pending
        if p is not None and p.needs == "bin":
            if scan.kind is not ScanKind.BIN:
                where = p.suggested_bin or "its bin"
                await self.refuse(
                    scan, f"{p.sku} waits for its bin: put it in {where} and scan the bin."
                )
                return
            await self._put_away(scan, v)
            return
        if p is not None:
            await self.refuse(
                scan,
                f"First say what state {p.sku} is in: CMD-RESELL, CMD-DAMAGED, CMD-DEFECT, "
                "CMD-INCOMPLETE or CMD-SCRAP.",
            )
            return
        if scan.kind is ScanKind.BIN:
            await self.refuse(scan, f"Bin {scan.text}: scan the item first, then its condition.")
            return
        await self._item(scan, v)

    async def _open(self, scan: Scan) -> None:
        app = self.picker
        if scan.kind in (ScanKind.BIN, ScanKind.BADGE, ScanKind.PACKAGING, ScanKind.PICKUP):
            await self.refuse(scan, f"{scan.text}: {PROMPT.lower()}.")
            return
        opened = await self._call(
            desk.open_return,
            app.db,
            self.actor,
            scan.text,
            settings=app.settings,
            clock=app.clock,
            scan=ScanOutcome.of(scan, "accepted"),
            refused=scan,
        )
        if opened is None:
            return
        self.view, self.closed = opened, None
        self._reset()
        self.feedback.ok(f"{opened.number} open · {opened.order_number}", scan=scan.raw)

    async def _item(self, scan: Scan, v: ReturnView) -> None:
        app = self.picker
        code = next(iter(scan.lookup_codes), scan.text)
        done = await self._call(
            desk.scan_item, app.db, self.actor, v.number, code, settings=app.settings,
            clock=app.clock, scan=ScanOutcome.of(scan, "accepted"),
            refused=scan,
        )  # fmt: skip
        if done is None:
            return
        self.view = done
        p = done.pending
        name = f"{p.sku} {p.name}" if p is not None else scan.text
        self.feedback.ok(safe(name), scan=scan.raw)

    async def _put_away(self, scan: Scan, v: ReturnView) -> None:
        app = self.picker
        sku = v.pending.sku if v.pending else ""
        done = await self._call(
            desk.put_away, app.db, self.actor, v.number, scan.text, settings=app.settings,
            clock=app.clock, scan=ScanOutcome.of(scan, "accepted"),
            refused=scan,
        )  # fmt: skip
        if done is None:
            return
        words = f"{sku} → {done.bin}: back in stock"
        if done.released:
            words += f" · released: {', '.join(done.released)}"
        self._took(done.view, words, scan=scan.raw)

    async def _replacement(self, scan: Scan) -> None:
        app = self.picker
        if scan.kind not in (ScanKind.PRODUCT, ScanKind.CODE):
            await self.refuse(scan, "Scan the replacement item (Enter: the same SKU) · Esc: back.")
            return
        code = next(iter(scan.lookup_codes), scan.text)
        try:
            found = await asyncio.to_thread(product_detail, app.db, code)
        except ServiceError as exc:
            await self.refuse(scan, str(exc))
            return
        await self.journal(ScanOutcome.of(scan, "accepted"))
        sku = found.summary.sku
        self.replacement = [(sku, self._returned_units())]
        self.exchanging, self.entry = False, "quantity"
        self.feedback.ok(f"Replacement {sku} {safe(found.summary.name)}", scan=scan.raw)

    # --- commands (a scan of the station sheet, or a key) -------------------------------------

    async def action_judge(self, condition: str) -> None:
        await self.locked(self._judge, Condition(condition))

    async def _judge(self, condition: Condition) -> None:
        v = self.view
        if v is None:
            self.feedback.error(f"{PROMPT} first.")
            return
        if self.entry is not None or self.exchanging:
            self.feedback.error("Finish what is asked first, or Esc.")
            return
        self.closing = False
        p = v.pending
        if p is None:
            self.feedback.error(f"Scan the item first, then its condition ({condition.value}).")
            return
        if p.needs == "bin":
            self.feedback.error(
                f"{p.sku} is for resale: scan the bin it goes in (CMD-UNDO to judge again)."
            )
            return
        if condition is Condition.SCRAP:
            self.entry = "scrap"
            self.feedback.info(f"Scrap {p.sku}: why?")
            return
        await self._judged(condition, None)

    async def _judged(self, condition: Condition, note: str | None) -> None:
        v = self.view
        if v is None or v.pending is None:
            return
        app = self.picker
        sku = v.pending.sku
        done = await self._call(
            desk.judge, app.db, self.actor, v.number, condition, note=note,
            settings=app.settings, clock=app.clock,
        )  # fmt: skip
        if done is None:
            return
        last = done.units[0] if done.units else None
        if condition is Condition.RESELL:
            words = f"{sku}: resell"
        elif condition in QUARANTINE:
            where = last.bin if last is not None and last.bin else "the quarantine bin"
            words = f"{sku} {CONDITION_WORDS[condition]} → quarantine {where}"
        else:
            words = f"{sku} scrapped: {note}"
        self._took(done, words)

    async def action_foreign(self) -> None:
        await self.locked(self._foreign)

    async def _foreign(self) -> None:
        v = self.view
        if v is None:
            self.feedback.error(f"{PROMPT} first.")
            return
        if v.pending is not None and v.pending.needs == "bin":
            self.feedback.error(f"{v.pending.sku} waits for its bin: scan it (or CMD-UNDO).")
            return
        self.closing = self.exchanging = False
        self.entry = "foreign"
        self.feedback.info("Not ours: say what it is")

    async def action_undo(self) -> None:
        await self.locked(self._undo)

    async def _undo(self) -> None:
        v = self.view
        if v is None:
            self.feedback.error("No return open: nothing to undo.")
            return
        self._reset()
        app = self.picker
        last = v.units[0] if v.units else None
        done = await self._call(
            desk.undo_last, app.db, self.actor, v.number, settings=app.settings, clock=app.clock
        )
        if done is None:
            return
        self.view = done
        if last is None:
            self.feedback.ok("Undone")
            return
        what = last.sku or "foreign item"
        took = f", take it out of {last.bin}" if last.bin else ""
        self.feedback.ok(f"Undone: {what}{took}")

    async def action_close(self) -> None:
        await self.locked(self._close, None)

    async def action_confirm(self) -> None:
        if self.closing:
            await self.locked(self._close, None)

    async def _close(self, exchange: Sequence[tuple[str, int]] | None) -> None:
        v = self.view
        if v is None:
            self.feedback.error("No return open: nothing to close.")
            return
        if v.pending is not None:
            self.feedback.error(f"Finish {v.pending.sku} first: {self.next_step()}.")
            return
        if exchange is None and not self.closing:
            self.entry, self.exchanging = None, False
            self.closing = True
            self.feedback.info(
                f"Close {v.number}? Goods refund {money(v.refund_so_far, v.currency)}"
            )
            return
        await self._close_now(v, exchange)

    async def _close_now(self, v: ReturnView, exchange: Sequence[tuple[str, int]] | None) -> None:
        app = self.picker
        self._reset()
        closed = await self._call(
            desk.close, app.db, self.actor, v.number, exchange=exchange,
            settings=app.settings, clock=app.clock,
        )  # fmt: skip
        if closed is not None:
            self._finished(closed, "")

    def _took(self, done: ReturnView, words: str, *, scan: str | None = None) -> None:
        """The return as an action left it, ``words`` said in green; an action that closed it
        (``[returns] auto_close``: the RMA's lines all judged) says so too."""
        if done.closed is not None:
            self._finished(done.closed, f"{words} · ", scan=scan)
            return
        self.view = done
        self.feedback.ok(words, scan=scan)

    def _finished(self, closed: Closed, before: str, *, scan: str | None = None) -> None:
        self._reset()
        self.view, self.closed = None, closed
        words = f"{before}{closed.number} closed"
        if not self.narrow:  # a handheld: the refund is in the body, the bar keeps to one row
            words += f" · refund {money(closed.refund, closed.currency)}"
        if closed.exchange_order:
            words += f" · exchange {closed.exchange_order}"
        self.feedback.ok(words, scan=scan)

    async def action_exchange(self) -> None:
        await self.locked(self._exchange)

    async def _exchange(self) -> None:
        v = self.view
        if v is None:
            self.feedback.error(f"{PROMPT} first.")
            return
        if v.pending is not None:
            self.feedback.error(f"Finish {v.pending.sku} first: {self.next_step()}.")
            return
        if not self._returned():
            self.feedback.error("Nothing of this order came back yet: scan the items first.")
            return
        allowed = self.picker.settings.returns.exchange_reasons
        if not (v.exchange or v.reason in allowed):  # said before anything is scanned for it
            why = f"its reason is {v.reason}" if v.reason else "it has no reason that allows one"
            self.feedback.error(
                f"{v.number} cannot be an exchange: {why} (an RMA for {', '.join(allowed)})."
            )
            return
        self.entry, self.closing = None, False
        self.exchanging = True
        self.replacement = []
        self.feedback.info(f"{v.number} as an exchange")

    def _returned(self) -> list[tuple[str, int]]:
        """The units of ours in this return, by SKU: what "the same" replaces."""
        v = self.view
        if v is None:
            return []
        return [(ln.sku, n) for ln in v.lines if (n := sum(ln.this_return.values()))]

    def on_blank_enter(self) -> None:
        """Enter alone: confirms a close, or takes the same SKU as the replacement."""
        if self.closing:
            self.run_worker(self.locked(self._close, None), exclusive=False)
        elif self.exchanging:
            self.run_worker(self.locked(self._same_sku), exclusive=False)

    async def _same_sku(self) -> None:
        """The replacement is what came back: one SKU asks how many; several are replaced
        each as many as came back, and the return closes."""
        v = self.view
        same = self._returned()
        self.exchanging = False
        if v is None or not same:
            return
        if len(same) == 1:
            self.replacement = same
            self.entry = "quantity"
            self.feedback.info(f"Replacement: {same[0][0]}, the same SKU")
            return
        await self._close_now(v, same)

    # --- keyed entries ----------------------------------------------------------------------

    @on(Input.Submitted, "#entry")
    async def keyed(self, event: Input.Submitted) -> None:
        event.stop()
        text = " ".join(event.value.split())
        event.input.value = ""
        await self.locked(self._keyed, text)

    async def _keyed(self, text: str) -> None:
        v = self.view
        entry = self.entry
        if v is None or entry is None:
            return
        if entry == "quantity":
            await self._quantity(v, text)
            return
        if not text:
            what = "why it is scrapped" if entry == "scrap" else "what it is"
            self.feedback.error(f"Key {what}: it is kept with the return.")
            return
        self.entry = None
        if entry == "scrap":
            await self._judged(Condition.SCRAP, text)
            return
        app = self.picker
        done = await self._call(
            desk.foreign, app.db, self.actor, v.number, text, settings=app.settings,
            clock=app.clock,
        )  # fmt: skip
        if done is None:
            return
        self._took(done, f"Not ours: {text}")

    async def _quantity(self, v: ReturnView, text: str) -> None:
        if text and not (text.isdigit() and int(text) > 0):
            self.feedback.error(f"{text!r} is not a quantity. Key digits, then Enter.")
            return
        sku = self.replacement[0][0] if self.replacement else ""
        qty = int(text) if text else self._returned_units()
        self.entry = None
        await self._close_now(v, [(sku, qty)])

    # --- leaving ----------------------------------------------------------------------------

    def _reset(self) -> None:
        self.entry, self.closing, self.exchanging, self.replacement = None, False, False, []

    def action_cancel(self) -> None:
        if self.entry is not None or self.closing or self.exchanging:
            self._reset()
            self.feedback.info("Stopped: nothing changed")
            self.show()

    async def action_leave(self) -> None:
        if self.entry is not None or self.closing or self.exchanging:
            self.action_cancel()
            return
        if self.view is None:
            self.app.pop_screen()
            return
        await self.locked(self._park)

    async def _park(self) -> None:
        v = self.view
        if v is None:
            return
        app = self.picker
        try:
            await asyncio.to_thread(desk.park, app.db, self.actor, v.number, clock=app.clock)
        except ServiceError as exc:  # taken over elsewhere meanwhile: it is not ours to park
            self.feedback.error(str(exc))
        else:
            self.feedback.info(f"{v.number} parked: any returns desk may take it up")
        self.view = None


def money(value: Decimal, currency: str) -> str:
    """An amount in its currency's minor units, and the currency: ``12.50 EUR``."""
    return f"{amount(value, currency)} {currency}"


def cut(text: str | None, width: int, style: str = "") -> Text:
    """Text on one row of ``width`` cells at most: shown literally, cut with "…"."""
    shown = Text(safe(text), style=style, no_wrap=True)
    shown.truncate(max(1, width), overflow="ellipsis")
    return shown


def text_len_of_last(text: Text) -> int:
    """Cells used on the last row of ``text``."""
    return len(text.plain.rsplit("\n", 1)[-1])
