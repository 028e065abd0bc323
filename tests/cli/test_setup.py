"""`picker setup` from the command line, as a new warehouse meets it, on both databases."""

import json
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "intake"
EXAMPLE = REPO / "warehouse.example.toml"


@pytest.fixture
def picker(cli):  # type: ignore[no-untyped-def]
    """``picker(*args)`` → (exit code, stdout, stderr) on an empty, migrated database."""
    run = cli(f'[terminal]\nid = "OFFICE"\n[labels]\ndir = "{REPO / "labels"}"\n')

    return run


def test_a_new_warehouse_set_up_from_the_example_takes_shop_orders_onto_its_floor(
    picker,
) -> None:
    code, out, err = picker("setup", "apply", str(EXAMPLE))
    assert (code, err) == (0, "")
    assert out.endswith("18 changes applied\n")
    for args in (
        ("product", "import", str(FIXTURES / "products.csv")),
        ("stock", "import", str(FIXTURES / "stock.csv")),
        ("operator", "add", "EMP-0101", "Lena Lead", "--roles", "lead,picker", "--pin", "2580"),
    ):
        code, out, err = picker(*args)
        assert code == 0, err
    code, out, err = picker("import", str(FIXTURES / "shopify_orders.json"))
    assert code == 0, err
    code, out, _ = picker("order", "list", "--format", "json")
    listed = json.loads(out)["orders"]
    reasons = [r for o in listed for r in o["hold_reasons"]]
    assert not any("shipping method" in r for r in reasons), reasons  # "standard" is POST's
    assert sum(o["status"] == "assigned" for o in listed) == 4


def test_a_dry_run_says_what_would_change_and_changes_nothing(picker) -> None:
    code, out, _ = picker("setup", "apply", "--dry-run", str(EXAMPLE))
    assert code == 0 and "  add 200 totes: T-0001..T-0200\n" in out
    assert out.endswith("dry run: 18 changes would be made; nothing changed\n")
    code, out, _ = picker("setup", "export")
    assert "[[couriers]]" not in out and "codes = []" in out


def test_export_writes_a_file_that_applies_as_no_change(picker, tmp_path) -> None:
    picker("setup", "apply", str(EXAMPLE))
    out_file = tmp_path / "floor.toml"
    code, out, _ = picker("setup", "export", "--out", str(out_file))
    assert (code, out) == (0, f"wrote {out_file}\n")
    code, out, _ = picker("setup", "apply", str(out_file))
    assert (code, out) == (0, f"{out_file}: the floor already matches; nothing to change\n")


def test_a_broken_file_is_refused_by_line_and_a_bad_one_by_every_mistake(picker, tmp_path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('[[couriers]]\ncode = "POST\n', encoding="utf-8")
    code, _, err = picker("setup", "apply", str(broken))
    assert code == 2 and "broken.toml: not a TOML file (" in err and "line 2" in err
    bad = tmp_path / "bad.toml"
    bad.write_text(
        EXAMPLE.read_text(encoding="utf-8")
        .replace('label = "post-4x6"', 'label = "dhl-4x6"')
        .replace('"T-0001..T-0200"', '"T-0001..T-0200", "TOTE 7\\u001b[31m"'),
        encoding="utf-8",
    )
    code, out, err = picker("setup", "apply", str(bad))
    assert (code, out) == (2, "")
    assert err.splitlines()[0] == "picker: " + str(bad) + " cannot be applied; nothing changed:"
    assert (
        f"  couriers[1] (POST): label 'dhl-4x6' is not a layout in {REPO / 'labels'} "
        "(4x6, a6, city-a6, post-4x6, swift-4x6)\n" in err
    )
    assert "\x1b" not in err and "\\x1b" in err  # a control character is shown, not sent
    code, out, _ = picker("setup", "export")
    assert "codes = []" in out  # nothing was applied


def test_a_change_that_would_break_live_work_exits_1_and_changes_nothing(picker, tmp_path) -> None:
    picker("setup", "apply", str(EXAMPLE))
    picker("product", "import", str(FIXTURES / "products.csv"))
    picker("stock", "import", str(FIXTURES / "stock.csv"))
    smaller = tmp_path / "no-zone-a.toml"
    text = EXAMPLE.read_text(encoding="utf-8")
    smaller.write_text(text.replace('code = "A"\nname = "Fast movers"', 'code = "Q"\nname = "Q"'))
    code, out, err = picker("setup", "apply", str(smaller))
    assert (code, out) == (1, "")
    assert "would break live work; nothing changed:" in err
    assert "  zone A cannot retire: " in err
    code, out, _ = picker("setup", "export")
    assert 'code = "Q"' not in out
