"""A terminal's dispatcher claims outbox messages under a name of its own process: two machines
sharing one config.toml (one terminal id) never take each other's claims for their own."""

from __future__ import annotations

import os
import socket


def test_a_terminals_dispatcher_is_named_by_terminal_host_and_process(app_factory) -> None:
    app = app_factory()
    assert app.outbox.claimed_by == f"T07@{socket.gethostname()[:30]}:{os.getpid()}"
