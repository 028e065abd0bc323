"""``picker print picklist A B …``: one PDF named after all its orders (or the first and a count),
and counts said in words ("1 pick list", "2 pick lists")."""

from __future__ import annotations

import json

import pytest

from picker.cli.documents import picklist_file_name
from tests.printing.pdf_reading import read_pages


@pytest.fixture
def picker(cli):  # type: ignore[no-untyped-def]
    run = cli('[terminal]\nid = "LEAD-1"\n')
    assert run("demo", "--orders", "40", "--no-sheet")[0] == 0
    return run


def _ready(picker) -> list[str]:  # type: ignore[no-untyped-def]
    """Orders with something to pick (reserved, not started)."""
    out = picker("order", "list", "--status", "assigned", "--format", "json")[1]
    return [o["number"] for o in json.loads(out)["orders"]]


def test_the_pick_list_file_is_named_after_all_its_orders(picker, tmp_path) -> None:
    ready = _ready(picker)
    assert len(ready) >= 4
    printed = tmp_path / "var" / "print"
    code, out, err = picker("print", "picklist", ready[0])
    assert code == 0, err
    assert out == f"1 pick list written to {printed / f'picklist-{ready[0]}.pdf'}\n"
    code, out, _ = picker("print", "picklist", ready[0], ready[1], ready[0])  # one twice
    path = printed / f"picklist-{ready[0]}-{ready[1]}.pdf"
    assert code == 0 and out == f"2 pick lists written to {path}\n"
    text = "".join(page.text for page in read_pages(path.read_bytes()))
    assert ready[0] in text and ready[1] in text
    code, out, _ = picker("print", "picklist", *ready[:4])
    path = printed / f"picklist-{ready[0]}-and-3-more.pdf"
    assert code == 0 and out == f"4 pick lists written to {path}\n"
    text = "".join(page.text for page in read_pages(path.read_bytes()))
    assert all(number in text for number in ready[:4])


def test_a_typed_order_number_cannot_lead_the_file_elsewhere() -> None:
    assert picklist_file_name(["../../etc/x"]) == "picklist-_.._etc_x.pdf"
    assert picklist_file_name(["PO 1", "PO/2", "PO-3"]) == "picklist-PO_1-PO_2-PO-3.pdf"
    assert "/" not in picklist_file_name(["/", "..", "a"])
