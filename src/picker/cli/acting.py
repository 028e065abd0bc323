"""Who a command acts as: an operator named with ``--as BADGE``, or the machine's integration.

Three kinds of command (see each handler):

- **read-only** (list, show, check, scans, bench, previews): anyone with a shell, no operator.
- **data feeds** (``picker import``, ``product import``, ``stock import``): run as the machine's
  integration, an actor with no operator whose ``source`` is ``OSUSER@HOST``, written into every
  order event and stock movement they make; with ``--as`` they run as that operator instead
  (whose role is then checked).
- **authority** (operator management, order hold / release / cancel / assign, parcel void, print
  retry / reprint / cancel, a manifest printed again, ``stock set``): they act with a floor
  role's authority, so they need an operator: ``--as BADGE`` (or ``$PICKER_AS``), whose PIN is
  asked on the terminal (or read from ``$PICKER_PIN``) and checked by the terminal's own login
  (a wrong PIN counts towards the lockout). The services then check that operator's roles.
"""

from __future__ import annotations

import argparse
import getpass
import os
import socket
import sys
from typing import Any

from picker.cli.errors import EXIT_FAILED, EXIT_USAGE, CliError
from picker.config import Settings

AS_ENV = "PICKER_AS"
PIN_ENV = "PICKER_PIN"
#: The width of the ``source`` columns of order events and stock movements.
SOURCE_LENGTH = 64


def add_as_option(parser: argparse.ArgumentParser) -> None:
    """The global ``--as BADGE`` option."""
    parser.add_argument(
        "--as",
        dest="as_badge",
        metavar="BADGE",
        help=f"act as this operator (default: ${AS_ENV}); the PIN is asked for, or read from "
        f"${PIN_ENV}. Needed by every command that acts with a floor role's authority",
    )


def named_badge(args: argparse.Namespace) -> str | None:
    """The badge given with ``--as``, else in ``$PICKER_AS``; None when neither names one."""
    badge = getattr(args, "as_badge", None)
    if badge is None:
        badge = os.environ.get(AS_ENV)
    badge = (badge or "").strip().upper()
    return badge or None


def machine_source() -> str:
    """``OSUSER@HOST``: who runs a data feed, as the OS knows them (at most 64 characters)."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name and no password entry (a bare container)
        user = f"uid{os.getuid()}" if hasattr(os, "getuid") else "unknown"
    return f"{user}@{socket.gethostname()}"[:SOURCE_LENGTH]


def _authority_words(use_case: str) -> str:
    from picker.domain.roles import USE_CASES

    _, role = USE_CASES[use_case]
    if role is None:
        return "an operator's authority"
    if role.value.endswith("s"):  # a role named as a desk ("returns"), not as a person
        return f"the {role.value} role's authority"
    return f"a {role.value}'s authority"


def refusal(command: str, use_case: str) -> CliError:
    """The refusal of an authority command run without an operator, naming the fix."""
    return CliError(
        f"{command} acts with {_authority_words(use_case)}: name yourself with "
        f"--as BADGE (or {AS_ENV})",
        EXIT_USAGE,
    )


def _pin(badge: str) -> str:
    pin = os.environ.get(PIN_ENV)
    if pin is not None:
        return pin
    if not sys.stdin.isatty():
        raise CliError(
            f"--as {badge}: give the PIN in {PIN_ENV} (no terminal to ask it on)", EXIT_USAGE
        )
    return getpass.getpass(f"PIN for {badge}: ")


def log_in(settings: Settings, db: Any, badge: str) -> Any:
    """``badge`` logged in with its PIN, by the terminal's own login service (a wrong PIN
    counts towards the lockout; a locked or disabled badge is refused): its OperatorInfo."""
    from datetime import timedelta

    from picker.domain.pins import LockoutPolicy
    from picker.services import auth

    policy = LockoutPolicy(
        settings.login.max_failed_pins, timedelta(minutes=settings.login.lockout_minutes)
    )
    try:
        # As at the terminal: an unknown, disabled or locked badge is refused before the PIN.
        auth.identify_badge(db, badge)
        return auth.login(db, settings.terminal.id, badge, _pin(badge), policy=policy)
    except auth.LoginRefused as exc:
        raise CliError(
            f"--as {badge}: {str(exc).rstrip('.')}; nothing changed", EXIT_FAILED
        ) from None


def operator_actor(
    args: argparse.Namespace, settings: Settings, db: Any, command: str, use_case: str
) -> Any:
    """The actor of an authority command: the operator named with ``--as``, logged in; refused
    (exit 2, before anything changes) when no operator is named. ``use_case`` (a key of
    ``USE_CASES``) names the role the refusal asks for; the service checks it for real."""
    from picker.services.actors import Actor

    badge = named_badge(args)
    if badge is None:
        raise refusal(command, use_case)
    return Actor(settings.terminal.id, operator=log_in(settings, db, badge))


def feed_actor(args: argparse.Namespace, settings: Settings, db: Any) -> Any:
    """The actor of a data feed: the operator named with ``--as`` (logged in, role checked by
    the service), else the machine's integration, named by :func:`machine_source`."""
    from picker.services.actors import Actor

    badge = named_badge(args)
    if badge is not None:
        return Actor(settings.terminal.id, operator=log_in(settings, db, badge))
    return Actor(settings.terminal.id, source=machine_source())
