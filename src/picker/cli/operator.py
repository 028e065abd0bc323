"""``picker operator``: add, list, disable and enable operators, reset a PIN.

``list`` is open to anyone; the rest act with a lead's authority (``--as`` a lead), except the
first lead of a new floor, added while no active operator holds the lead role."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from picker.cli.acting import named_badge, operator_actor, refusal
from picker.cli.database import open_database, require_head
from picker.cli.errors import EXIT_OK, EXIT_USAGE, CliError
from picker.config import Settings
from picker.domain.text import plural, printable


def add_operator(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("operator", help="manage operators")
    parser.set_defaults(handler=_operator)
    op = parser.add_subparsers(dest="op_command", metavar="ACTION", required=True)
    add = op.add_parser("add", help="add an operator")
    add.add_argument("badge", help="badge number, e.g. EMP-0042")
    add.add_argument("name", help="full name")
    add.add_argument(
        "--roles", required=True, help="comma-separated: picker, packer, lead, service"
    )
    add.add_argument("--pin", help="[login] pin_length to 8 digits (asked for when not given)")
    op.add_parser("list", help="list operators")
    for name, text in (("disable", "disable a badge"), ("enable", "enable a badge, lift its lock")):
        op.add_parser(name, help=text).add_argument("badge")
    reset = op.add_parser("reset-pin", help="set a new PIN and lift any lock")
    reset.add_argument("badge")
    reset.add_argument("--pin", help="[login] pin_length to 8 digits (asked for when not given)")


def _ask_pin(given: str | None, length: int) -> str:
    if given is not None:
        return given
    if not sys.stdin.isatty():
        raise CliError("give the PIN with --pin (no terminal to ask on)", EXIT_USAGE)
    first = getpass.getpass(f"New PIN ({length}-8 digits): ")
    if getpass.getpass("Again: ") != first:
        raise CliError("the two PINs differ; nothing changed")
    return first


def _operator(args: argparse.Namespace, settings: Settings) -> int:
    from picker.services import auth

    db = open_database(settings)
    require_head(db)
    if args.op_command == "add":
        _add(args, settings, db)
    elif args.op_command == "list":
        from datetime import UTC, datetime

        now = datetime.now(UTC)
        rows = auth.list_operators(db)
        print(f"{'badge':<12} {'roles':<20} {'state':<22} name")
        for r in rows:
            if not r.active:
                state = "disabled"
            elif r.locked_until and r.locked_until > now:
                state = f"locked until {r.locked_until:%H:%M} UTC"
            else:
                state = "active"
            roles = ",".join(sorted(r.roles))
            print(f"{r.badge:<12} {roles:<20} {state:<22} {printable(r.name)}")
        print(plural(len(rows), "operator"))
    elif args.op_command == "disable":
        actor = operator_actor(args, settings, db, "operator disable", "auth.disable_operator")
        auth.disable_operator(db, actor, args.badge)
        print(f"{printable(args.badge)} disabled")
    elif args.op_command == "enable":
        actor = operator_actor(args, settings, db, "operator enable", "auth.enable_operator")
        auth.enable_operator(db, actor, args.badge)
        print(f"{printable(args.badge)} enabled")
    else:
        actor = operator_actor(args, settings, db, "operator reset-pin", "auth.reset_pin")
        length = settings.login.pin_length
        auth.reset_pin(db, actor, args.badge, _ask_pin(args.pin, length), pin_length=length)
        print(f"{printable(args.badge)}: new PIN set, lock lifted")
    db.dispose()
    return EXIT_OK


def _add(args: argparse.Namespace, settings: Settings, db: Any) -> None:
    """``operator add``: as a lead named with --as; or, while no active operator holds the lead
    role (a new floor), a first lead without one: the service re-checks that inside its
    transaction, so of two first leads added at once only one is."""
    from picker.domain.roles import Role, parse_roles
    from picker.services import auth
    from picker.services.actors import Actor

    first_lead = named_badge(args) is None
    if first_lead:
        try:
            lead_asked = Role.LEAD in parse_roles(args.roles)
        except ValueError:
            lead_asked = True  # the service names the mistake
        if not lead_asked or auth.has_active_lead(db):
            raise _refusal(db)
        actor = Actor(settings.terminal.id)
    else:
        actor = operator_actor(args, settings, db, "operator add", "auth.add_operator")
    try:
        op = auth.add_operator(
            db,
            actor,
            args.badge,
            args.name,
            args.roles,
            _ask_pin(args.pin, settings.login.pin_length),
            badge_pattern=settings.scanner.patterns["badge"],
            pin_length=settings.login.pin_length,
            first_lead=first_lead,
        )
    except auth.FloorHasALead:  # a lead was added meanwhile
        raise _refusal(db) from None
    print(f"added {op.badge} {op.name} ({', '.join(sorted(op.roles))})")


def _refusal(db: Any) -> CliError:
    from picker.services import auth

    refused = refusal("operator add", "auth.add_operator")
    if auth.has_active_lead(db):
        return refused
    return CliError(f"{refused}; on a new floor the first operator added is a lead "
                    "(--roles lead), and needs none", EXIT_USAGE)  # fmt: skip
