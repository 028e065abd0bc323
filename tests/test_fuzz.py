"""Bad input everywhere, by hypothesis (a fixed example budget): configuration files and
courier labels. Nothing crashes; every refusal is in words. (The scan router and the importers
have theirs in tests/domain/test_scanning_properties.py and tests/channels/test_orders.py.)"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from picker.config import ConfigError, load_settings
from picker.printing.labels import Address, LabelData, compose, render_pdf, render_zpl
from picker.printing.layouts import load_layout

REPO = Path(__file__).resolve().parents[1]
SHIPPED = (REPO / "config.toml").read_text(encoding="utf-8")
KEY_LINES = [i for i, line in enumerate(SHIPPED.splitlines()) if re.match(r"^[\w\"' ]+ = ", line)]

#: TOML values of every kind, including ones no key expects.
TOML_VALUES = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.booleans().map(lambda b: "true" if b else "false"),
    st.text(max_size=20).map(lambda t: '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"'),
    st.just("[1, 2]"),
    st.just("{ a = 1 }"),
    st.just("1979-05-27T07:32:00Z"),
    st.text(max_size=12),  # not TOML at all
)


def _load(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_settings(path, environ={})
    except ConfigError as exc:
        assert str(exc).startswith(str(path)) and "\n" not in str(exc).strip()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=st.lists(st.tuples(st.sampled_from(KEY_LINES), TOML_VALUES), min_size=1, max_size=3))
def test_a_shipped_config_with_any_values_loads_or_is_refused_in_one_line(
    tmp_path: Path, edits: list[tuple[int, str]]
) -> None:
    lines = SHIPPED.splitlines()
    for index, value in edits:
        key = lines[index].split(" = ", 1)[0]
        lines[index] = f"{key} = {value}"
    _load(tmp_path, "\n".join(lines) + "\n")


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=300))
def test_any_text_as_a_config_file_loads_or_is_refused_in_one_line(
    tmp_path: Path, text: str
) -> None:
    _load(tmp_path, text.encode("utf-8", "surrogatepass").decode("utf-8", "replace"))


CUSTOMER_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=120
) | st.sampled_from(
    [
        "[bold]x[/]",
        "[@click=app.quit]q[/]",
        "\x1b[31mred\x1b[0m",
        "\u202eevil\u202c",
        "^XA^FO",
        "~JA",
    ]
)
LAYOUT = load_layout(REPO / "labels", "4x6")


@settings(max_examples=60, deadline=None)
@given(
    name=CUSTOMER_TEXT, street=CUSTOMER_TEXT, city=CUSTOMER_TEXT, postal=st.text(max_size=20),
    country=st.sampled_from(["PL", "VN", "JP", "DE", "XX", ""]),
    cod=st.none() | st.decimals(min_value=0, max_value=10**9, places=2),
    currency=st.sampled_from(["PLN", "VND", "JPY", "EUR", "XXX"]),
    weight=st.none() | st.integers(1, 100_000),
)  # fmt: skip
def test_a_label_renders_for_any_customer_text_and_amount(
    name: str, street: str, city: str, postal: str, country: str, cod: Decimal | None,
    currency: str, weight: int | None,
) -> None:  # fmt: skip
    data = LabelData(
        sender=Address("Picker Demo Warehouse", "Magazynowa 1", "00-001", "Warszawa", "PL"),
        recipient=Address(name, street, postal, city, country, street),
        courier="Post", service="standard", tracking="EE123456785PL", parcel_no=1,
        parcel_count=1, weight_g=weight, order_number="PO-0000042", closed_on=date(2026, 11, 22),
        routing="PL 00", cod_amount=cod, cod_currency=currency,
    )  # fmt: skip
    composed = compose(LAYOUT, data)
    assert render_pdf([composed]).startswith(b"%PDF")
    zpl = render_zpl([composed])
    assert zpl.startswith(b"^XA") and zpl.rstrip().endswith(b"^XZ")
    assert b"^XA" not in zpl[3:]  # no customer text became a command: one label, one ^XA
