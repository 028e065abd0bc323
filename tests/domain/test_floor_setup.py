"""Reading a set-up file: every mistake named by where it is, codes expanded, written back."""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from picker.domain.floor_setup import (
    MAX_TOTES,
    Rules,
    SetupError,
    compress_codes,
    expand_codes,
    read_spec,
    to_toml,
)

RULES = Rules(
    layouts=frozenset({"post-4x6", "city-a6"}),
    packaging_pattern=r"^BOX-[A-Z0-9]{1,8}$",
    tote_pattern=r"^T-\d{4}$",
)

GOOD = """
[[zones]]
code = "A"
name = "Fast movers"

[[couriers]]
code = "POST"
name = "Poczta Polska"
lane = "LANE-1"
label = "post-4x6"
tracking = { scheme = "s10", prefix = "RR", country = "PL", first = 1, last = 99999999 }
tracking_url = "https://tracking.example/{tracking}"
  [[couriers.services]]
  code = "standard"
  name = "Standard"
  express = false
  cutoffs = ["16:30", "11:00"]
  promised_days = 2

[[packaging]]
code = "BOX-M"
barcode = "BOX-M"
name = "Box M 30x20x15"
tare_g = 180
max_weight_g = 10000
length_mm = 300
width_mm = 200
height_mm = 150

[totes]
codes = ["T-0001..T-0003", "T-0010"]
"""


def problems(text: str) -> list[str]:
    with pytest.raises(SetupError) as refused:
        read_spec(tomllib.loads(text), RULES)
    return refused.value.problems


def test_a_good_file_reads_with_cutoffs_sorted_and_tote_ranges_expanded() -> None:
    spec = read_spec(tomllib.loads(GOOD), RULES)
    assert spec.couriers is not None and spec.couriers[0].services[0].cutoffs == ("11:00", "16:30")
    assert spec.totes == ("T-0001", "T-0002", "T-0003", "T-0010")
    assert spec.packaging is not None and spec.packaging[0].max_weight_g == 10000


def test_a_section_left_out_is_not_managed_and_an_empty_one_means_none() -> None:
    spec = read_spec(tomllib.loads("packaging = []\n[totes]\ncodes = []\n"), RULES)
    assert (spec.zones, spec.couriers, spec.packaging, spec.totes) == (None, None, (), ())


def test_every_mistake_is_named_by_where_it_is_all_at_once() -> None:
    bad = (
        GOOD.replace('lane = "LANE-1"', 'lane = "lane 1"')
        .replace('"post-4x6"', '"dhl-4x6"')
        .replace('"11:00"', '"4pm"')
        .replace('country = "PL", ', "")
        .replace('barcode = "BOX-M"', 'barcode = "CARTON-M"')
        .replace("max_weight_g = 10000", "max_weight_g = 100")
        .replace('"T-0010"', '"T-0009..T-0005"')
        .replace('tracking_url = "https://tracking.example/{tracking}"', "cutof = 1")
    )
    assert problems(bad) == [
        "couriers[1]: unknown key 'cutof' (known: code, name, lane, label, tracking, "
        "tracking_url, services)",
        "couriers[1] (POST): lane 'lane 1' must be capitals, digits, '-' or '_'",
        "couriers[1] (POST): label 'dhl-4x6' is not a layout in labels/ (city-a6, post-4x6)",
        "couriers[1] (POST) tracking: country is missing",
        "couriers[1] (POST) services[1] (standard): cutoff '4pm' is not a time of day written "
        "HH:MM (e.g. 16:30)",
        "packaging[1] (BOX-M): barcode 'CARTON-M' would not scan as packaging "
        "([scanner.patterns] packaging is '^BOX-[A-Z0-9]{1,8}$')",
        "packaging[1] (BOX-M): max_weight_g 100 is not more than the box's own tare_g 180",
        "totes: range 'T-0009..T-0005' runs backwards",
    ]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (('scheme = "s10"', 'scheme = "ups"'), "scheme 'ups' is unknown (it is one of s10, mod10"),
        (("last = 99999999", "last = 100000000"), "s10 serials run from 1 to 99999999"),
        (('cutoffs = ["16:30", "11:00"]', "cutoffs = []"), "cutoffs must list the pickup times"),
        (("tare_g = 180", 'tare_g = "180"'), 'tare_g must be a whole number, not "180"'),
        (("express = false", 'express = "no"'), 'express must be true or false, not "no"'),
        (('name = "Fast movers"', 'name = "Fast\\u0007movers"'), "holds a control character"),
        (('"T-0010"', '"T-0001"'), "tote 'T-0001' is given twice"),
        (('"T-0010"', '"X-1"'), "'X-1' would not scan as a tote"),
        (('"T-0010"', '"T-001..T-0100"'), "must have as many digits"),
        (('"T-0010"', '"T-0001..B-0009"'), "must be FIRST..LAST with the same text"),
    ],
)
def test_a_bad_value_is_refused_in_words(change: tuple[str, str], words: str) -> None:
    assert GOOD.count(change[0]) >= 1
    assert any(words in p for p in problems(GOOD.replace(*change, 1)))


def test_a_courier_without_services_is_refused() -> None:
    text = GOOD[: GOOD.index("  [[couriers.services]]")]
    assert any("has no [[couriers.services]]" in p for p in problems(text))


def test_a_range_of_too_many_totes_is_refused() -> None:
    with pytest.raises(ValueError, match=f"at most {MAX_TOTES:,} totes"):
        expand_codes("T-000001..T-999999")


@given(st.lists(st.integers(0, 300), unique=True, max_size=60))
def test_compressed_codes_expand_back_to_the_same_codes(numbers: list[int]) -> None:
    codes = sorted(f"T-{n:04d}" for n in numbers)
    expanded = [c for part in compress_codes(codes) for c in expand_codes(part)]
    assert expanded == codes


def test_the_written_file_reads_back_the_same() -> None:
    spec = read_spec(tomllib.loads(GOOD), RULES)
    text = to_toml(spec, "a header\nof two lines")
    assert text.startswith("# a header\n# of two lines\n")
    assert read_spec(tomllib.loads(text), RULES) == spec
    quoted = spec.zones[0].__class__("A", 'Quote " and \\ backslash ✓')  # type: ignore[index]
    again = read_spec(tomllib.loads(to_toml(spec.__class__(zones=(quoted,)))), RULES)
    assert again.zones == (quoted,)
