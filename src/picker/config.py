"""config.toml → typed, validated settings.

Where the file comes from: ``--config PATH``, else ``PICKER_CONFIG``, else ``config.toml`` in the
current directory, else the built-in defaults (the same values the shipped config.toml documents).
``PICKER_DATABASE_URL`` overrides ``[database] url``; ``PICKER_STATION``, ``PICKER_TERMINAL`` and
``PICKER_PRINTER`` override ``[terminal] station``, ``[terminal] id`` and ``[printer] name``, and
the command line's ``picker run --station/--terminal/--printer`` override those (flag > environment
> file), so one config serves every terminal of a floor. Any problem is a :class:`ConfigError` whose
message names the file, the key and what is wrong, in one line.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from picker.domain.courier_events import CourierStatus, normalise_word
from picker.domain.notify import EVENTS
from picker.domain.pickpath import BadBinCode, parse_bin_code

STATIONS = ("picking", "packing", "handoff", "service", "returns", "receiving", "counting")
PRINTER_BACKENDS = ("spool", "lp", "tcp")
LABEL_FORMATS = ("4x6", "a6")
LABEL_OUTPUTS = ("pdf", "zpl")
SCAN_PATTERN_KINDS = ("badge", "bin", "tote", "rma", "order", "command", "pickup", "packaging")

DEFAULT_PATTERNS: dict[str, str] = {
    "badge": r"^EMP-\d{4,8}$",
    "bin": r"^[A-Z]-\d{2}-\d{2}-\d$",
    "tote": r"^T-\d{4}$",
    "rma": r"^RMA-\d{6,10}$",
    "order": r"^PO-\d{6,10}$",
    "command": r"^CMD-[A-Z]+$",
    "pickup": r"^PU-\d{6,10}$",
    "packaging": r"^BOX-[A-Z0-9]{1,8}$",
}


class ConfigError(Exception):
    """A configuration file or value Picker cannot use; the message is one line for the user."""


@dataclass(frozen=True)
class DatabaseSettings:
    url: str
    busy_timeout_s: float = 5.0
    #: Where the URL was set ("PICKER_DATABASE_URL", "/etc/picker/config.toml: [database] url"),
    #: for a message about a database that is not there.
    origin: str = ""


@dataclass(frozen=True)
class TerminalSettings:
    id: str = "T01"
    station: str = "picking"


@dataclass(frozen=True)
class LoginSettings:
    max_failed_pins: int = 5
    lockout_minutes: int = 5
    #: The fewest digits a new PIN may have (4 to 8): a site asks for longer PINs here.
    pin_length: int = 4


@dataclass(frozen=True)
class ScannerSettings:
    prefix: str = ""
    suffix: str = ""
    #: Keys closer together than this (and ending in Enter) are a scanner, not a person typing.
    burst_gap_ms: int = 30
    patterns: Mapping[str, re.Pattern[str]] = field(
        default_factory=lambda: {k: re.compile(v) for k, v in DEFAULT_PATTERNS.items()}
    )


@dataclass(frozen=True)
class PrinterSettings:
    backend: str = "spool"
    spool_dir: Path = Path("var/spool")
    queue: str = ""
    host: str = ""
    port: int = 9100
    #: What people call this printer; print jobs are queued under this name. Read from the file,
    #: an empty name becomes the terminal's id (each terminal its own printer).
    name: str = "T01"
    #: Seconds to reach the printer and hand it a document (TCP connect + send, or `lp`).
    timeout_s: float = 10.0
    #: Seconds between a terminal's looks at its print queue (sooner when it queues a job).
    poll_s: float = 2.0


#: The label's font fallback chain: DejaVu Sans is shipped, the others are found through
#: fontconfig when installed (Debian: fonts-noto-cjk, fonts-noto-core).
DEFAULT_LABEL_FONTS = (
    "DejaVu Sans",
    "Noto Sans CJK SC",
    "Noto Sans Arabic",
    "Noto Sans Hebrew",
    "Noto Sans Thai",
)


@dataclass(frozen=True)
class LabelSettings:
    dir: Path = Path("labels")
    format: str = "4x6"
    output: str = "pdf"
    #: Font families, in the order a character's font is chosen (see printing/font_chain.py).
    fonts: tuple[str, ...] = DEFAULT_LABEL_FONTS


@dataclass(frozen=True)
class WarehouseSettings:
    name: str = "Picker Demo Warehouse"
    street: str = "Magazynowa 1"
    postal_code: str = "00-001"
    city: str = "Warszawa"
    country: str = "PL"
    #: The warehouse's time zone: courier cutoffs are local times of day.
    timezone: str = "Europe/Warsaw"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


DEFAULT_SHIPPING: dict[str, str] = {
    # The demo floor's own method codes.
    "post_standard": "POST/standard",
    "post_ems": "POST/ems",
    "swift_standard": "SWIFT/standard",
    "swift_express": "SWIFT/express",
    "city_sameday": "CITY/sameday",
    "city_nextday": "CITY/nextday",
    # Common shop codes (WooCommerce method ids, Shopify titles).
    "flat_rate": "POST/standard",
    "free_shipping": "POST/standard",
    "standard": "POST/standard",
    "standard shipping": "POST/standard",
    "express": "SWIFT/express",
    "express shipping": "SWIFT/express",
    "same day": "CITY/sameday",
}
DEFAULT_COD_GATEWAYS = ("cod", "cash on delivery (cod)", "cash_on_delivery", "cash on delivery")


@dataclass(frozen=True)
class IntakeSettings:
    #: Shop shipping method (code or title, lower case) → (courier code, service code).
    shipping: Mapping[str, tuple[str, str]] = field(
        default_factory=lambda: {k: _split_method(v) for k, v in DEFAULT_SHIPPING.items()}
    )
    #: Payment gateways / methods that mean cash on delivery (lower case).
    cod_gateways: tuple[str, ...] = DEFAULT_COD_GATEWAYS
    #: Orders a picker may have assigned (or in picking) at once.
    max_orders_per_picker: int = 20


@dataclass(frozen=True)
class PickingSettings:
    #: Orders a picker may start at once (cluster picking): one tote each, one merged walk.
    batch_size: int = 4
    #: Where a picked tote goes, as the pick screen says it ("Take tote T-0042 to …").
    drop_off: str = "packing staging"


@dataclass(frozen=True)
class PackingSettings:
    #: A weighed parcel may be lighter than its contents + box by at most this share of that
    #: (percent) or ``weight_tolerance_g``, whichever is more; lighter: "check contents".
    weight_tolerance_pct: float = 10.0
    weight_tolerance_g: int = 30
    #: Close the parcel by itself once its last unit is verified and box, weight and address
    #: are done (the packer need not scan CMD-CLOSE).
    auto_close: bool = True
    #: Print a packing slip (contents, order barcode) at the station when an order is opened.
    packing_slip: bool = False


#: Why a customer sends goods back (``[returns] reasons``), as codes.
DEFAULT_RETURN_REASONS = ("damaged", "wrong_item", "not_as_described", "changed_mind", "defective")
#: The reasons that allow an exchange (replacement goods instead of money).
DEFAULT_EXCHANGE_REASONS = ("wrong_item", "damaged", "defective")
#: When the shipping paid is refunded too: never, when everything shipped came back, always.
REFUND_SHIPPING = ("never", "full_return", "always")


@dataclass(frozen=True)
class ReturnSettings:
    #: Why a customer sends goods back: the codes an RMA or a return's reason may carry.
    reasons: tuple[str, ...] = DEFAULT_RETURN_REASONS
    #: The reasons that allow closing a return as an exchange.
    exchange_reasons: tuple[str, ...] = DEFAULT_EXCHANGE_REASONS
    #: never | full_return | always: when the order's shipping is refunded too.
    refund_shipping: str = "full_return"
    #: The bin damaged, defective and incomplete units go to (created, role quarantine, on
    #: first use); its stock is never reserved or picked.
    quarantine_bin: str = "Q-00-00-0"
    #: Close a return by itself once its RMA's expected lines are all judged.
    auto_close: bool = True


@dataclass(frozen=True)
class Threshold:
    """A difference that matters: more than ``units`` units, or more than ``pct`` percent of
    what was expected (either one). Written in config.toml as ``3`` (units) or ``"5%"``."""

    units: int | None = None
    pct: float | None = None

    def exceeded(self, expected: int, found: int) -> bool:
        """True when ``found`` differs from ``expected`` by more than this threshold (a
        difference against an expected 0 exceeds any percentage)."""
        diff = abs(found - expected)
        if diff == 0:
            return False
        if self.units is not None and diff > self.units:
            return True
        if self.pct is not None:
            return expected == 0 or diff * 100 > self.pct * expected
        return False

    def __str__(self) -> str:
        return f"{self.pct:g}%" if self.pct is not None else f"{self.units} unit(s)"


@dataclass(frozen=True)
class ReceivingSettings:
    #: The dock: a bin (created, role receiving, on first use) where received goods wait for
    #: put-away; never reserved or picked.
    dock_bin: str = "R-00-00-0"
    #: A line may be received up to this share (percent) over what its notice expects; more is
    #: refused unless a lead accepts it with a reason.
    over_tolerance_pct: float = 0.0


@dataclass(frozen=True)
class CountingSettings:
    #: A first count differing from the bin's stock by more than this asks for a recount by
    #: another operator (0 units: any difference).
    recount_over: Threshold = Threshold(units=0)
    #: A confirmed difference above this waits for a lead's approval before stock changes.
    approve_over: Threshold = Threshold(units=5)


@dataclass(frozen=True)
class ReplenishSettings:
    #: A pick face short of today's demand is refilled to cover it; "today" means orders
    #: released but not yet picked (assigned, picking, unhandled) placed up to this many hours
    #: ago.
    demand_hours: int = 24


def _split_method(value: str) -> tuple[str, str]:
    courier, _, service = value.partition("/")
    return courier.strip().upper(), service.strip()


@dataclass(frozen=True)
class Settings:
    """Everything a terminal needs to know, validated."""

    source: Path | None
    base_dir: Path
    database: DatabaseSettings
    terminal: TerminalSettings
    login: LoginSettings
    scanner: ScannerSettings
    printer: PrinterSettings
    labels: LabelSettings
    warehouse: WarehouseSettings
    intake: IntakeSettings = field(default_factory=IntakeSettings)
    picking: PickingSettings = field(default_factory=PickingSettings)
    packing: PackingSettings = field(default_factory=PackingSettings)
    returns: ReturnSettings = field(default_factory=ReturnSettings)
    receiving: ReceivingSettings = field(default_factory=ReceivingSettings)
    counting: CountingSettings = field(default_factory=CountingSettings)
    replenish: ReplenishSettings = field(default_factory=ReplenishSettings)
    notify: NotifySettings = field(default_factory=lambda: NotifySettings())
    #: Courier code (upper case) → what config.toml says of it beyond the database.
    couriers: Mapping[str, CourierSettings] = field(default_factory=dict)
    #: Shop channel name (as orders carry it) → where its fulfilment goes.
    channels: Mapping[str, ChannelSettings] = field(default_factory=dict)

    @property
    def var_dir(self) -> Path:
        """Where Picker keeps its own files (SQLite database, spool, floor sheet)."""
        return self.base_dir / "var"


class _Reader:
    """Takes values out of one table of the parsed TOML, checking type and unknown keys."""

    def __init__(self, where: str, section: str, table: Any) -> None:
        self.where = where
        self.section = section
        if not isinstance(table, dict):
            self.fail("", f"must be a table ([{section}]), not {_kind(table)}")
        self.table: dict[str, Any] = dict(table)

    def fail(self, key: str, problem: str) -> None:
        name = f"[{self.section}] {key}".rstrip() if key else f"[{self.section}]"
        raise ConfigError(f"{self.where}: {name}: {problem}")

    def text(self, key: str, default: str, choices: tuple[str, ...] = ()) -> str:
        value = self.table.pop(key, default)
        if not isinstance(value, str):
            self.fail(key, f"must be text in quotes, not {_kind(value)}")
        if choices and value not in choices:
            self.fail(key, f"{value!r} is not one of {', '.join(choices)}")
        if any(ord(c) < 32 for c in value):
            self.fail(key, "contains control characters")
        return value

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self.table.pop(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"must be a whole number, not {_kind(value)}")
        if not low <= value <= high:
            self.fail(key, f"{value} is out of range ({low} to {high})")
        return value

    def number(self, key: str, default: float, low: float, high: float) -> float:
        value = self.table.pop(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(key, f"must be a number, not {_kind(value)}")
        if not low <= value <= high:
            self.fail(key, f"{value} is out of range ({low} to {high})")
        return float(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self.table.pop(key, default)
        if not isinstance(value, bool):
            self.fail(key, f"must be true or false, not {_kind(value)}")
        return value

    def done(self) -> None:
        for key in self.table:
            self.fail(key, "unknown key (check the spelling against the shipped config.toml)")


def _font_families(r: _Reader) -> tuple[str, ...]:
    value = r.table.pop("fonts", list(DEFAULT_LABEL_FONTS))
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and v.strip() and v.isprintable() for v in value)
    ):
        r.fail("fonts", 'must be a list of font family names, e.g. ["DejaVu Sans", "Noto Sans"]')
    if len(value) > 20 or any(len(v) > 100 or ":" in v for v in value):
        r.fail("fonts", "at most 20 family names of at most 100 characters, without ':'")
    return tuple(" ".join(v.split()) for v in value)


def _kind(value: Any) -> str:
    return {
        bool: "true/false",
        int: "a number",
        float: "a number",
        str: "text",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def find_config_file(
    explicit: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> Path | None:
    """The file to load: explicit path, else $PICKER_CONFIG, else ./config.toml if present."""
    if explicit:
        return Path(explicit)
    env = (os.environ if environ is None else environ).get("PICKER_CONFIG")
    if env:
        return Path(env)
    here = Path.cwd() / "config.toml"
    return here if here.is_file() else None


@dataclass(frozen=True)
class TerminalChoice:
    """What the command line says about this terminal (``picker run --station S --terminal ID
    --printer NAME``); ``None`` leaves the environment's or the file's value."""

    station: str | None = None
    terminal: str | None = None
    printer: str | None = None


def load_settings(
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    choice: TerminalChoice | None = None,
) -> Settings:
    """Load and validate settings; raises :class:`ConfigError` with a one-line message.

    This terminal's station, id and printer name come from ``choice`` (the command line), else
    ``PICKER_STATION`` / ``PICKER_TERMINAL`` / ``PICKER_PRINTER``, else the file."""
    environ = os.environ if environ is None else environ
    source = find_config_file(path, environ)
    data: dict[str, Any] = {}
    if source is not None:
        where = str(source)
        try:
            raw = source.read_bytes()
        except FileNotFoundError:
            raise ConfigError(f"{where}: no such configuration file") from None
        except OSError as exc:
            raise ConfigError(f"{where}: cannot be read ({exc.strerror})") from None
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise ConfigError(f"{where}: is not UTF-8 text") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{where}: is not valid TOML ({exc})") from None
        base_dir = source.resolve().parent
    else:
        where = "built-in defaults"
        base_dir = Path.cwd()
    return _settings_from(data, where, source, base_dir, environ, choice or TerminalChoice())


def _chosen(
    flag: str | None, flag_name: str, environ: Mapping[str, str], env_name: str
) -> tuple[str, str] | None:
    """The value given on the command line, else in the environment, with where it came from
    (for the message that refuses it); ``None`` when neither gives one. An empty environment
    variable counts as not set."""
    if flag is not None:
        return flag, flag_name
    value = environ.get(env_name)
    return (value, env_name) if value else None


def _settings_from(
    data: dict[str, Any],
    where: str,
    source: Path | None,
    base_dir: Path,
    environ: Mapping[str, str],
    choice: TerminalChoice,
) -> Settings:
    sections = {
        "database",
        "terminal",
        "login",
        "scanner",
        "printer",
        "labels",
        "warehouse",
        "intake",
        "picking",
        "packing",
        "shipping",
        "notify",
        "couriers",
        "channels",
        "returns",
        "receiving",
        "counting",
        "replenish",
    }
    for key in data:
        if key not in sections:
            raise ConfigError(f"{where}: [{key}]: unknown section")

    r = _Reader(where, "database", data.get("database", {}))
    url_in_file = "url" in r.table
    url = r.text("url", "sqlite:///var/picker.db")
    busy = r.number("busy_timeout_s", 5.0, 0.0, 600.0)
    r.done()
    env_url = environ.get("PICKER_DATABASE_URL")
    if env_url:
        url, where_url = env_url, "PICKER_DATABASE_URL"
        origin = "PICKER_DATABASE_URL"
    else:
        where_url = f"{where}: [database] url"
        origin = f"[database] url in {where}" if url_in_file else f"the default url ({url})"
        relative = url.strip().startswith("sqlite:///") and not Path(url.strip()[10:]).is_absolute()
        if relative:  # where a relative path leads is what surprises (a config elsewhere)
            origin += (
                f", a path read from {base_dir}" if source is None else ", read next to that file"
            )
            if not url_in_file and source is not None:
                origin = f"the default url ({url}) read next to {where}"
    database = DatabaseSettings(
        url=normalise_database_url(url, base_dir, where_url), busy_timeout_s=busy, origin=origin
    )

    r = _Reader(where, "terminal", data.get("terminal", {}))
    terminal_id = r.text("id", "T01")
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,16}", terminal_id):
        r.fail("id", f"{terminal_id!r} must be 1-16 letters, digits, '-', '_' or '.'")
    station = r.text("station", "picking", STATIONS)
    r.done()
    given = _chosen(choice.terminal, "--terminal", environ, "PICKER_TERMINAL")
    if given is not None:
        terminal_id, origin = given
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,16}", terminal_id):
            raise ConfigError(
                f"{origin}: {terminal_id!r} is no terminal id: 1-16 letters, digits, '-', '_' "
                "or '.'"
            )
    given = _chosen(choice.station, "--station", environ, "PICKER_STATION")
    if given is not None:
        station, origin = given
        if station not in STATIONS:
            raise ConfigError(
                f"{origin}: {station!r} is not a station; the stations are {', '.join(STATIONS)}"
            )
    terminal = TerminalSettings(id=terminal_id, station=station)

    r = _Reader(where, "login", data.get("login", {}))
    login = LoginSettings(
        max_failed_pins=r.integer("max_failed_pins", 5, 1, 100),
        lockout_minutes=r.integer("lockout_minutes", 5, 1, 24 * 60),
        pin_length=r.integer("pin_length", 4, 4, 8),
    )
    r.done()

    scanner_table = data.get("scanner", {})
    r = _Reader(where, "scanner", scanner_table)
    prefix, suffix = r.text("prefix", ""), r.text("suffix", "")
    burst_gap_ms = r.integer("burst_gap_ms", 30, 5, 500)
    pattern_table = r.table.pop("patterns", {})
    r.done()
    p = _Reader(where, "scanner.patterns", pattern_table)
    patterns: dict[str, re.Pattern[str]] = {}
    for kind in (*SCAN_PATTERN_KINDS, "parcel"):
        text = p.text(kind, DEFAULT_PATTERNS.get(kind, ""))
        if not text:
            continue  # parcel: optional (courier tracking numbers the router cannot tell apart)
        try:
            patterns[kind] = re.compile(text)
        except re.error as exc:
            p.fail(kind, f"{text!r} is not a valid regular expression ({exc})")
    p.done()
    scanner = ScannerSettings(
        prefix=prefix, suffix=suffix, burst_gap_ms=burst_gap_ms, patterns=patterns
    )

    r = _Reader(where, "printer", data.get("printer", {}))
    printer = PrinterSettings(
        backend=r.text("backend", "spool", PRINTER_BACKENDS),
        spool_dir=base_dir / r.text("spool_dir", "var/spool"),
        queue=r.text("queue", ""),
        host=r.text("host", ""),
        port=r.integer("port", 9100, 1, 65535),
        name=r.text("name", "") or terminal.id,  # replaced below by --printer / PICKER_PRINTER
        # At most a minute: the print queue takes over a send still going after two.
        timeout_s=r.number("timeout_s", 10.0, 0.5, 60.0),
        poll_s=r.number("poll_s", 2.0, 0.2, 600.0),
    )
    r.done()
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", printer.name):
        r.fail("name", f"{printer.name!r} must be 1-64 letters, digits, '-', '_' or '.'")
    given = _chosen(choice.printer, "--printer", environ, "PICKER_PRINTER")
    if given is not None:
        name, origin = given
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name):
            raise ConfigError(
                f"{origin}: {name!r} is no printer name: 1-64 letters, digits, '-', '_' or '.'"
            )
        printer = replace(printer, name=name)
    if printer.backend == "lp" and not printer.queue:
        r.fail("queue", 'must name the CUPS queue when backend = "lp"')
    if printer.backend == "tcp" and not printer.host:
        r.fail("host", 'must name the printer\'s host when backend = "tcp"')

    r = _Reader(where, "labels", data.get("labels", {}))
    labels = LabelSettings(
        dir=base_dir / r.text("dir", "labels"),
        format=r.text("format", "4x6", LABEL_FORMATS),
        output=r.text("output", "pdf", LABEL_OUTPUTS),
        fonts=_font_families(r),
    )
    r.done()

    r = _Reader(where, "warehouse", data.get("warehouse", {}))
    warehouse = WarehouseSettings(
        name=r.text("name", WarehouseSettings.name),
        street=r.text("street", WarehouseSettings.street),
        postal_code=r.text("postal_code", WarehouseSettings.postal_code),
        city=r.text("city", WarehouseSettings.city),
        country=r.text("country", WarehouseSettings.country),
        timezone=r.text("timezone", WarehouseSettings.timezone),
    )
    try:
        ZoneInfo(warehouse.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        r.fail("timezone", f"{warehouse.timezone!r} is not a time zone (e.g. Europe/Warsaw)")
    if not re.fullmatch(r"[A-Z]{2}", warehouse.country):
        r.fail("country", f"{warehouse.country!r} must be a two-letter country code such as PL")
    r.done()

    r = _Reader(where, "intake", data.get("intake", {}))
    gateways = r.table.pop("cod_gateways", list(DEFAULT_COD_GATEWAYS))
    if not isinstance(gateways, list) or not all(isinstance(g, str) for g in gateways):
        r.fail("cod_gateways", "must be a list of texts in quotes")
    max_orders = r.integer("max_orders_per_picker", 20, 1, 1000)
    r.done()
    r = _Reader(where, "shipping", data.get("shipping", {}))
    method_table = r.table.pop("methods", DEFAULT_SHIPPING)
    r.done()
    m = _Reader(where, "shipping.methods", method_table)
    shipping: dict[str, tuple[str, str]] = {}
    for method in list(m.table):
        target = m.text(method, "")
        courier, service = _split_method(target)
        if not courier or not service:
            m.fail(method, f'{target!r} must be COURIER/service, e.g. "POST/standard"')
        shipping[method.strip().lower()] = (courier, service)
    intake = IntakeSettings(
        shipping=shipping,
        cod_gateways=tuple(g.strip().lower() for g in gateways),
        max_orders_per_picker=max_orders,
    )

    r = _Reader(where, "picking", data.get("picking", {}))
    picking = PickingSettings(
        batch_size=r.integer("batch_size", 4, 1, 12), drop_off=r.text("drop_off", "packing staging")
    )
    r.done()

    r = _Reader(where, "packing", data.get("packing", {}))
    packing = PackingSettings(
        weight_tolerance_pct=r.number("weight_tolerance_pct", 10.0, 0.0, 100.0),
        weight_tolerance_g=r.integer("weight_tolerance_g", 30, 0, 10_000),
        auto_close=r.flag("auto_close", True),
        packing_slip=r.flag("packing_slip", False),
    )
    r.done()

    returns = _return_settings(_Reader(where, "returns", data.get("returns", {})))
    receiving = _receiving_settings(_Reader(where, "receiving", data.get("receiving", {})))
    counting = _counting_settings(_Reader(where, "counting", data.get("counting", {})))
    r = _Reader(where, "replenish", data.get("replenish", {}))
    replenish = ReplenishSettings(demand_hours=r.integer("demand_hours", 24, 1, 24 * 14))
    r.done()

    notify, couriers, channels = _notify_settings(data, where, base_dir)

    return Settings(
        returns=returns,
        receiving=receiving,
        counting=counting,
        replenish=replenish,
        notify=notify,
        couriers=couriers,
        channels=channels,
        source=source,
        base_dir=base_dir,
        database=database,
        terminal=terminal,
        login=login,
        scanner=scanner,
        picking=picking,
        packing=packing,
        printer=printer,
        labels=labels,
        warehouse=warehouse,
        intake=intake,
    )


def _codes(r: _Reader, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = r.table.pop(key, list(default))
    if not isinstance(value, list) or not all(
        isinstance(v, str) and re.fullmatch(r"[a-z0-9_]{1,32}", v) for v in value
    ):
        r.fail(key, 'must be a list of codes (a-z, 0-9, "_"; at most 32), e.g. ["damaged"]')
    return tuple(dict.fromkeys(value))


def _return_settings(r: _Reader) -> ReturnSettings:
    reasons = _codes(r, "reasons", DEFAULT_RETURN_REASONS)
    if not reasons:
        r.fail("reasons", "needs at least one reason")
    exchange_reasons = _codes(r, "exchange_reasons", DEFAULT_EXCHANGE_REASONS)
    unknown = [x for x in exchange_reasons if x not in reasons]
    if unknown:
        r.fail("exchange_reasons", f"{', '.join(unknown)} not in reasons")
    refund_shipping = r.text("refund_shipping", "full_return", REFUND_SHIPPING)
    quarantine_bin = r.text("quarantine_bin", "Q-00-00-0").strip().upper()
    try:
        quarantine_bin = parse_bin_code(quarantine_bin).code
    except BadBinCode as exc:
        r.fail("quarantine_bin", str(exc))
    auto_close = r.flag("auto_close", True)
    r.done()
    return ReturnSettings(reasons, exchange_reasons, refund_shipping, quarantine_bin, auto_close)


def _receiving_settings(r: _Reader) -> ReceivingSettings:
    dock_bin = r.text("dock_bin", "R-00-00-0").strip().upper()
    try:
        dock_bin = parse_bin_code(dock_bin).code
    except BadBinCode as exc:
        r.fail("dock_bin", str(exc))
    over = r.number("over_tolerance_pct", 0.0, 0.0, 1000.0)
    r.done()
    return ReceivingSettings(dock_bin=dock_bin, over_tolerance_pct=over)


def _threshold(r: _Reader, key: str, default: Threshold) -> Threshold:
    value = r.table.pop(key, None)
    if value is None:
        return default
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 1_000_000:
        return Threshold(units=value)
    if isinstance(value, str):
        m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*%\s*", value)
        if m and float(m.group(1)) <= 1000:
            return Threshold(pct=float(m.group(1)))
        if value.strip().isdigit():
            return Threshold(units=int(value.strip()))
    r.fail(
        key,
        f'must be a number of units (e.g. 3) or a percentage in quotes (e.g. "5%"), not {value!r}',
    )
    raise AssertionError  # r.fail raises


def _counting_settings(r: _Reader) -> CountingSettings:
    recount = _threshold(r, "recount_over", Threshold(units=0))
    approve = _threshold(r, "approve_over", Threshold(units=5))
    r.done()
    return CountingSettings(recount_over=recount, approve_over=approve)


# --- telling customers and shops ([notify], [couriers.CODE], [channels.NAME]) ----------------

NOTIFY_EVENTS = tuple(EVENTS)
#: Days without a courier event after which a handed-over parcel is stale (a courier's
#: ``stale_days`` overrides it).
DEFAULT_STALE_DAYS = 3
NOTIFY_EVENTS_ON = tuple(name for name, e in EVENTS.items() if e.default_on)
SMTP_SCHEMES = ("smtp", "smtp+starttls", "smtps", "file")
CHANNEL_KINDS = ("shopify", "woocommerce")


@dataclass(frozen=True)
class NotifySettings:
    #: Where mail goes: smtp://host:port, smtp+starttls://host:port, smtps://host:port, or
    #: file://FOLDER (one .eml file per message, relative to the config's folder). Empty (the
    #: built-in default): mail is not configured, and the customers' mail waits, queued.
    smtp_url: str = ""
    #: The mail's From: "Name <address>" or an address.
    sender: str = "Picker Demo Warehouse <orders@picker.invalid>"
    #: The SMTP login (the password only from $PICKER_SMTP_PASSWORD); empty = no login.
    user: str = ""
    #: CA certificates (PEM) to trust for the mail server's TLS instead of the system's (a
    #: server with a private CA or a self-signed certificate); None = the system's.
    smtp_cafile: Path | None = None
    #: Language of an order that names none (Shopify customer_locale), e.g. "en" or "pl".
    default_locale: str = "en"
    #: A folder of templates that take the place of the shipped ones of the same name.
    templates_dir: Path | None = None
    #: Event name → told or not.
    events: Mapping[str, bool] = field(
        default_factory=lambda: {e: e in NOTIFY_EVENTS_ON for e in NOTIFY_EVENTS}
    )
    #: A message that could not be sent for a passing reason is failed after this many hours.
    give_up_after_h: float = 24.0
    #: Run a dispatcher in the background of the terminal (``picker`` / ``picker run``).
    dispatch_in_terminal: bool = False
    #: Seconds a dispatcher owns the messages it claimed; after that, another may send them.
    lease_s: float = 120.0
    #: Seconds to reach a mail server or shop and have its answer.
    timeout_s: float = 30.0
    #: Seconds between a watching dispatcher's looks at the outbox.
    poll_s: float = 5.0
    #: Messages a dispatcher claims at once (sent over one connection).
    batch: int = 50

    @property
    def mail_configured(self) -> bool:
        """Whether mail has anywhere to go (an smtp_url is set)."""
        return bool(self.smtp_url)

    @property
    def folder(self) -> Path | None:
        """The mail folder of a file:// smtp_url (None for a server)."""
        if not self.smtp_url.startswith("file://"):
            return None
        return Path(self.smtp_url.removeprefix("file://"))


@dataclass(frozen=True)
class CourierSettings:
    #: Where a customer follows a parcel: a URL with {tracking} in it (else the database's).
    tracking_url: str = ""
    #: The courier's own status words (normalised: lower case, ``_`` for spaces) → ours
    #: (``[couriers.CODE.statuses]``, read by ``picker tracking import``).
    statuses: Mapping[str, str] = field(default_factory=dict)
    #: A handed-over parcel with no courier event for this many days is stale.
    stale_days: int = DEFAULT_STALE_DAYS


#: The oldest Shopify Admin REST version Picker speaks (fulfilments of fulfilment orders).
SHOPIFY_OLDEST_API = "2025-01"
_SHOPIFY_BASE = re.compile(r"https?://[^/?#\s]+/admin/api/(\d{4}-\d{2})")
_WOO_BASE = re.compile(r"https?://[^?#\s]+/wc/v3")


@dataclass(frozen=True)
class ChannelSettings:
    name: str
    kind: str
    #: The base URL of the shop's API; Picker adds each request's path. Shopify: the Admin
    #: REST API with its version, ``https://SHOP.myshopify.com/admin/api/2025-01``;
    #: WooCommerce: ``https://SHOP/wp-json/wc/v3``. Empty = none (the shop message is
    #: skipped, saying so).
    fulfilment_url: str = ""
    #: The header that carries the shop's credential, e.g. X-Shopify-Access-Token or
    #: Authorization; its value is read from the environment variable ``auth_env``.
    auth_header: str = ""
    auth_env: str = ""


def _notify_settings(
    data: dict[str, Any], where: str, base_dir: Path
) -> tuple[NotifySettings, dict[str, CourierSettings], dict[str, ChannelSettings]]:
    r = _Reader(where, "notify", data.get("notify", {}))
    events_table = r.table.pop("events", {})
    smtp_url = r.text("smtp_url", NotifySettings.smtp_url).strip()
    scheme = smtp_url.partition("://")[0]
    if not smtp_url:
        pass  # mail is not configured: the customers' mail waits, queued
    elif "://" not in smtp_url or scheme not in SMTP_SCHEMES:
        r.fail("smtp_url", f"{smtp_url!r} must start with one of "
                           + ", ".join(f"{s}://" for s in SMTP_SCHEMES))  # fmt: skip
    elif scheme == "file":
        folder = Path(smtp_url.removeprefix("file://"))
        if not str(folder) or str(folder) == ".":
            r.fail("smtp_url", "file:// must name a folder, e.g. file://var/mail")
        smtp_url = "file://" + str(folder if folder.is_absolute() else base_dir / folder)
    else:
        host_port = smtp_url.partition("://")[2].rstrip("/")
        host, _, port = host_port.rpartition(":") if ":" in host_port else (host_port, "", "")
        if not host or (port and not port.isdigit()):
            r.fail("smtp_url", f"{smtp_url!r} must name a host (and a port), e.g. "
                               "smtp://mail.example.com:587")  # fmt: skip
    templates = r.text("templates_dir", "")
    templates_dir = (base_dir / templates) if templates.strip() else None
    if templates_dir is not None and not templates_dir.is_dir():
        # Else every mail would quietly go out in the shipped templates, not the site's own.
        what = "is not a folder" if templates_dir.exists() else "does not exist"
        r.fail("templates_dir", f"{templates_dir} {what}: name a folder of templates, or "
                                "leave templates_dir out to use the shipped ones")  # fmt: skip
    cafile = r.text("smtp_cafile", "")
    smtp_cafile = (base_dir / cafile) if cafile.strip() else None
    if smtp_cafile is not None and not smtp_cafile.is_file():
        r.fail("smtp_cafile", f"{smtp_cafile} is not a file of CA certificates (PEM)")
    e = _Reader(where, "notify.events", events_table)
    events = {name: e.flag(name, name in NOTIFY_EVENTS_ON) for name in NOTIFY_EVENTS}
    for key in e.table:
        e.fail(key, f"is not an event Picker notifies ({', '.join(NOTIFY_EVENTS)})")
    notify = NotifySettings(
        smtp_url=smtp_url,
        sender=r.text("sender", NotifySettings.sender),
        user=r.text("user", ""),
        smtp_cafile=smtp_cafile,
        default_locale=r.text("default_locale", "en"),
        templates_dir=templates_dir,
        give_up_after_h=r.number("give_up_after_h", 24.0, 0.01, 24.0 * 365),
        dispatch_in_terminal=r.flag("dispatch_in_terminal", NotifySettings.dispatch_in_terminal),
        lease_s=r.number("lease_s", 120.0, 1.0, 3600.0),
        timeout_s=r.number("timeout_s", 30.0, 0.5, 600.0),
        poll_s=r.number("poll_s", 5.0, 0.1, 3600.0),
        batch=r.integer("batch", 50, 1, 10_000),
        events=events,
    )
    if "@" not in notify.sender:
        r.fail("sender", f"{notify.sender!r} must hold an e-mail address")
    if not re.fullmatch(r"[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*", notify.default_locale):
        r.fail("default_locale", f"{notify.default_locale!r} is not a language tag such as en")
    r.done()

    couriers: dict[str, CourierSettings] = {}
    r = _Reader(where, "couriers", data.get("couriers", {}))
    for code in list(r.table):
        c = _Reader(where, f"couriers.{code}", r.table.pop(code))
        url = c.text("tracking_url", "")
        if url and "{tracking}" not in url:
            c.fail("tracking_url", f"{url!r} must contain {{tracking}}")
        statuses = _courier_statuses(_Reader(where, f"couriers.{code}.statuses",
                                             c.table.pop("statuses", {})))  # fmt: skip
        stale_days = c.integer("stale_days", DEFAULT_STALE_DAYS, 1, 365)
        c.done()
        couriers[code.strip().upper()] = CourierSettings(
            tracking_url=url, statuses=statuses, stale_days=stale_days
        )

    channels: dict[str, ChannelSettings] = {}
    r = _Reader(where, "channels", data.get("channels", {}))
    for name in list(r.table):
        c = _Reader(where, f"channels.{name}", r.table.pop(name))
        channel = ChannelSettings(
            name=name,
            kind=c.text("kind", "", CHANNEL_KINDS),
            fulfilment_url=c.text("fulfilment_url", ""),
            auth_header=c.text("auth_header", ""),
            auth_env=c.text("auth_env", ""),
        )
        url = channel.fulfilment_url
        if url:
            _check_api_base(c, channel.kind, url)
            channel = replace(channel, fulfilment_url=url.rstrip("/"))
        if bool(channel.auth_header) != bool(channel.auth_env):
            c.fail("auth_header", "auth_header and auth_env go together (the header's value is "
                                  "read from that environment variable)")  # fmt: skip
        c.done()
        channels[name] = channel
    return notify, couriers, channels


def _courier_statuses(r: _Reader) -> dict[str, str]:
    """A courier's own status words → ours: each value one of the tracking statuses."""
    known = tuple(s.value for s in CourierStatus)
    words: dict[str, str] = {}
    for word in list(r.table):
        ours = r.text(word, "", known)
        if not normalise_word(word):
            r.fail(word, "an empty word maps nothing")
        words[normalise_word(word)] = ours
    return words


def _check_api_base(c: _Reader, kind: str, url: str) -> None:
    """A channel's fulfilment_url is its API's base, of the form its kind needs."""
    if not url.startswith(("http://", "https://")):
        c.fail("fulfilment_url", f"{url!r} must start with http:// or https://")
    if "{" in url or "}" in url:
        c.fail(
            "fulfilment_url",
            f"{url!r}: name the API's base URL without {{placeholders}} (Picker adds each "
            "request's path and the shop's order id)",
        )
    base = url.rstrip("/")
    if kind == "shopify":
        found = _SHOPIFY_BASE.fullmatch(base)
        if found is None:
            c.fail(
                "fulfilment_url",
                f"{url!r} must be the shop's Admin API with its version, e.g. "
                "https://SHOP.myshopify.com/admin/api/2025-01",
            )
        elif found.group(1) < SHOPIFY_OLDEST_API:
            c.fail("fulfilment_url", f"API version {found.group(1)}: Picker speaks "
                                     f"{SHOPIFY_OLDEST_API} or later")  # fmt: skip
    elif kind == "woocommerce" and _WOO_BASE.fullmatch(base) is None:
        c.fail("fulfilment_url", f"{url!r} must be the shop's REST API v3, e.g. "
                                 "https://shop.example.com/wp-json/wc/v3")  # fmt: skip


def normalise_database_url(url: str, base_dir: Path, where: str) -> str:
    """Check the database URL; resolve a relative SQLite path against the config's folder."""
    url = url.strip()
    shown = _hide_password(url)
    try:
        make_url(url).port  # noqa: B018 - reading the port is what fails on a bad one
    except (ArgumentError, ValueError):
        raise ConfigError(f"{where}: {shown!r} is not a well-formed database URL") from None
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if not path:
            raise ConfigError(f"{where}: {shown!r} names no SQLite file")
        if path == ":memory:":
            raise ConfigError(f"{where}: an in-memory database would lose every scan; name a file")
        file = Path(path)
        if not file.is_absolute():
            file = base_dir / file
        return f"sqlite:///{file}"
    for scheme in ("postgresql://", "postgresql+psycopg://", "postgres://"):
        if url.startswith(scheme):
            rest = url.removeprefix(scheme)
            if not rest or rest == "/":
                raise ConfigError(f"{where}: {shown!r} names no PostgreSQL server")
            return "postgresql+psycopg://" + rest
    raise ConfigError(
        f"{where}: {shown!r} is not a database URL Picker can use "
        "(sqlite:///path/to/file.db or postgresql://user@host/dbname)"
    )


def _hide_password(url: str) -> str:
    """The URL fit for an error message: a password is replaced by ***."""
    return re.sub(r"^([a-z0-9+]+://[^:/@]*:)[^@]*@", r"\1***@", url)
