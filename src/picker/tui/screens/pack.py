"""The packing table: an order verified unit by unit, boxed, weighed and labelled.

Open an order by its tote, verify every unit by scan, box, weigh, confirm the address, close
parcels (the label prints), and the courier's lane in large letters.

Laid out for a 40x16 handheld first: the order number and the ship address stay in sight (the
packer reads the address to confirm it), the checklist scrolls beneath them to the next line to
verify. Choosing a box (F3) or a reason to send the order to the lead (F9) lists the choices in
place of the checklist, numbered.

Scans do everything: a tote or order number opens the order; each product scan verifies a unit
(a GS1 count verifies that many, and after the first the quantity may be keyed); a box barcode
sets the packaging; the weight is keyed (grams or kg); CMD-OK confirms the address, CMD-CLOSE
closes the last parcel (or it closes by itself, config ``[packing] auto_close``), CMD-NEWPARCEL
closes this parcel and opens the next, CMD-UNDO takes the last unit out again, CMD-CANCEL sends
the order to the lead. Every change is committed before the screen says so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Literal, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input

from picker.domain.packing import check_count, match_line, parse_weight
from picker.domain.picking import WrongScan
from picker.domain.scanning import Scan, ScanKind
from picker.domain.text import plural
from picker.services.errors import ServiceError
from picker.services.floor import packing
from picker.services.floor.packing import Packaging, PackView
from picker.services.floor.parcels import close_parcel
from picker.services.scans import ScanOutcome
from picker.tui.screens.base import PickerScreen
from picker.tui.text import safe
from picker.tui.widgets.big_text import BigText
from picker.tui.widgets.feedback import Feedback
from picker.tui.widgets.key_bar import KeyBar
from picker.tui.widgets.steady_text import SteadyText

_T = TypeVar("_T")
Entry = Literal["qty", "weight", "box", "reason"]

#: Why a packer sends an order to the lead: keyed by number (Enter alone: the first).
REASONS = (
    "the packer asks the lead to look",
    "address wrong or incomplete",
    "item damaged",
    "item missing or not the one ordered",
)


class PackScreen(PickerScreen):
    SCREEN_NAME = "pack"
    SCAN_COMMANDS = {
        "CMD-OK": "confirm_address",
        "CMD-CLOSE": "close",
        "CMD-NEWPARCEL": "new_parcel",
        "CMD-UNDO": "undo",
        "CMD-CANCEL": "cancel",
    }
    BINDINGS = [
        Binding("f3", "choose_box", "Box", id="pack.box"),
        Binding("f4", "undo", "Undo", id="pack.undo"),
        Binding("f5", "confirm_address", "Addr OK", id="pack.address"),
        Binding("f7", "new_parcel", "New parcel", id="pack.new_parcel"),
        Binding("f8", "close", "Close", id="pack.close"),
        Binding("f9", "cancel", "To lead", id="pack.cancel"),
        Binding("escape", "leave", "Back", id="pack.leave"),
    ]

    def __init__(self, order_id: int | None = None) -> None:
        super().__init__()
        self.order_id = order_id
        self.view: PackView | None = None
        self.entry: Entry | None = None
        """What the entry field asks for, if it shows."""
        self.qty_line: int | None = None
        """The line whose first unit was just scanned: a keyed number verifies more of it."""
        self.last: tuple[int, int] | None = None
        """(line id, units) of the last verify, for CMD-UNDO."""
        self.lane: tuple[str, str] | None = None
        """(lane, courier) of the order just packed, shown large until the next one opens."""
        self._boxes: list[Packaging] = []
        """The boxes as numbered for choosing (F3)."""

    def compose(self) -> ComposeResult:
        yield self.title_bar("packing")
        with Vertical(id="pack-body"):
            with Vertical(id="lane"):
                yield BigText(id="lane-code")
                yield SteadyText(id="lane-courier")
            yield SteadyText(id="order")
            yield SteadyText(id="address")
            yield SteadyText(id="choices")
            with VerticalScroll(id="pack-list"):
                yield SteadyText(id="checklist")
                yield SteadyText(id="parcels")
                yield SteadyText(id="notes")
        yield Input(placeholder="", id="entry", classes="entry")
        yield Input(placeholder="scan", id="scan", classes="scan")
        yield Feedback(id="feedback")
        yield KeyBar()

    async def on_mount(self) -> None:
        self.query_one("#pack-list").can_focus = False
        try:
            await self._resume()
        except Exception as exc:  # the database, for one: said in words, never a crash
            self.picker.report_failure(exc)
        self.show()

    async def _resume(self) -> None:
        """The packer's open order (left with Esc, or a crash), whichever table this is: taken
        up here, so the terminal it was open on before can no longer change it."""
        app = self.picker
        if app.operator is None:
            return
        order_id = self.order_id or await asyncio.to_thread(packing.mine, app.db, app.operator.id)
        if order_id is None:
            return
        view = await asyncio.to_thread(packing.view, app.db, order_id)
        opened = await asyncio.to_thread(
            packing.open_order, app.db, self.actor, app.settings, view.number, by="order",
            clock=app.clock,
        )  # fmt: skip
        self.order_id = opened.order_id
        await self.reload()
        self.feedback.info(f"Back to {opened.number}: verified so far is kept")

    # --- the database, off the event loop -------------------------------------------------

    async def _call(
        self, fn: Callable[..., _T], *args: object, refused: Scan | None = None, **kw: object
    ) -> _T | None:
        """Run a service call in a thread and read the order again in the same thread. A
        refusal is shown in red (and journaled against ``refused``, the scan that asked) and
        None returned; the order is shown as it now stands either way."""
        app = self.picker
        order_id = self.order_id

        def both() -> tuple[_T | None, str | None, PackView | None]:
            result: _T | None = None
            error = None
            try:
                result = fn(*args, **kw)
            except (ServiceError, WrongScan) as exc:
                error = str(exc)
            current = packing.view(app.db, order_id) if order_id is not None else None
            return result, error, current

        result, error, current = await asyncio.to_thread(both)
        self.view = current
        if current is not None and current.status != "packing":
            self.order_id = None  # taken over, sent on hold: no longer this table's
        if error is not None:
            if refused is not None:
                await self.refuse(refused, error)
            else:
                self.feedback.error(error)
            return None
        return result

    async def reload(self) -> None:
        if self.order_id is None:
            self.view = None
            return
        self.view = await asyncio.to_thread(packing.view, self.picker.db, self.order_id)

    # --- what the screen shows ------------------------------------------------------------

    def on_resize(self) -> None:
        self.show()  # the lines are written for the width

    def show(self) -> None:
        v = self.view if self.order_id is not None else None
        lane = self.query_one("#lane")
        lane.display = self.lane is not None and v is None
        if self.lane is not None:
            self.query_one("#lane-code", BigText).text = self.lane[0]
            courier = Text(f"{self.lane[1]} · lane {self.lane[0]}")
            self.query_one("#lane-courier", SteadyText).put(courier)
        self._show_entry(v)
        asking = v is not None and self.entry in ("reason", "box")
        self.query_one("#order").display = v is not None
        self.query_one("#choices").display = asking
        for part in ("#address", "#pack-list"):
            self.query_one(part).display = v is not None and not asking
        if v is not None:
            self._show_order(v)
            if asking:
                self._show_choices(v)
        self.feedback.set_next_step(self.next_step(v))

    def _show_order(self, v: PackView) -> None:
        head = Text()
        head.append(f" {v.number} ", style="bold reverse")
        if self.narrow:  # one line: the courier by its code, the lane says the rest at the end
            head.append(f" {safe(v.courier)}")
            if v.tote:
                head.append(f" · {v.tote}")
        else:
            head.append(f" {safe(v.courier_name)} {safe(v.service)}".rstrip())
            if v.tote:
                head.append(f" · tote {v.tote}")
        if v.cod is not None:
            head.append("\n")
            head.append(f" COD {v.cod} ", style="bold reverse")
        elif v.exchange:  # a return's replacement goods (never cash on delivery)
            head.append("\n")
            head.append(f" EXCHANGE · {v.exchange} ", style="bold reverse")
        if v.fragile and self.narrow:  # one line with COD: the rows go to the address and list
            head.append(" " if v.cod is not None or v.exchange else "\n")
            head.append(f" FRAGILE ×{len(v.fragile)} ", style="bold red")  # marked ! below
        elif v.fragile:
            head.append("\n")
            head.append(f" FRAGILE: {', '.join(safe(s) for s in v.fragile)} ", style="bold red")
        self.query_one("#order", SteadyText).put(head)
        address = Text()
        shown = [safe(x) for x in v.ship_to]
        if self.narrow:  # a handheld: town, region and country share lines where they fit
            shown = join_tail(shown, keep=2, width=self.app.size.width - 1)
        address.append("\n".join(shown), style="bold")
        mark = ("✔ confirmed", "bold green") if v.address_confirmed else ("? confirm: F5", "italic")
        room = self.app.size.width - 1 - len(shown[-1] if shown else "")
        address.append("  " if room >= len(mark[0]) + 2 else "\n", style=mark[1])
        address.append(mark[0], style=mark[1])
        widget = self.query_one("#address", SteadyText)
        widget.put(address)
        widget.set_class(v.address_confirmed, "-confirmed")
        lines = Text()
        for ln in v.lines:
            done = ln.left == 0
            lines.append("✔ " if done else "· ", style="green" if done else "bold")
            lines.append(f"{ln.verified}/{ln.quantity} ", style="bold")
            if ln.fragile:
                lines.append("!", style="bold red")
            lines.append(f"{safe(ln.sku)} {safe(ln.name)}\n", style="" if not done else "dim")
        lines.rstrip()
        self.query_one("#checklist", SteadyText).put(lines)
        parcels = Text()
        for p in v.live_parcels:
            if p.status == "open":
                parcels.append(f"Parcel {p.seq}: {plural(p.units, 'unit')}", style="bold")
                parcels.append(f" · {p.packaging or 'no box'}")
                parcels.append(f" · {p.weight_g} g" if p.weight_g else " · no weight")
            else:
                parcels.append(f"Parcel {p.seq} closed {p.tracking_no} · {p.weight_g} g")
            parcels.append("\n")
        parcels.rstrip()
        self.query_one("#parcels", SteadyText).put(parcels)
        notes = Text()
        if v.note:
            notes.append(f"Note: {safe(v.note)}\n", style="italic")
        if v.gift_message:
            notes.append(f"Gift: {safe(v.gift_message)}", style="italic")
        notes.rstrip()
        self.query_one("#notes", SteadyText).put(notes)
        self.query_one("#notes").display = bool(notes.plain)
        next_line = next((i for i, ln in enumerate(v.lines) if ln.left), None)
        self.call_after_refresh(self._scroll_to_line, next_line)

    def _scroll_to_line(self, index: int | None) -> None:
        """The checklist scrolled to the next line to verify (one checklist row per line);
        all verified: down to the parcels."""
        scroll = self.query_one("#pack-list", VerticalScroll)
        if index is None:
            scroll.scroll_end(animate=False, immediate=True)
        else:
            scroll.scroll_to(y=max(0, index - 1), animate=False, immediate=True)

    def _show_choices(self, v: PackView) -> None:
        """The numbered choices of F9 (why to the lead) or F3 (which box)."""
        text = Text()
        if self.entry == "reason":
            text.append("Why? Key its number, or words:", style="bold")
            for i, reason in enumerate(REASONS, 1):
                text.append(f"\n{i}", style="bold reverse")
                text.append(f" {reason}")
        else:
            text.append("Key its number, or scan the box:", style="bold")
            for i, box in enumerate(self._boxes, 1):
                text.append(f"\n{i}", style="bold reverse")
                text.append(f" {safe(box.barcode)} {safe(box.name)} {box.tare_g} g")
            if not self._boxes:
                text.append("\nNo boxes registered (picker setup)", style="italic")
        self.query_one("#choices", SteadyText).put(text)

    def _show_entry(self, v: PackView | None) -> None:
        if self.entry not in ("reason", "box"):  # asked for by a key: kept until answered
            self.entry = self._entry_for(v)
        entry = self.query_one("#entry", Input)
        entry.placeholder = _PLACEHOLDERS.get(self.entry or "", "")
        self.keyed_or_scan(entry, self.entry is not None)

    def _entry_for(self, v: PackView | None) -> Entry | None:
        """What a keyed number means now: more units of the line just scanned, or the weight
        once the parcel has its box (then units are scanned one by one: a weight can never be
        taken for a count)."""
        if v is None:
            return None
        parcel = v.open_parcel
        boxed = parcel is not None and parcel.packaging is not None
        if self.qty_line is not None and not boxed:
            line = next((ln for ln in v.lines if ln.line_id == self.qty_line), None)
            if line is not None and line.left > 0:
                return "qty"
        self.qty_line = None
        if parcel is not None and parcel.units and boxed and not parcel.weight_g:
            return "weight"
        return None

    def next_step(self, v: PackView | None) -> str:
        if v is None:
            return "Scan a tote or an order number"
        if self.entry == "reason":
            return "Enter sends it · Esc: go on packing"
        if self.entry == "box":
            return "Key the number, Enter · Esc: back"
        if self.entry == "qty":
            return "Scan an item, or key how many more"
        if v.units_left:
            parcel = v.open_parcel
            items = "items" if self.narrow else "the items"  # one line on a handheld
            full = "F7" if self.narrow else "CMD-NEWPARCEL (F7)"
            more = f" · box full? {full}" if parcel is not None and parcel.units else ""
            if self.entry == "weight":
                return f"Key the weight, or scan {items} ({v.units_left} left)" + (
                    "" if self.narrow else more
                )
            return f"Scan {items} ({v.units_left} left){more}"
        missing = v.missing_for_close()
        if missing:
            return missing[0].capitalize() + _HOW.get(missing[0], "")
        return "CMD-CLOSE (F8): close the parcel and print its label"

    # --- scans ------------------------------------------------------------------------------

    async def on_scan(self, scan: Scan) -> None:
        async with self.busy:
            try:
                await self._on_scan(scan)
            finally:
                self.show()

    async def _on_scan(self, scan: Scan) -> None:
        v = self.view if self.order_id is not None else None
        if v is not None and scan.text in (v.tote, v.number):
            await self.journal(ScanOutcome.of(scan, "accepted", order_id=v.order_id))
            self.feedback.info(f"{v.number} is open here", scan=scan.raw)
            return
        # With no order open, a parcel's label (a voided one brings its order back) may read
        # as a code, or — 14 digits with a check digit — as a product.
        if scan.kind in (ScanKind.TOTE, ScanKind.ORDER) or (
            v is None and scan.kind in (ScanKind.PARCEL, ScanKind.CODE, ScanKind.PRODUCT)
        ):
            await self._open(scan)
            return
        if v is None:
            await self.refuse(scan, f"{scan.text}: scan a tote or an order number first.")
            return
        if scan.kind is not ScanKind.PRODUCT:
            self.qty_line = None
        if scan.kind is ScanKind.PACKAGING:
            await self._box(scan.text, scan)
        elif scan.kind is ScanKind.PRODUCT or scan.kind is ScanKind.CODE:
            await self._item(scan, v)
        else:
            await self.refuse(
                scan, f"{scan.kind.value.capitalize()} {scan.text}: not for the packing table."
            )

    async def _open(self, scan: Scan) -> None:
        if self.order_id is not None and self.view is not None:
            await self.refuse(
                scan, f"{self.view.number} is open: finish it first (or CMD-CANCEL to the lead)."
            )
            return
        app = self.picker
        by: Literal["tote", "order", "parcel"] = (
            "tote" if scan.kind is ScanKind.TOTE
            else "order" if scan.kind is ScanKind.ORDER
            else "parcel"
        )  # fmt: skip
        outcome = ScanOutcome.of(scan, "accepted")
        try:
            opened = await asyncio.to_thread(
                packing.open_order, app.db, self.actor, app.settings, scan.text, by=by,
                scan=outcome, clock=app.clock,
            )  # fmt: skip
        except ServiceError as exc:
            await self.refuse(scan, str(exc))
            return
        self.order_id, self.lane, self.qty_line, self.last = opened.order_id, None, None, None
        self.entry = None
        await self.reload()
        words = "again: verified so far is kept" if opened.resumed else "open"
        slip = " · packing slip printing" if opened.slip_job else ""
        self.feedback.ok(f"{opened.number} {words}{slip}", scan=scan.raw)
        app.print_worker.wake()

    async def _item(self, scan: Scan, v: PackView) -> None:
        codes = list(scan.lookup_codes) or [scan.text]
        count = max(1, scan.quantity)
        try:
            line = match_line(v.lines, codes, scan.text, v.number)
            check_count(line, count)
        except WrongScan as exc:
            await self.refuse(scan, str(exc))
            return
        await self._verify(line.line_id, count, [ScanOutcome.of(scan, "accepted")], scan)

    async def _verify(
        self, line_id: int, count: int, outcomes: list[ScanOutcome], scan: Scan | None
    ) -> None:
        app = self.picker
        done = await self._call(
            packing.verify, app.db, self.actor, self.order_id, line_id, count, scans_=outcomes,
            screen=self.SCREEN_NAME, clock=app.clock, refused=scan,
        )  # fmt: skip
        if done is None:
            return
        self.last = (line_id, count)
        self.qty_line = line_id if done.verified < done.quantity else None
        left = f"{done.units_left} to go" if done.units_left else "all verified"
        self.feedback.ok(
            f"{done.sku} {done.verified}/{done.quantity} · parcel {done.parcel_seq} · {left}",
            scan=scan.raw if scan else None,
        )
        await self._auto_close()

    async def _box(self, code: str, scan: Scan | None) -> None:
        app = self.picker
        self.entry = None
        done = await self._call(
            packing.set_packaging, app.db, self.actor, self.order_id, code, refused=scan,
            scan=ScanOutcome.of(scan, "accepted") if scan else None, clock=app.clock,
        )  # fmt: skip
        if done is None:
            return
        box, seq = done
        self.qty_line = None
        self.feedback.ok(
            f"Parcel {seq}: {box.name} ({box.tare_g} g)", scan=scan.raw if scan else None
        )

    # --- keyed entries ----------------------------------------------------------------------

    @on(Input.Submitted, "#entry")
    async def keyed(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        event.input.value = ""
        async with self.busy:
            try:
                await self._keyed(text)
            except Exception as exc:  # the database, for one: said in words, never a crash
                self.picker.report_failure(exc)
            finally:
                self.show()

    async def _keyed(self, text: str) -> None:
        v = self.view
        if v is None or self.entry is None:
            return
        if self.entry == "reason":
            await self._to_lead(text)
            return
        if self.entry == "box":
            await self._chosen_box(text)
            return
        if not text:
            return
        if self.entry == "weight":
            await self._weight(text)
            return
        if not text.isdigit():
            self.feedback.error(f"{text!r} is not a number. Key digits, then Enter.")
            return
        line = next(ln for ln in v.lines if ln.line_id == self.qty_line)
        try:
            check_count(line, int(text))
        except WrongScan as exc:
            self.feedback.error(str(exc))
            return
        await self._verify(line.line_id, int(text), [], None)

    async def _weight(self, text: str) -> None:
        try:
            grams = weight_of(text)
        except WrongScan as exc:
            self.feedback.error(str(exc))
            return
        app = self.picker
        done = await self._call(
            packing.set_weight, app.db, self.actor, app.settings, self.order_id, grams,
            clock=app.clock,
        )  # fmt: skip
        if done is None:
            return
        self.feedback.ok(f"Parcel {done.parcel_seq}: {done.grams} g")
        await self._auto_close()

    async def action_choose_box(self) -> None:
        await self.locked(self._choose_box)

    async def _choose_box(self) -> None:
        if self.view is None or self.order_id is None:
            return
        self.qty_line = None
        self.entry = "box"
        self._boxes = await asyncio.to_thread(packing.packagings, self.picker.db)
        self.feedback.info(f"Which box for parcel {self._parcel_seq()}?")  # listed above

    async def _chosen_box(self, text: str) -> None:
        boxes = self._boxes
        self.entry = None
        if not text.isdigit() or not 1 <= int(text) <= len(boxes):
            self.feedback.error(f"{text!r} is not a box number (1 to {len(boxes)}).")
            return
        await self._box(boxes[int(text) - 1].code, None)

    # --- commands ---------------------------------------------------------------------------

    async def action_confirm_address(self) -> None:
        if self.entry == "reason":  # CMD-OK while asking why: the reason offered first
            await self.locked(self._to_lead, "")
            return
        await self.locked(self._confirm)

    async def _confirm(self) -> None:
        if self.order_id is None:
            return
        self.qty_line = None
        app = self.picker
        done = await self._call(
            packing.confirm_address, app.db, self.actor, self.order_id, clock=app.clock
        )
        if done is not None:
            self.feedback.ok("Address confirmed")
            await self._auto_close()

    async def action_close(self) -> None:
        await self.locked(self._close, False)

    async def action_new_parcel(self) -> None:
        await self.locked(self._close, True)

    async def _close(self, more_to_come: bool) -> None:
        if self.order_id is None:
            self.feedback.error("No order open: scan a tote first.")
            return
        self.qty_line = None
        app = self.picker
        closed = await self._call(
            close_parcel, app.db, self.actor, app.settings, self.order_id,
            more_to_come=more_to_come, clock=app.clock,
        )  # fmt: skip
        if closed is None:
            return
        app.print_worker.wake()
        self.qty_line, self.last = None, None
        warned = f" ({'; '.join(closed.warnings)})" if closed.warnings else ""
        if closed.order_packed:
            number = self.view.number if self.view else ""
            self.order_id, self.view = None, None
            self.lane = (closed.lane, closed.courier)
            self.feedback.ok(
                f"{number} packed. Label {closed.tracking_no} printing. "
                f"Put the parcels in lane {closed.lane}{warned}"
            )
        else:
            self.feedback.ok(
                f"Parcel {closed.parcel_seq} closed, label {closed.tracking_no} printing. "
                f"Parcel {closed.next_parcel} open{warned}"
            )

    async def _auto_close(self) -> None:
        v = self.view
        if self.picker.settings.packing.auto_close and v is not None and v.ready_to_finish:
            await self._close(False)

    async def action_undo(self) -> None:
        await self.locked(self._undo)

    async def _undo(self) -> None:
        if self.order_id is None or self.last is None:
            self.feedback.error("Nothing to undo.")
            return
        line_id, count = self.last
        self.qty_line = None
        app = self.picker
        left = await self._call(
            packing.unverify, app.db, self.actor, self.order_id, line_id, count, clock=app.clock
        )
        if left is None:
            return
        self.last = None
        lines = self.view.lines if self.view else ()
        sku = next((ln.sku for ln in lines if ln.line_id == line_id), "")
        self.feedback.ok(f"Undone: {count} × {sku} taken out of the parcel.")

    def action_cancel(self) -> None:
        if self.entry in ("reason", "box"):
            self.entry = None
            self.feedback.info("Cancelled")
            self.show()
            return
        if self.order_id is None:
            return
        self.entry = "reason"
        self.show()
        number = self.view.number if self.view else ""
        self.feedback.info(f"Send {number} to the lead?")

    async def _to_lead(self, text: str) -> None:
        chosen = text.isdigit() and 1 <= int(text) <= len(REASONS)
        reason = REASONS[int(text) - 1] if chosen else (text or REASONS[0])
        self.entry = None
        app = self.picker
        sent = await self._call(
            packing.send_to_lead, app.db, self.actor, self.order_id, reason, clock=app.clock
        )
        if sent is None:
            return
        tote = self.view.tote if self.view else None
        words = f"{sent.number} is on hold for the lead ({reason})."
        if sent.voided:
            words += f" Take the labels off: {', '.join(sent.voided)} (void)."
        if tote:
            words += f" Take tote {tote} to the problem shelf."
        self.order_id, self.view = None, None
        self.feedback.error(words)

    def _parcel_seq(self) -> int:
        """The number of the parcel a box goes to: the open one, else the next."""
        v = self.view
        if v is None:
            return 1
        if v.open_parcel is not None:
            return v.open_parcel.seq
        return max((p.seq for p in v.parcels), default=0) + 1

    def action_leave(self) -> None:
        if self.entry in ("reason", "box"):
            self.action_cancel()
            return
        self.app.pop_screen()


_PLACEHOLDERS = {
    "qty": "how many more (Enter)",
    "weight": "weight: grams or kg",
    "box": "box number",
    "reason": "reason: number or words",
}

_HOW = {
    "scan the box": " (its BOX-… barcode, or F3)",
    "key the weight": " in grams or kg, then Enter",
    "confirm the address": ": read it. Right: CMD-OK (F5). Wrong: CMD-CANCEL (F9)",
}


def join_tail(lines: list[str], *, keep: int, width: int) -> list[str]:
    """``lines`` with those after the first ``keep`` (name, street) joined by ", " wherever the
    joined line still fits ``width``: an address's town, region and country on fewer rows."""
    out = lines[:keep]
    for line in lines[keep:]:
        if len(out) > keep and len(out[-1]) + 2 + len(line) <= width:
            out[-1] = f"{out[-1]}, {line}"
        else:
            out.append(line)
    return out


def weight_of(text: str) -> int:
    """The parcel's weight in grams: keyed today; a scale would be read here."""
    return parse_weight(text)
