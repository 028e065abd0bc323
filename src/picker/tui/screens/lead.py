"""The shift lead's tools: held orders and the actions that put the floor right.

At the handoff station: held orders with their reasons, and the actions that put the floor
right — release a hold, reassign or take over a pick, take over a pack, void a parcel, reprint
a label, choose what an order's label prints for recipient letters no font has (F4). Each
asks for what it needs (scan the order, badge or parcel; key the reason) and is journaled
with the lead's name and the reason. Only a lead reaches this screen, and every service
behind it checks the role again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Input, Static

from picker.domain.label_text import LabelText
from picker.domain.scanning import Scan
from picker.services.errors import ServiceError
from picker.services.floor import packing
from picker.services.floor.parcels import void_parcel
from picker.services.orders import lead_actions, views
from picker.services.printjobs import print_queue
from picker.services.printjobs.labels import choose_label_text
from picker.services.scans import ScanOutcome
from picker.tui.screens.base import PickerScreen
from picker.tui.text import safe
from picker.tui.widgets.feedback import Feedback
from picker.tui.widgets.key_bar import KeyBar

#: Held orders listed.
LISTED = 12


@dataclass(frozen=True)
class Step:
    name: str
    prompt: str
    keyed: bool = False
    """Typed text (a reason) rather than a scan."""
    optional: bool = False
    """Enter alone leaves it empty."""


@dataclass(frozen=True)
class Tool:
    title: str
    steps: tuple[Step, ...]
    run: Callable[[Any, dict[str, str]], str]
    """(screen, answers) → what was done, in words (runs in a worker thread)."""


def _release(screen: LeadScreen, a: dict[str, str]) -> str:
    app = screen.picker
    done = lead_actions.release_order(
        app.db, screen.actor, a["order"], settings=app.settings,
        reason=f"released by {screen.lead_name}: {a['reason']}", clock=app.clock,
    )  # fmt: skip
    if not done.released:
        raise ServiceError(f"{done.number} stays on hold: {'; '.join(done.reasons)}")
    return f"{done.number} released"


def _reassign(screen: LeadScreen, a: dict[str, str]) -> str:
    app = screen.picker
    lead_actions.assign_order(
        app.db, screen.actor, a["order"], a["badge"], reason=a["reason"], clock=app.clock
    )
    return f"{a['order']} given to {a['badge']}"


def _take_pack(screen: LeadScreen, a: dict[str, str]) -> str:
    app = screen.picker
    to = packing.hand_over_pack(
        app.db, screen.actor, a["order"], a["reason"], badge=a.get("badge") or None,
        clock=app.clock,
    )  # fmt: skip
    return f"{a['order']} goes to {to}"


def _void(screen: LeadScreen, a: dict[str, str]) -> str:
    app = screen.picker
    done = void_parcel(app.db, screen.actor, a["parcel"], a["reason"], clock=app.clock)
    printing = " Its label is printing right now: take it off." if done.printing_jobs else ""
    return (
        f"Parcel {done.tracking_no} of {done.order_number} voided: take its label off. "
        f"{done.order_number} is {done.order_status}.{printing}"
    )


def _reprint(screen: LeadScreen, a: dict[str, str]) -> str:
    app = screen.picker
    job = print_queue.reprint(
        app.db, screen.actor, a["parcel"], a["reason"], app.settings.printer.name, clock=app.clock
    )
    app.print_worker.wake()
    return f"Label of {a['parcel']} printing again (job {job})"


def _label_text(screen: LeadScreen, a: dict[str, str]) -> str:
    app = screen.picker
    how = a["how"].strip().upper()[:1]
    choices = {"T": LabelText.TRANSLITERATE, "H": LabelText.HAND_WRITE}
    if how not in choices:
        raise ServiceError("Key T (Latin letters) or H (blanks to write in). Nothing changed.")
    done = choose_label_text(
        app.db, screen.actor, app.settings, a["order"], choices[how], clock=app.clock
    )
    shown = "; ".join(f"{words}: {text}" for words, text in done.printed)
    return f"{done.number}: labels print letters no font has {done.choice.words}" + (
        f" ({shown}). The packer can close it now." if shown else "."
    )


_ORDER = Step("order", "Scan (or key) the order number")
_REASON = Step("reason", "Key the reason, then Enter", keyed=True)
_PARCEL = Step("parcel", "Scan the parcel's label")

TOOLS: dict[str, Tool] = {
    "release": Tool("Release a held order", (_ORDER, _REASON), _release),
    "reassign": Tool(
        "Reassign or take over a pick",
        (_ORDER, Step("badge", "Scan the picker's badge"), _REASON),
        _reassign,
    ),
    "take_pack": Tool(
        "Take over a pack",
        (
            _ORDER,
            Step("badge", "Scan the packer's badge (Enter: any packer)", optional=True),
            _REASON,
        ),
        _take_pack,
    ),
    "void": Tool("Void a parcel", (_PARCEL, _REASON), _void),
    "reprint": Tool("Reprint a label", (_PARCEL, _REASON), _reprint),
    "label_text": Tool(
        "Label: letters no font has",
        (_ORDER, Step("how", "Key T: in Latin letters, or H: blanks to write in", keyed=True)),
        _label_text,
    ),
}


class LeadScreen(PickerScreen):
    SCREEN_NAME = "lead"
    SCAN_COMMANDS = {"CMD-CANCEL": "cancel"}
    BINDINGS = [
        Binding("f3", "tool('release')", "Release", id="lead.release"),
        # Answers the packing table's "The label cannot draw …: ask a lead".
        Binding("f4", "tool('label_text')", "Label text", id="lead.label_text"),
        Binding("f5", "tool('reassign')", "Reassign", id="lead.reassign"),
        Binding("f6", "tool('take_pack')", "Take pack", id="lead.take_pack"),
        Binding("f7", "tool('void')", "Void", id="lead.void"),
        Binding("f9", "tool('reprint')", "Reprint", id="lead.reprint"),
        Binding("escape", "leave", "Back", id="lead.leave"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.tool: Tool | None = None
        self.answers: dict[str, str] = {}
        self.held: list[Any] = []

    @property
    def lead_name(self) -> str:
        return self.picker.operator.name if self.picker.operator else "the lead"

    @property
    def step(self) -> Step | None:
        if self.tool is None:
            return None
        return next((st for st in self.tool.steps if st.name not in self.answers), None)

    def compose(self) -> ComposeResult:
        yield self.title_bar("lead tools")
        with VerticalScroll(id="lead-body"):
            yield Static("", id="tool")
            yield Static("", id="held")
        yield Input(placeholder="reason", id="entry", classes="entry")
        yield Input(placeholder="scan", id="scan", classes="scan")
        yield Feedback(id="feedback")
        yield KeyBar()

    async def on_mount(self) -> None:
        self.query_one("#lead-body").can_focus = False
        await self.reload()
        self.show()

    async def reload(self) -> None:
        try:
            self.held = await asyncio.to_thread(
                views.list_orders, self.picker.db, status="on_hold", limit=LISTED
            )
        except Exception as exc:  # the database, for one: said in words, never a crash
            self.picker.report_failure(exc)

    def show(self) -> None:
        held = Text()
        held.append(f"On hold ({len(self.held)}{'+' if len(self.held) >= LISTED else ''}):",
                    style="bold")  # fmt: skip
        for o in self.held:
            reasons = "; ".join(o.hold_reasons) or "-"
            held.append(f"\n{o.number} ", style="bold")
            held.append(safe(reasons))
        self.query_one("#held", Static).update(held)
        tool = self.query_one("#tool", Static)
        tool.display = self.tool is not None
        if self.tool is not None:
            text = Text(f" {self.tool.title} ", style="bold reverse")
            for name, value in self.answers.items():
                text.append(f"\n{name}: {safe(value) or '-'}")
            tool.update(text)
        step = self.step
        self.keyed_or_scan(self.query_one("#entry", Input), step is not None and step.keyed)
        if step is not None:
            self.feedback.set_next_step(f"{step.prompt} · CMD-CANCEL / Esc: stop")
        else:
            self.feedback.set_next_step(
                "F3 release · F4 label text · F5 reassign · F6 pack · F7 void · F9 reprint"
            )

    def action_tool(self, name: str) -> None:
        self.tool, self.answers = TOOLS[name], {}
        self.feedback.info(self.tool.title)
        self.show()

    def action_cancel(self) -> None:
        if self.tool is not None:
            self.tool, self.answers = None, {}
            self.feedback.info("Stopped: nothing changed")
            self.show()

    def action_leave(self) -> None:
        if self.tool is not None:
            self.action_cancel()
            return
        self.app.pop_screen()

    def on_blank_enter(self) -> None:
        step = self.step
        if step is not None and step.optional:
            self.answers[step.name] = ""
            self.run_worker(self._advance(), exclusive=False)

    async def on_scan(self, scan: Scan) -> None:
        step = self.step
        if step is None:
            await self.refuse(scan, "Choose a tool first: F3, F5, F6, F7 or F9.")
            return
        if step.keyed:
            await self.refuse(scan, "Key the reason (a scan is no reason), then Enter.")
            return
        await self.journal(ScanOutcome.of(scan, "accepted"))
        self.answers[step.name] = scan.text
        await self._advance()

    @on(Input.Submitted, "#entry")
    async def keyed(self, event: Input.Submitted) -> None:
        event.stop()
        text = " ".join(event.value.split())
        event.input.value = ""
        step = self.step
        if step is None:
            return
        if not text and not step.optional:
            self.feedback.error("Key the reason: it is journaled with your name.")
            return
        self.answers[step.name] = text
        await self._advance()

    async def _advance(self) -> None:
        """The next step, or — all answered — the action, done in a worker thread."""
        if self.tool is None or self.step is not None:
            self.show()
            return
        tool, answers = self.tool, dict(self.answers)
        self.tool, self.answers = None, {}
        async with self.busy:
            try:
                words = await asyncio.to_thread(tool.run, self, answers)
            except Exception as exc:  # refusals and the database in words, as on every screen
                self.picker.report_failure(exc)
            else:
                self.feedback.ok(words)
            await self.reload()
            self.show()
