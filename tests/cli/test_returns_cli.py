"""``picker return authorize|receive|list|show`` and ``picker stock show``, run as a user would,
on both databases: a shipped order comes back from the back office, whole or in part; a refused
line changes nothing; what the stock shows after."""

from __future__ import annotations

import csv
import io
import json

import pytest

from picker.services import auth
from picker.services.actors import Actor
from tests.services.tracking.test_events import shipped

CONFIG = '[terminal]\nid = "T05"\n'
BADGE, PIN = "EMP-0301", "2468"


@pytest.fixture
def desk(cli, floor, settings, monkeypatch):  # type: ignore[no-untyped-def]
    """The demo catalogue, a returns clerk (``--as`` in ``desk.clerk``), and ``desk.shipped``
    making orders handed to the courier."""
    auth.add_operator(floor, Actor("T01"), BADGE, "Rita Zwrot", "lead", PIN)
    monkeypatch.setenv("PICKER_PIN", PIN)
    run = cli(CONFIG)
    run.clerk = ["--as", BADGE]  # type: ignore[attr-defined]
    run.db = floor  # type: ignore[attr-defined]
    run.shipped = lambda *lines, tote: shipped(floor, settings, *lines, tote=tote)  # type: ignore[attr-defined]
    return run


def stock(run, sku: str) -> dict:  # type: ignore[no-untyped-def]
    code, out, err = run("stock", "show", sku, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def test_stock_show_lists_bins_with_role_on_hand_reserved_and_quarantine(desk) -> None:
    data = stock(desk, "SKU-00001")
    assert set(data) >= {"sku", "bins", "quarantined"}
    assert data["sku"] == "SKU-00001" and data["quarantined"] == 0
    assert data["bins"], "the demo floor stocks SKU-00001"
    for b in data["bins"]:
        assert set(b) >= {"bin", "role", "on_hand", "reserved"}
    code, out, _ = desk("stock", "show", "SKU-00001")
    assert code == 0
    first = data["bins"][0]
    assert out.splitlines()[0].startswith("SKU-00001  ")
    assert any(line.split()[:2] == [first["bin"], first["role"]] for line in out.splitlines())
    code, _, err = desk("stock", "show", "NO-SUCH-SKU")
    assert code == 1 and "no product with the SKU or barcode 'NO-SUCH-SKU'" in err
