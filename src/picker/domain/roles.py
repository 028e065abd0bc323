"""Operators' roles and the stations each may work at."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Role(StrEnum):
    PICKER = "picker"
    PACKER = "packer"
    LEAD = "lead"
    #: Customer service: finds orders and tells customers where they stand; changes nothing.
    SERVICE = "service"
    #: The returns desk: receives returned parcels, judges each unit, puts it away.
    RETURNS = "returns"
    #: The receiving dock: receives suppliers' deliveries and puts goods away.
    RECEIVER = "receiver"


class Station(StrEnum):
    PICKING = "picking"
    PACKING = "packing"
    HANDOFF = "handoff"
    SERVICE = "service"
    RETURNS = "returns"
    RECEIVING = "receiving"
    COUNTING = "counting"


STATION_TITLES: dict[Station, str] = {
    Station.PICKING: "Picker queue",
    Station.PACKING: "Packing table",
    Station.HANDOFF: "Handoff zone",
    Station.SERVICE: "Customer service",
    Station.RETURNS: "Returns desk",
    Station.RECEIVING: "Receiving dock",
    Station.COUNTING: "Stock counts",
}

#: The role a station needs; a lead may work every station of the floor.
STATION_ROLE: dict[Station, Role] = {
    Station.PICKING: Role.PICKER,
    Station.PACKING: Role.PACKER,
    Station.HANDOFF: Role.LEAD,
    Station.SERVICE: Role.SERVICE,
    Station.RETURNS: Role.RETURNS,
    Station.RECEIVING: Role.RECEIVER,
    Station.COUNTING: Role.PICKER,
}

#: Beyond :data:`STATION_ROLE`: counting (and replenishment moves) is floor work a receiver
#: does as well as a picker.
STATION_ALSO: dict[Station, frozenset[Role]] = {
    Station.COUNTING: frozenset({Role.RECEIVER}),
}


class NotAllowed(Exception):
    """An operator tried something their roles do not allow."""


def parse_roles(text: str | Iterable[str]) -> frozenset[Role]:
    """``"picker,packer"`` or an iterable of names → roles; unknown names raise ``ValueError``."""
    names = text.split(",") if isinstance(text, str) else list(text)
    roles: set[Role] = set()
    for name in names:
        name = name.strip().lower()
        if not name:
            continue
        try:
            roles.add(Role(name))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise ValueError(f"{name!r} is not a role (known: {known})") from None
    if not roles:
        raise ValueError("an operator needs at least one role")
    return frozenset(roles)


def may_work(roles: Iterable[Role], station: Station) -> bool:
    roles = set(roles)
    if Role.LEAD in roles or STATION_ROLE[station] in roles:
        return True
    return bool(roles & STATION_ALSO.get(station, frozenset()))


def stations_for(roles: Iterable[Role]) -> list[Station]:
    """The stations these roles allow, in floor order."""
    roles = set(roles)
    return [s for s in Station if may_work(roles, s)]


def require(roles: Iterable[Role], needed: Role, action: str) -> None:
    """Raise :class:`NotAllowed` unless ``roles`` include ``needed`` (or lead)."""
    roles = set(roles)
    if Role.LEAD not in roles and needed not in roles:
        raise NotAllowed(f"{action} needs the {needed.value} role")


#: Every use-case that changes the floor: the words a refusal names it by, and the role it needs
#: (a lead may run them all; None: any operator). An actor without an operator (the terminal's
#: housekeeping, a data feed) is not refused here: the ``picker`` command demands an operator
#: (``--as BADGE``) for the commands that act with a role's authority.
USE_CASES: dict[str, tuple[str, Role | None]] = {
    "auth.add_operator": ("managing operators", Role.LEAD),
    "auth.disable_operator": ("managing operators", Role.LEAD),
    "auth.enable_operator": ("managing operators", Role.LEAD),
    "auth.reset_pin": ("managing operators", Role.LEAD),
    "intake.order_import.import_orders": ("importing orders", Role.LEAD),
    "intake.catalogue.import_products": ("importing products", Role.LEAD),
    "intake.catalogue.import_bins": ("importing bins", Role.LEAD),
    "intake.catalogue.import_stock": ("importing stock", Role.LEAD),
    "tracking.events.import_events": ("importing courier tracking events", Role.LEAD),
    "intake.catalogue.set_stock": ("setting stock", Role.LEAD),
    "orders.lead_actions.release_order": ("releasing an order", Role.LEAD),
    "orders.lead_actions.retry_short_orders": ("retrying orders held short", Role.LEAD),
    "orders.lead_actions.hold_order": ("putting an order on hold", Role.LEAD),
    "orders.lead_actions.cancel_order": ("cancelling an order", Role.LEAD),
    "orders.lead_actions.assign_ready_orders": ("assigning orders", Role.LEAD),
    "orders.lead_actions.assign_order": ("assigning an order", Role.LEAD),
    "floor.picking.start_order": ("starting an order to pick", Role.PICKER),
    "floor.picking.pick": ("picking", Role.PICKER),
    "floor.picking.scan_bin": ("picking", Role.PICKER),
    "floor.picking.undo_last_pick": ("undoing a pick", Role.PICKER),
    "floor.picking.report_shortage": ("reporting a shortage", Role.PICKER),
    "floor.packing.open_order": ("opening an order at the packing table", Role.PACKER),
    "floor.packing.verify": ("verifying items", Role.PACKER),
    "floor.packing.unverify": ("taking an item out of a parcel", Role.PACKER),
    "floor.packing.set_packaging": ("choosing the packaging", Role.PACKER),
    "floor.packing.set_weight": ("weighing a parcel", Role.PACKER),
    "floor.packing.confirm_address": ("confirming the address", Role.PACKER),
    "floor.packing.send_to_lead": ("sending an order to the lead", Role.PACKER),
    "floor.packing.hand_over_pack": ("take over a pack", Role.LEAD),
    "floor.parcels.close_parcel": ("closing a parcel", Role.PACKER),
    "floor.parcels.void_parcel": ("void a parcel", Role.LEAD),
    "floor.handoff.open_pickup": ("open a courier pickup", Role.LEAD),
    "floor.handoff.hand_over_parcel": ("hand parcels to a courier", Role.LEAD),
    "floor.handoff.undo_last": ("undo a handoff scan", Role.LEAD),
    "floor.handoff.close_pickup": ("close a courier pickup", Role.LEAD),
    "floor.handoff.reprint_manifests": ("reprinting manifests", Role.LEAD),
    "printjobs.print_queue.retry": ("sending a print job again", Role.PACKER),
    "printjobs.print_queue.reprint": ("reprinting a label", Role.PACKER),
    "printjobs.print_queue.cancel": ("cancel a print job", Role.LEAD),
    "printjobs.labels.choose_label_text": ("choosing what a label prints", Role.LEAD),
    "notify.outbox.retry": ("sending a message again", Role.LEAD),
    "notify.outbox.cancel": ("cancelling a message", Role.LEAD),
    "notify.outbox.resend": ("sending a customer's mail again", Role.LEAD),
    "cod.import_remittances": ("importing COD remittances", Role.LEAD),
    "scans.record": ("recording a scan", None),
    "setup.apply_setup": ("setting up the floor", Role.LEAD),
    "returns.desk.open_return": ("receiving a return", Role.RETURNS),
    "returns.desk.scan_item": ("receiving a returned item", Role.RETURNS),
    "returns.desk.judge": ("judging a returned item", Role.RETURNS),
    "returns.desk.put_away": ("putting a returned item away", Role.RETURNS),
    "returns.desk.foreign": ("recording an item that is not ours", Role.RETURNS),
    "returns.desk.undo_last": ("undoing a returned item", Role.RETURNS),
    "returns.desk.park": ("parking a return", Role.RETURNS),
    "returns.desk.close": ("closing a return", Role.RETURNS),
    "returns.backoffice.authorize": ("authorizing a return", Role.RETURNS),
    "returns.backoffice.receive": ("receiving a return", Role.RETURNS),
    "returns.return_label.make_return_label": ("making a return label", Role.RETURNS),
    "replenish.set_bin": ("setting a bin's role and levels", Role.LEAD),
    "replenish.plan_replenishment": ("planning replenishment", Role.LEAD),
    "replenish.cancel_move": ("cancelling a move", Role.LEAD),
    "replenish.start_move": ("taking a replenishment move", Role.PICKER),
    "replenish.check_item": ("checking a move's item", Role.PICKER),
    "replenish.do_move": ("moving stock to a pick face", Role.PICKER),
    "replenish.park_move": ("parking a move", Role.PICKER),
    "counts.plan.plan_counts": ("planning stock counts", Role.LEAD),
    # Counting is a picker's or a receiver's work (the counting station's roles): checked by
    # the count services against the station, so any operator passes here.
    "counts.counting.start_count": ("counting a bin", None),
    "counts.counting.count_item": ("counting a bin", None),
    "counts.counting.key_count": ("counting a bin", None),
    "counts.counting.finish_count": ("counting a bin", None),
    "counts.counting.confirm_empty": ("counting a bin", None),
    "counts.decide.approve": ("approving a stock count", Role.LEAD),
    "counts.decide.reject": ("rejecting a stock count", Role.LEAD),
    "counts.decide.cancel": ("cancelling a stock count", Role.LEAD),
    "inbound.notices.import_notices": ("importing inbound notices", Role.LEAD),
    "inbound.dock.open_receipt": ("receiving goods", Role.RECEIVER),
    "inbound.dock.receive": ("receiving goods", Role.RECEIVER),
    "inbound.dock.key_count": ("keying a received count", Role.RECEIVER),
    "inbound.dock.accept": ("accepting goods the notice does not expect", Role.LEAD),
    "inbound.dock.undo_last": ("undoing a received scan", Role.RECEIVER),
    "inbound.dock.park": ("parking a receipt", Role.RECEIVER),
    "inbound.dock.close_receipt": ("closing a receipt", Role.RECEIVER),
    "inbound.putaway.put_away": ("putting goods away", Role.RECEIVER),
    "inbound.putaway.release_held": ("releasing orders held for goods put away", Role.RECEIVER),
    "inbound.putaway.receive_lines": ("receiving goods", Role.RECEIVER),
}

#: Beyond :data:`USE_CASES`' role: other roles that may run a use-case too (floor work a
#: receiver does as well as a picker: replenishment moves).
USE_CASE_ALSO: dict[str, frozenset[Role]] = {
    "replenish.start_move": frozenset({Role.RECEIVER}),
    "replenish.check_item": frozenset({Role.RECEIVER}),
    "replenish.do_move": frozenset({Role.RECEIVER}),
    "replenish.park_move": frozenset({Role.RECEIVER}),
}


def check_use_case(roles: Iterable[Role], use_case: str) -> None:
    """Raise :class:`NotAllowed` unless ``roles`` may run ``use_case`` (a key of
    :data:`USE_CASES`; an unknown one is a programming error: ``KeyError``)."""
    action, needed = USE_CASES[use_case]
    if needed is not None:
        roles = set(roles)
        if roles & USE_CASE_ALSO.get(use_case, frozenset()):
            return
        require(roles, needed, action)
