"""A whole floor at once (``picker bench floor``): many terminals, kills and cuts.

Terminal processes working the real services concurrently — pickers (with shortages),
packers (with multi-parcel orders), a lead handing parcels to couriers — each as its operator
would, optionally killed with SIGKILL at random and restarted; then the invariant check and the
scans every terminal saw acknowledged.

A terminal appends each acknowledged scan (its raw text, unique to the run) to a file of its own
after the service call returned, so "acknowledged" means what a screen would have shown: every
such scan must be in the scan journal. A killed terminal loses only what it had not yet been
told; its restart resumes the operator's started order, as the next login would: the run reads
where the killed terminal's order stood, and the restarted terminal checks that it finds the same
order, with every unit counted before the kill still counted.

A scan whose call fails because the database is away (a server restart, a cut connection) is
sent again under its key until the database answers, as a terminal does; a first sending that
had been saved after all is found by its key and not applied twice.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError

from picker.bench.drivers import import_fresh, shopify_export, stock_up
from picker.config import Settings
from picker.domain.picking import walk
from picker.domain.roles import Role
from picker.domain.statuses import OrderStatus
from picker.services import auth, scans
from picker.services.actors import Actor, OperatorInfo
from picker.services.check import Finding, check
from picker.services.errors import ServiceError, database_unreachable
from picker.services.floor import handoff, packing, picking
from picker.services.floor.parcels import close_parcel
from picker.services.orders import lead_actions
from picker.services.scans import ScanOutcome
from picker.store.engine import Database
from picker.store.models import (
    Operator,
    OperatorRole,
    Order,
    Parcel,
    ParcelItem,
    PickTask,
    ScanJournal,
    Tote,
)

Progress = Callable[[str, int, int], None]

#: Badges of the run's own operators: pickers, packers, the lead.
_BADGES = {"picker": "EMP-81{:02d}", "packer": "EMP-82{:02d}", "lead": "EMP-83{:02d}"}


@dataclass(frozen=True)
class Terminal:
    index: int
    role: str
    operator_id: int
    badge: str


@dataclass(frozen=True)
class FloorRun:
    terminals: int
    seconds: float
    scans: int
    """Scans acknowledged (each committed before its terminal was told)."""
    lost: int
    """Acknowledged scans missing from the journal (must be 0)."""
    p50_ms: float
    p99_ms: float
    """Scans: a pick, an item verified, a parcel handed over (each answered on screen)."""
    stations: dict[str, tuple[int, float, float]]
    """Scans per station (picking, packing, handoff): how many, p50 and p99 in ms."""
    action_p50_ms: float
    action_p99_ms: float
    """Everything else: reading the queue, starting an order, a box, a weight, closing a
    parcel (its label rendered) or a pickup (its manifest), a shortage."""
    executed: int
    """Orders handed to couriers during the run."""
    kills: int
    crashed: int
    """Terminals that died by themselves (an error no operator could have gone on from)."""
    dropped: int
    """Database connections cut (PostgreSQL)."""
    scans_before_last_drop: int
    resent: int
    """Scans sent again after their database call failed (the database away)."""
    already_saved: int
    """Of those, the ones whose first sending had been saved after all (not applied twice)."""
    resumed: int
    """Restarted terminals that found their operator's started order where the kill left it."""
    resume_failures: list[str]
    """Restarted terminals that did not (another order, or units counted before the kill
    missing): must be empty."""
    findings: list[Finding]

    @property
    def violations(self) -> int:
        return sum(f.broken for f in self.findings)

    @property
    def scans_per_s(self) -> float:
        return self.scans / self.seconds if self.seconds else 0.0

    @property
    def orders_per_hour(self) -> float:
        return self.executed * 3600 / self.seconds if self.seconds else 0.0


#: The status of an order a picker or a packer has started.
_STARTED = {"picker": OrderStatus.PICKING.value, "packer": OrderStatus.PACKING.value}

# --- one terminal ----------------------------------------------------------------------------


class _Terminal:
    """What runs in a terminal process: its operator's loop until the deadline."""

    def __init__(
        self, url: str, settings: Settings, t: Terminal, folder: Path, seed: int, pace_s: float
    ):
        self.db = Database(url, busy_timeout_s=settings.database.busy_timeout_s)
        self.settings = settings
        self.t = t
        self.rng = random.Random(seed)
        roles = frozenset(Role) if t.role == "lead" else frozenset({Role(t.role)})
        self.actor = Actor(f"F{t.index:02d}", OperatorInfo(t.operator_id, t.badge, t.badge, roles))
        self.acked = (folder / f"acked-{t.index:02d}.txt").open("a", encoding="utf-8")
        self.timings = (folder / f"ms-{t.index:02d}.txt").open("a", encoding="utf-8")
        self.run_id = uuid.uuid4().hex[:10]  # unique even across runs on a reused floor
        self.count = 0
        self.pace_s = pace_s
        """An operator's time between two scans (walking, reaching, reading): on average."""

    def check_resume(self, expected: tuple[int, int] | None) -> None:
        """A restarted terminal: is its operator's order where the kill left it? Written down
        for the run ("ok", or what differs)."""
        if expected is None:
            return
        try:
            self._check_resume(expected)
        except DBAPIError:  # the database away at the restart: the run goes on unchecked
            return

    def _check_resume(self, expected: tuple[int, int]) -> None:
        found = progress_of(self.db, self.t)
        if found is not None and found[0] == expected[0]:
            ok = found[1] >= expected[1]
        else:  # the call the kill cut short finished the order (its commit was on its way)
            with self.db.read() as s:
                status = s.scalar(select(Order.status).where(Order.id == expected[0]))
            ok = found is None and status != _STARTED[self.t.role]
        words = "ok" if ok else f"expected order {expected[0]} at {expected[1]}, found {found}"
        folder = Path(self.acked.name).parent
        (folder / f"resumed-{self.t.index:02d}-{os.getpid()}").write_text(words, "utf-8")

    def scan(self, kind: str) -> ScanOutcome:
        """A scan of this run, unique in the journal, with a key of its own."""
        self.count += 1
        raw = f"F{self.t.index:02d}-{self.run_id}-{self.count}"
        return ScanOutcome(raw, kind, "accepted", key=uuid.uuid4().hex)

    def call(self, fn: Callable[..., Any], *args: Any, ack: ScanOutcome | None = None,
             **kw: Any) -> Any:  # fmt: skip
        """One service call, after the operator's pace; timed; its scan written down as
        acknowledged once it returned."""
        if self.pace_s:
            time.sleep(self.rng.uniform(0.5, 1.5) * self.pace_s)
        started = time.perf_counter()
        if ack is None:
            result = fn(*args, **kw)
            self._time("action", started)
            return result
        result, sendings = self._send(fn, ack, *args, **kw)
        if sendings == 1:  # a scan held through an outage times the outage, not the terminal
            self._time(self.t.role, started)
        self.acked.write(ack.raw + "\n")
        self.acked.flush()
        return result

    def _send(self, fn: Callable[..., Any], ack: ScanOutcome, *args: Any,
              **kw: Any) -> tuple[Any, int]:  # fmt: skip
        """A scan's call under its key; while the database is away, sent again (the first
        sending may have been saved: then it is not applied twice, and counts as answered)."""
        key = scans.ScanKey(ack.key or ack.raw)
        for sending in range(1, 10_000):
            try:
                scans.not_saved_before(self.db, key)
                with scans.sending(key):
                    return fn(*args, **kw), sending
            except scans.AlreadySaved:
                self._note("saved")
                return None, sending
            except DBAPIError as exc:
                if not database_unreachable(exc):
                    raise
            if sending == 1:
                self._note("resent")
            time.sleep(0.25)
            key = scans.ScanKey(key.value, resent=True)
        raise RuntimeError("the database never came back")

    def _time(self, kind: str, started: float) -> None:
        self.timings.write(f"{kind} {(time.perf_counter() - started) * 1000:.2f}\n")
        self.timings.flush()  # a SIGKILL loses no sample that was taken

    def _note(self, what: str) -> None:
        self.timings.write(f"{what} 0\n")
        self.timings.flush()

    def run(self, deadline: float, expected: tuple[int, int] | None) -> None:
        loop = {"picker": self.picker, "packer": self.packer, "lead": self.lead}[self.t.role]
        self.check_resume(expected)
        while time.time() < deadline:
            try:
                loop()
            except (ServiceError, DBAPIError):
                # Taken elsewhere, the database busy, or the connection cut (the pool opens a
                # new one): look again, as the operator scans again.
                time.sleep(0.05)
        self.timings.flush()

    # --- pickers: start an order into a tote, pick every line, now and then a shortage ------

    def picker(self) -> None:
        op = self.t.operator_id
        mine = picking.queue(self.db, op, now=datetime.now(UTC), tz=self.settings.warehouse.tz)
        started = [e for e in mine if e.started]
        if not started:
            waiting = [e for e in mine if not e.started]
            if not waiting:
                time.sleep(0.2)
                return
            tote = f"T-{self.t.index:02d}{self.rng.randrange(100):02d}"
            self.call(picking.start_order, self.db, self.actor, waiting[0].order_id, tote,
                      batch_size=1)  # fmt: skip
        for line in walk(picking.pick_list(self.db, op)):
            if line.done:
                continue
            if self.rng.random() < 0.03:
                self.call(picking.report_shortage, self.db, self.actor, line.task_id,
                          max(0, line.left - 1))  # fmt: skip
                return  # the walk changed: read it again
            outcome = self.scan("product")
            self.call(picking.pick, self.db, self.actor, line.task_id, line.left,
                      scans_=[outcome], ack=outcome)  # fmt: skip

    # --- packers: open a picked tote, verify, box, weigh, confirm, close (sometimes 2 parcels)

    def packer(self) -> None:
        op = self.t.operator_id
        order_id = packing.mine(self.db, op)
        if order_id is not None:  # ours already (a restart): taken up at this terminal
            number = packing.view(self.db, order_id).number
            self.call(packing.open_order, self.db, self.actor, self.settings, number, by="order")
        else:
            with self.db.read() as s:
                totes = list(
                    s.scalars(
                        select(Tote.code)
                        .join(Order, Order.id == Tote.order_id)
                        .where(Order.status == OrderStatus.PICKED.value)
                        .limit(8)
                    )
                )
            if not totes:
                time.sleep(0.2)
                return
            opened = self.call(packing.open_order, self.db, self.actor, self.settings,
                               self.rng.choice(totes), by="tote")  # fmt: skip
            order_id = opened.order_id
        view = packing.view(self.db, order_id)
        split = view.units_left > 1 and not view.parcels and self.rng.random() < 0.3
        for line in view.lines:
            for _ in range(line.left):
                outcome = self.scan("product")
                self.call(packing.verify, self.db, self.actor, order_id, line.line_id, 1,
                          scans_=[outcome], ack=outcome)  # fmt: skip
                if split:
                    split = False
                    self._finish_parcel(order_id, more_to_come=True)
        self._finish_parcel(order_id, more_to_come=False)

    def _finish_parcel(self, order_id: int, *, more_to_come: bool) -> None:
        box, _ = self.call(packing.set_packaging, self.db, self.actor, order_id, "BOX-M")
        view = packing.view(self.db, order_id)
        grams = box.tare_g + sum(ln.weight_g * ln.in_open for ln in view.lines)
        self.call(packing.set_weight, self.db, self.actor, self.settings, order_id, grams)
        if not view.address_confirmed:
            self.call(packing.confirm_address, self.db, self.actor, order_id)
        self.call(close_parcel, self.db, self.actor, self.settings, order_id,
                  more_to_come=more_to_come)  # fmt: skip

    # --- the lead: give out orders, hand each lane's parcels to its courier -----------------

    def lead(self) -> None:
        self.call(lead_actions.assign_ready_orders, self.db, self.actor, settings=self.settings)
        for lane in handoff.lanes(self.db, self.settings, now=datetime.now(UTC)):
            if lane.parcels < 3:
                continue
            pickup = self.call(handoff.open_pickup, self.db, self.actor, lane.courier)
            state = handoff.pickup_state(self.db, pickup.id)
            for tracking, _ in state.waiting_listed:
                outcome = self.scan("parcel")
                self.call(handoff.hand_over_parcel, self.db, self.actor, pickup.id, tracking,
                          scan=outcome, ack=outcome)  # fmt: skip
            self.call(handoff.close_pickup, self.db, self.actor, self.settings, pickup.id)
        time.sleep(0.5)


def _terminal_main(
    url: str, settings: Settings, t: Terminal, folder: str, seed: int, deadline: float,
    pace_s: float, expected: tuple[int, int] | None,
) -> None:  # fmt: skip
    terminal = _Terminal(url, settings, t, Path(folder), seed, pace_s)
    try:
        terminal.run(deadline, expected)
    finally:
        terminal.db.dispose()


def progress_of(db: Database, t: Terminal) -> tuple[int, int] | None:
    """The order this terminal's operator has started, and how far it got: units picked (or
    found short) for a picker, units verified into parcels for a packer. None: no such order."""
    if t.role not in _STARTED:
        return None
    holder = Order.assignee_id if t.role == "picker" else Order.packer_id
    with db.read() as s:
        order_id = s.scalar(
            select(Order.id).where(holder == t.operator_id, Order.status == _STARTED[t.role])
        )
        if order_id is None:
            return None
        done = (
            select(func.sum(PickTask.picked + PickTask.short)).where(PickTask.order_id == order_id)
            if t.role == "picker"
            else select(func.sum(ParcelItem.quantity))
            .join(Parcel, Parcel.id == ParcelItem.parcel_id)
            .where(Parcel.order_id == order_id, Parcel.status != "voided")
        )
        return order_id, int(s.scalar(done) or 0)


# --- the run ---------------------------------------------------------------------------------


def prepare(db: Database, settings: Settings, terminals: int, orders: int) -> list[Terminal]:
    """The run's operators (the demo's pickers stand down, so orders go to the run's own) and
    ``orders`` new orders from the shop, with stock for all of them."""
    lead = Actor("FLOOR")
    pickers = max(1, (terminals - 1) * 3 // 5)
    roles = ["lead"] + ["picker"] * pickers + ["packer"] * max(1, terminals - 1 - pickers)
    with db.read() as s:
        demo_pickers = list(
            s.scalars(
                select(Operator.badge)
                .join(OperatorRole, OperatorRole.operator_id == Operator.id)
                .where(OperatorRole.role == "picker", ~Operator.badge.like("EMP-81%"))
            )
        )
        existing: dict[str, int] = {
            badge: op_id
            for badge, op_id in s.execute(
                select(Operator.badge, Operator.id).where(Operator.badge.like("EMP-8%"))
            )
        }
        held = int(s.scalar(select(func.count()).select_from(Order)) or 0)
    for badge in demo_pickers:
        auth.disable_operator(db, lead, badge)
    made = []
    for i, role in enumerate(roles):
        badge = _BADGES[role].format(i)
        if badge not in existing:
            # Not a picker: the lead would be given orders to pick and never pick them.
            roles_ = "lead,packer" if role == "lead" else role
            existing[badge] = auth.add_operator(db, lead, badge, f"Floor {role} {i}", roles_,
                                                "1357").id  # fmt: skip
        made.append(Terminal(i, role, existing[badge], badge))
    skus = stock_up(db, 1000)
    import_fresh(db, settings, shopify_export(skus, orders, seed=7, first=held), lambda d, t: None)
    lead_actions.assign_ready_orders(db, lead, settings=settings)
    return made


def run_floor(
    url: str,
    settings: Settings,
    *,
    terminals: int,
    seconds: float,
    orders: int,
    folder: Path,
    kills: int = 0,
    drops: int = 0,
    cut: Callable[[str], int] | None = None,
    pace_s: float = 1.0,
    seed: int = 1,
    progress: Progress = lambda stage, done, total: None,
) -> FloorRun:
    """Prepare the floor, run ``terminals`` terminal processes for ``seconds`` (killing one at
    random ``kills`` times, and starting it again at once; on PostgreSQL cutting every
    terminal's connection ``drops`` times, as a server restart does, or calling ``cut(url)``
    instead: a test restarts a server of its own there), then check the floor.
    ``pace_s`` is an operator's time between scans, on average (0: as fast as the machine)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    db = Database(url, busy_timeout_s=settings.database.busy_timeout_s)
    try:
        made = prepare(db, settings, terminals, orders)
        executed_before = _executed(db)
    finally:
        db.dispose()  # no connection of the parent's may be shared with a forked terminal
    context = multiprocessing.get_context("fork")
    rng = random.Random(seed)
    deadline = time.time() + seconds

    def start(t: Terminal, n: int, expected: tuple[int, int] | None = None) -> Any:
        proc = context.Process(
            target=_terminal_main,
            args=(url, settings, t, str(folder), seed * 1000 + n, deadline, pace_s, expected),
            name=f"floor-{t.role}-{t.index}", daemon=True,
        )  # fmt: skip
        proc.start()
        return proc

    def left_at(t: Terminal) -> tuple[int, int] | None:
        """Where a killed terminal's order stands (read with a connection of its own, closed
        before the next fork)."""
        reader = Database(url, busy_timeout_s=settings.database.busy_timeout_s)
        try:
            return progress_of(reader, t)
        finally:
            reader.dispose()

    procs = {t.index: start(t, 0) for t in made}
    killed = crashed = restarts = dropped = 0
    before_last_drop = 0
    started = time.time()
    drop_at = [started + seconds * (i + 1) / (drops + 1) for i in range(drops)]
    try:
        while time.time() < deadline:
            if drop_at and time.time() >= drop_at[0]:
                drop_at.pop(0)
                dropped += (cut or _drop_connections)(url)
                before_last_drop = _acked(folder)
            if killed < kills:
                # Spread over the first 60% of the run: slack for a slow machine to fit them all.
                time.sleep(max(0.0, seconds * 0.6 / kills - 0.01))
                victim = rng.choice(made)
                proc = procs[victim.index]
                if proc.pid is not None and proc.is_alive():
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.join()
                    killed += 1
                    restarts += 1
                    procs[victim.index] = start(victim, restarts, left_at(victim))
            else:
                time.sleep(0.2)
            for t in made:  # a terminal that died by itself is a failure of the run
                proc = procs[t.index]
                if not proc.is_alive() and proc.exitcode not in (0, -signal.SIGKILL):
                    crashed += 1
                    restarts += 1
                    procs[t.index] = start(t, restarts)
            progress("floor", min(int(time.time() - started), int(seconds)), int(seconds))
        for proc in procs.values():
            proc.join(timeout=60)
            crashed += proc.exitcode not in (0, None, -signal.SIGKILL)
    finally:
        for proc in procs.values():
            if proc.is_alive():
                proc.kill()
                proc.join()
    elapsed = time.time() - started
    db = Database(url, busy_timeout_s=settings.database.busy_timeout_s)
    try:
        acked = _acked_scans(folder)
        with db.read() as s:
            journaled = set(s.scalars(select(ScanJournal.raw).where(ScanJournal.raw.like("F%"))))
        findings = check(db)
        executed = _executed(db) - executed_before
        _enable_demo_pickers(db)
    finally:
        db.dispose()
    timed: dict[str, list[float]] = {}
    for f in folder.glob("ms-*.txt"):
        for line in f.read_text(encoding="utf-8").splitlines():
            kind, _, value = line.partition(" ")
            if value:
                timed.setdefault(kind, []).append(float(value))
    stations = {STATIONS[role]: sorted(timed.get(role, [])) for role in STATIONS if timed.get(role)}
    ms = sorted(v for values in stations.values() for v in values)
    actions = sorted(timed.get("action", []))
    resumes = [f.read_text(encoding="utf-8") for f in folder.glob("resumed-*")]
    return FloorRun(
        terminals=terminals,
        seconds=round(elapsed, 1),
        scans=len(acked),
        lost=sum(1 for raw in acked if raw not in journaled),
        p50_ms=_percentile(ms, 0.5),
        p99_ms=_percentile(ms, 0.99),
        stations={
            name: (len(v), _percentile(v, 0.5), _percentile(v, 0.99))
            for name, v in stations.items()
        },
        action_p50_ms=_percentile(actions, 0.5),
        action_p99_ms=_percentile(actions, 0.99),
        executed=executed,
        kills=killed,
        crashed=crashed,
        dropped=dropped,
        scans_before_last_drop=before_last_drop,
        resent=len(timed.get("resent", [])),
        already_saved=len(timed.get("saved", [])),
        resumed=sum(1 for r in resumes if r == "ok"),
        resume_failures=[r for r in resumes if r != "ok"],
        findings=findings,
    )


#: The station whose scans each kind of terminal times.
STATIONS = {"picker": "picking", "packer": "packing", "lead": "handoff"}


def _drop_connections(url: str) -> int:
    """Every connection to the run's PostgreSQL database is cut (what a server restart does to
    the terminals): transactions in flight fail, and the terminals must carry on. Returns how
    many were cut (none on SQLite)."""
    db = Database(url)
    try:
        if db.dialect != "postgresql":
            return 0
        with db.engine.connect() as conn:
            cut = conn.exec_driver_sql(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).scalar()
            conn.commit()
        return int(cut or 0)
    finally:
        db.dispose()


def _acked_scans(folder: Path) -> list[str]:
    return [
        line.strip()
        for f in sorted(folder.glob("acked-*.txt"))
        for line in f.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def _acked(folder: Path) -> int:
    return len(_acked_scans(folder))


def _percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return 0.0
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 2)


def _executed(db: Database) -> int:
    with db.read() as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(Order)
                .where(Order.status == OrderStatus.EXECUTED.value)
            )
            or 0
        )


def _enable_demo_pickers(db: Database) -> None:
    """The demo's pickers back at work after the run."""
    with db.transaction() as s:
        s.execute(
            update(Operator)
            .where(
                ~Operator.badge.like("EMP-8%"),
                Operator.id.in_(
                    select(OperatorRole.operator_id).where(OperatorRole.role == "picker")
                ),
            )
            .values(active=True)
        )
