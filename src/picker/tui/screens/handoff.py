"""The handoff zone: parcels scanned into the courier's hands, lane by lane.

Lanes per courier, and a pickup scanned parcel by parcel into the courier's hands, closed with
its manifest.

Scan the courier's code or lane (from the station sheet) to open its pickup, then each parcel
the courier takes: accepted with the count, refused by name when it is another courier's, void,
already handed over or unknown. CMD-UNDO (F4) puts the last one back; CMD-CLOSE (F8) lists what
is still in the lane, and a second CMD-CLOSE closes (they stay for the next pickup) — or F6
marks them missing. The lanes refresh by themselves as packers close parcels elsewhere.

Laid out for a 40x16 handheld first: every lane one row (code, courier, parcels, cutoff); with a
pickup open, how many parcels are scanned in digits three lines tall, and the lanes still in
sight, the courier's counting down as its parcels are scanned.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import replace
from datetime import datetime
from typing import TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Digits, Input

from picker.domain.scanning import Scan, ScanKind
from picker.domain.text import plural
from picker.services.errors import ServiceError
from picker.services.floor import handoff
from picker.services.floor.handoff import Lane, Listener, PickupClosed, PickupState
from picker.services.scans import ScanOutcome
from picker.services.tracking.stale import stale_count
from picker.tui.screens.base import PickerScreen
from picker.tui.text import safe
from picker.tui.widgets.feedback import Feedback
from picker.tui.widgets.key_bar import KeyBar
from picker.tui.widgets.steady_text import SteadyText

_T = TypeVar("_T")

#: Seconds between looks at the lanes (parcels closed on other terminals) on SQLite; on
#: PostgreSQL the screen is woken by the change itself and looks only every FALLBACK_S.
REFRESH_S = 3.0
FALLBACK_S = 30.0
#: Parcels still in the lane listed when closing.
LISTED = 8
#: Seconds between counts of the stale parcels (a count over every parcel on its way).
STALE_S = 60.0


class HandoffScreen(PickerScreen):
    SCREEN_NAME = "handoff"
    SCAN_COMMANDS = {
        "CMD-UNDO": "undo",
        "CMD-CLOSE": "close",
        "CMD-MISSING": "missing",
        "CMD-CANCEL": "cancel",
    }
    BINDINGS = [
        Binding("f2", "lead_tools", "Lead tools", id="handoff.lead_tools"),
        Binding("f4", "undo", "Undo", id="handoff.undo"),
        Binding("f6", "missing", "Missing", id="handoff.missing"),
        Binding("f8", "close", "Close", id="handoff.close"),
        Binding("escape", "leave", "Back", id="handoff.leave"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.lanes: list[Lane] = []
        self.pickup: PickupState | None = None
        self.closing = False
        """CMD-CLOSE once: what stays in the lane is listed; again closes."""
        self._listening = False
        """A connection of its own listens for changes (PostgreSQL), and is alive."""
        self._stale = False
        """Another terminal announced a change since the lanes were read."""
        self._read_at = 0.0
        self.stale = 0
        """Parcels on their way with no courier news for their courier's stale_days."""
        self._stale_at = -STALE_S

    def compose(self) -> ComposeResult:
        yield self.title_bar("handoff")
        with VerticalScroll(id="handoff-body"):
            with Vertical(id="pickup"):
                yield SteadyText(id="pickup-head")
                with Horizontal(id="pickup-count"):
                    yield Digits("0", id="scanned")
                    yield SteadyText(id="scanned-of")
                yield SteadyText(id="still-here")
            yield SteadyText(id="lanes")
            yield SteadyText(id="stale")
        yield Input(placeholder="scan", id="scan", classes="scan")
        yield Feedback(id="feedback")
        yield KeyBar()

    async def on_mount(self) -> None:
        self.query_one("#handoff-body").can_focus = False
        self.query_one("#scan", Input).focus()
        await self.locked(self.reload)
        try:
            changes = await asyncio.to_thread(handoff.lane_changes, self.picker.db)
        except Exception:  # no LISTEN connection: polling alone keeps the lanes fresh
            changes = None
        if changes is not None:
            self._listening = True
            threading.Thread(
                target=self._listen, args=(changes,), name="lane-changes", daemon=True
            ).start()
        self.set_interval(REFRESH_S, self._tick)
        self._count_stale()

    def on_unmount(self) -> None:
        self._listening = False  # the listening thread ends within a second

    def _listen(self, changes: Listener) -> None:
        """In its own thread: a change another terminal announces marks the lanes stale (the
        next tick reads them: many changes at once cost one read)."""
        try:
            while self._listening:
                if changes.wait(1.0):
                    self._stale = True
        except Exception:  # the connection broke: the screen polls again
            self._listening = False
        finally:
            changes.close()

    async def _tick(self) -> None:
        """Every few seconds: the lanes read again when another terminal changed them (or,
        with nobody announcing — SQLite, or the listening connection lost — every time, and
        at the latest every FALLBACK_S). During a pickup the lanes wait: every scan reads the
        pickup, and a lead scanning fast should not share the database with a refresh."""
        if time.monotonic() - self._stale_at >= STALE_S:
            self._count_stale()
        if self.busy.locked() or self.pickup is not None:
            return
        due = time.monotonic() - self._read_at > FALLBACK_S
        if self._stale or not self._listening or due:
            self._stale = False
            await self.locked(self.reload)

    async def reload(self) -> None:
        app = self.picker
        now = app.clock()
        pickup_id = self.pickup.id if self.pickup else None

        def read() -> tuple[list[Lane], PickupState | None]:
            found = handoff.lanes(app.db, app.settings, now=now)
            state = handoff.pickup_state(app.db, pickup_id) if pickup_id else None
            return found, state

        self.lanes, self.pickup = await asyncio.to_thread(read)
        self._read_at = time.monotonic()
        if self.pickup is not None and self.pickup.status != "open":
            self.pickup = None  # closed on another terminal

    def _count_stale(self) -> None:
        """Count the stale parcels in a worker of its own, beside the scans (a count over every
        parcel on its way: on a big floor it takes a while, and no scan waits for it)."""
        self._stale_at = time.monotonic()
        self.run_worker(self._stale_counted(), exclusive=True, group="stale", exit_on_error=False)

    async def _stale_counted(self) -> None:
        app = self.picker
        self.stale = await asyncio.to_thread(
            stale_count, app.db, app.settings, now=app.clock()
        )  # an error (the database gone a moment) leaves the last count; the next minute tries
        self.show()

    # --- what the screen shows ------------------------------------------------------------

    def on_resize(self) -> None:
        self.show()  # the rows are written for the width

    def show(self) -> None:
        now = self.picker.clock()
        width = max(20, self.app.size.width - 2)
        rows = [self._lane_row(lane, now, width) for lane in self.lanes]
        lanes = self.query_one("#lanes", SteadyText)
        lanes.put(Text("\n").join(rows))
        lanes.display = not (self.closing and self.narrow)  # the list of what stays needs the room
        stale = self.query_one("#stale", SteadyText)
        stale.display = self.stale > 0 and self.pickup is None
        if stale.display:  # one short line, 40 columns wide at most
            stale.put(Text(f"{plural(self.stale, 'parcel')} stale: no courier news",
                           style="bold yellow"))  # fmt: skip
        self.query_one("#pickup").display = self.pickup is not None
        if self.pickup is not None:
            self._show_pickup(self.pickup)
        self.feedback.set_next_step(self.next_step())

    def _lane_row(self, lane: Lane, now: datetime, width: int) -> Text:
        """One lane on one row: code, courier, parcels waiting (and scanned into its open
        pickup), the next cutoff; on a wide screen the weight, the cash to collect under it."""
        late = lane.late > 0
        lanes = self.lanes or [lane]  # the columns line up
        code_w = max(len(ln.lane) for ln in lanes)
        courier_w = min(8, max(len(ln.courier) for ln in lanes))
        row = Text()
        row.append(lane.lane.ljust(code_w), style="bold reverse" if late else "bold")
        row.append(" " + safe(lane.courier)[:courier_w].ljust(courier_w))
        here = self.pickup is not None and self.pickup.courier == lane.courier
        waiting = plural(lane.parcels, "parcel")
        if lane.open_pickup and lane.scanned:
            waiting = f"{lane.parcels} left · {lane.scanned} scanned"
        row.append(f" {waiting:>10}", style="bold")
        if here and self.narrow:  # the courier is here: the cutoff can wait for the room
            return row
        if not self.narrow:
            row.append(f" {lane.weight_g / 1000:5.1f} kg")
        # on a handheld every cell counts: "3 parcels 15:00 3 LATE" fits 40 columns, and the
        # time left gives way to the late count
        late_text = f"{' ' if self.narrow else ' · '}{lane.late} LATE" if late else ""
        minutes = lane.minutes_to_cutoff(now)
        if lane.next_cutoff is not None and minutes is not None:
            local = lane.next_cutoff.astimezone(self.picker.settings.warehouse.tz)
            urgent = "bold red" if minutes < 30 else ""
            left = f" in {minutes // 60}h{minutes % 60:02d}"
            cutoff = f" {local:%H:%M}" if self.narrow else f" · cutoff {local:%H:%M}"
            row.append(cutoff, style=urgent)
            if not self.narrow or row.cell_len + len(left) + len(late_text) <= width:
                row.append(left, style=urgent)
        if late:
            row.append(late_text, style="bold red")
        if lane.open_pickup and not self.narrow and not here:  # another lead's, elsewhere
            row.append(f" · {lane.open_pickup} open", style="italic")
        if lane.cod and not self.narrow:
            row.append(f"\n   COD {' + '.join(lane.cod)}")
        return row

    def _show_pickup(self, p: PickupState) -> None:
        head = Text()
        head.append(f" {p.number} · {safe(p.courier)} · {p.lane} ", style="bold reverse")
        self.query_one("#pickup-head", SteadyText).put(head)
        self.query_one("#scanned", Digits).update(str(p.handed))
        side = Text()
        side.append(f"of {p.handed + p.waiting} scanned", style="bold")
        side.append(f"\n{p.waiting} left in {p.lane}")
        if p.last and not self.narrow:
            side.append(f"\nlast {safe(p.last[0])} ({p.last[1]})", style="italic")
        self.query_one("#scanned-of", SteadyText).put(side)
        still = self.query_one("#still-here", SteadyText)
        still.display = self.closing and p.waiting > 0
        if still.display:
            text = Text()
            text.append(f"Still in lane {p.lane}:", style="bold red")
            for tracking, order in p.waiting_listed[:LISTED]:
                text.append(f"\n  {safe(tracking)} {order}")
            if p.waiting > LISTED:
                text.append(f"\n  … and {p.waiting - LISTED} more")
            still.put(text)

    def _lane_follows(self, courier: str, waiting: int, scanned: int, gone_g: int = 0) -> None:
        """The pickup's lane as the last scan left it (the lanes are not read again during a
        pickup): its parcels counting down, its scanned counting up."""
        self.lanes = [
            replace(ln, parcels=waiting, scanned=scanned, weight_g=max(0, ln.weight_g - gone_g))
            if ln.courier == courier
            else ln
            for ln in self.lanes
        ]

    def next_step(self) -> str:
        if self.pickup is None:
            return "Scan the courier's code or lane to open a pickup"
        if self.closing:
            return "CMD-CLOSE (F8): close, they stay · F6: missing · Esc: go on"
        if self.pickup.waiting:
            return "Scan each parcel, then CMD-CLOSE"
        return "Lane empty: CMD-CLOSE (F8) prints the manifest"

    # --- scans ------------------------------------------------------------------------------

    async def on_scan(self, scan: Scan) -> None:
        async with self.busy:
            try:
                await self._on_scan(scan)
            finally:
                self.show()

    async def _on_scan(self, scan: Scan) -> None:
        app = self.picker
        if self.pickup is None:
            if scan.kind in (ScanKind.CODE, ScanKind.PICKUP):
                await self._open(scan)
                return
            await self.refuse(scan, "Open a pickup first: scan the courier's code or lane.")
            return
        self.closing = False
        if any(scan.text.upper() in (ln.lane.upper(), ln.courier.upper()) for ln in self.lanes):
            await self._open(scan)  # another courier arrived: their pickup (this one stays open)
            return
        pickup_id = self.pickup.id
        try:
            done = await asyncio.to_thread(
                handoff.hand_over_parcel, app.db, self.actor, pickup_id, scan.text,
                scan=ScanOutcome.of(scan, "accepted"), clock=app.clock,
            )  # fmt: skip
        except PickupClosed as exc:
            self.pickup = None
            await self.refuse(scan, str(exc))
            await self.reload()
            return
        except ServiceError as exc:
            await self.refuse(scan, str(exc))
            return
        # The counts come with the hand-over: no second read per scan (the lane can be long).
        self.pickup = replace(
            self.pickup, handed=done.count, waiting=done.total - done.count,
            last=(done.tracking_no, done.order_number),
            waiting_listed=tuple(w for w in self.pickup.waiting_listed if w[0] != done.tracking_no),
        )  # fmt: skip
        self._lane_follows(self.pickup.courier, done.total - done.count, done.count, done.weight_g)
        self.feedback.ok(
            f"{done.tracking_no} ({done.order_number}) · {done.count} of {done.total}",
            scan=scan.raw,
        )

    async def _open(self, scan: Scan) -> None:
        app = self.picker
        try:
            opened = await asyncio.to_thread(
                handoff.open_pickup, app.db, self.actor, scan.text, clock=app.clock
            )
        except ServiceError as exc:
            await self.refuse(scan, str(exc))
            return
        await self.journal(ScanOutcome.of(scan, "accepted"))
        self.pickup = await asyncio.to_thread(handoff.pickup_state, app.db, opened.id)
        await self.reload()  # its lane as it stands (a pickup joined may have parcels on it)
        words = "goes on" if opened.resumed else "open"
        self.feedback.ok(f"Pickup {opened.number} for {opened.name} {words}", scan=scan.raw)

    # --- commands ---------------------------------------------------------------------------

    async def action_undo(self) -> None:
        await self.locked(self._undo)

    async def _undo(self) -> None:
        if self.pickup is None:
            self.feedback.error("No pickup open: nothing to undo.")
            return
        app = self.picker
        pickup_id = self.pickup.id
        try:
            back = await asyncio.to_thread(
                handoff.undo_last, app.db, self.actor, pickup_id, clock=app.clock
            )
        except ServiceError as exc:
            self.feedback.error(str(exc))
            return
        await self.reload()  # the parcel back in its lane
        if self.pickup is None:
            self.feedback.error("The pickup was closed on another terminal.")
        elif back is None:
            self.feedback.error("Nothing scanned on this pickup yet.")
        else:
            self.feedback.ok(f"Undone: {back} back to lane {self.pickup.lane}")

    async def action_close(self) -> None:
        await self.locked(self._close, False)

    async def action_missing(self) -> None:
        if not self.closing:
            self.feedback.error("CMD-CLOSE first: it lists what is still in the lane.")
            return
        await self.locked(self._close, True)

    async def _close(self, missing: bool) -> None:
        if self.pickup is None:
            self.feedback.error("No pickup open.")
            return
        app = self.picker
        if not self.closing:  # what stays in the lane, as it is now
            self.pickup = await asyncio.to_thread(handoff.pickup_state, app.db, self.pickup.id)
        if self.pickup.waiting and not self.closing:
            self.closing = True
            waiting = plural(self.pickup.waiting, "parcel")
            self.feedback.info(f"{waiting} still in lane {self.pickup.lane}")
            return
        if missing and self.pickup.waiting > LISTED:
            self.feedback.error(
                f"{self.pickup.waiting} parcels are still in the lane: more than the {LISTED} "
                "listed, too many to call missing at once. CMD-CLOSE: they stay for the next "
                "pickup."
            )
            return
        lost = [t for t, _ in self.pickup.waiting_listed[:LISTED]] if missing else []
        try:
            closed = await asyncio.to_thread(
                handoff.close_pickup, app.db, self.actor, app.settings, self.pickup.id,
                missing=lost, clock=app.clock,
            )  # fmt: skip
        except ServiceError as exc:
            self.closing = False
            if isinstance(exc, PickupClosed):
                self.pickup = None
            self.feedback.error(str(exc))
            return
        app.print_worker.wake()
        self.pickup, self.closing = None, False
        words = (
            f"{closed.number} closed: {plural(closed.parcels, 'parcel')}, "
            f"{plural(len(closed.executed), 'order')} executed. Manifest printing: courier and "
            "lead sign it."
        )
        if closed.missing:
            words += f" {len(closed.missing)} missing: their orders are on hold."
        self.feedback.ok(words)
        await self.reload()

    def action_cancel(self) -> None:
        if self.closing:
            self.closing = False
            self.feedback.info("Go on scanning")
            self.show()

    def action_lead_tools(self) -> None:
        self.picker.open_screen("lead")

    def action_leave(self) -> None:
        if self.closing:
            self.action_cancel()
            return
        self.app.pop_screen()
