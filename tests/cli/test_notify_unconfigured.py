"""A configuration with no ``[notify]`` sends no mail anywhere: customers' mail waits, queued,
and ``picker notify run`` says why (both databases)."""

from __future__ import annotations

import json

from picker.config import load_settings
from picker.store.engine import Database
from tests.conftest import REPO
from tests.services.floor.test_handoff import packed
from tests.services.notify.test_outbox import ship


def test_notify_run_without_smtp_url_leaves_mail_queued_and_says_mail_is_not_configured(
    cli, tmp_path, db_url
) -> None:
    run = cli(f'[terminal]\nid = "T05"\n[labels]\ndir = "{REPO / "labels"}"\n')
    assert run("demo", "--orders", "0", "--no-sheet")[0] == 0
    settings = load_settings(tmp_path / "config.toml", environ={})
    db = Database(db_url)
    try:
        _, trackings = packed(db, settings, ("SKU-00001", 1), tote="T-0901")
        ship(db, settings, *trackings)
    finally:
        db.dispose()
    for _ in range(2):  # run again: still waiting, never failed
        code, out, err = run("notify", "run")
        assert code == 0, err
        assert out.splitlines() == [
            "0 sent, 0 waiting for another try, 0 failed, 0 skipped (mail to nowhere: mail is "
            "not configured)",
            "mail is not configured ([notify] smtp_url is empty): 1 e-mail message waits, "
            "queued, to be sent once it is set",
        ]
        code, out, _ = run("notify", "list", "--format", "json", "--status", "queued")
        [mail] = json.loads(out)["messages"]
        assert (mail["kind"], mail["event"], mail["attempts"], mail["error"]) == (
            "email", "shipped", 0, None)  # fmt: skip
    assert not (tmp_path / "var" / "mail").exists()  # no folder took it for "sent"
