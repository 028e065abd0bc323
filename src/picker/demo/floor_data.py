"""What the demo floor is made of: status mix, locales, products, couriers, people.

The status mix, locales and currencies, product kinds, bins, couriers and packaging, notes,
hostile names, and the people orders are addressed to.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import time

from faker import Faker

from picker.config import IntakeSettings, PickingSettings
from picker.domain.statuses import OrderStatus

S = OrderStatus

#: The floor right now: the share of each status among the most recent orders.
FLOOR_MIX: list[tuple[OrderStatus, float]] = [
    (S.ON_HOLD, 0.07),
    (S.UNHANDLED, 0.16),
    (S.ASSIGNED, 0.20),
    (S.PICKING, 0.07),
    (S.PICKED, 0.08),
    (S.PACKING, 0.05),
    (S.PACKED, 0.13),
    (S.EXECUTED, 0.14),
    (S.DELIVERED, 0.07),
    (S.CANCELLED, 0.03),
]
#: How many of the newest orders form the live floor; older ones are history.
LIVE_ORDERS = 200
#: History comes at a busy floor's pace, but spans at least a month however few orders there are.
HISTORY_PER_DAY = 20_000
HISTORY_MIN_DAYS = 30
CHUNK = 5_000

# (locale, country, currency, share of orders paid cash on delivery)
LOCALES: list[tuple[str, str, str, float]] = [
    ("pl_PL", "PL", "PLN", 0.30),
    ("de_DE", "DE", "EUR", 0.05),
    ("cs_CZ", "CZ", "CZK", 0.25),
    ("sk_SK", "SK", "EUR", 0.20),
    ("vi_VN", "VN", "VND", 0.40),
    ("ja_JP", "JP", "JPY", 0.05),
    ("el_GR", "GR", "EUR", 0.15),
    ("uk_UA", "UA", "UAH", 0.30),
]
LOCALE_WEIGHTS = [30, 18, 10, 6, 10, 8, 8, 10]
LOCALE_IDX = range(len(LOCALES))
LOCALE_CUM = list(itertools.accumulate(LOCALE_WEIGHTS))
# A rough price scale per currency (units per euro), so totals look right in each currency.
CURRENCY_SCALE = {"PLN": 4, "EUR": 1, "CZK": 25, "VND": 27000, "JPY": 160, "UAH": 45}
CURRENCY_DIGITS = {"PLN": 2, "EUR": 2, "CZK": 2, "VND": 0, "JPY": 0, "UAH": 2}

PRODUCT_KINDS: list[tuple[str, int, int, bool]] = [
    # (noun, min weight g, max weight g, fragile)
    ("T-shirt", 150, 250, False),
    ("Hoodie", 450, 800, False),
    ("Socks 3-pack", 90, 150, False),
    ("Mug", 300, 450, True),
    ("Wine glass set", 800, 1400, True),
    ("Glass vase", 600, 1500, True),
    ("Notebook", 200, 400, False),
    ("Fountain pen", 30, 80, False),
    ("Headphones", 180, 350, False),
    ("Phone case", 30, 60, False),
    ("USB-C cable", 40, 90, False),
    ("Charger", 80, 200, False),
    ("Backpack", 600, 1200, False),
    ("Water bottle", 200, 400, False),
    ("Scented candle", 250, 500, True),
    ("Desk lamp", 900, 1800, False),
    ("Jigsaw puzzle", 500, 900, False),
    ("Loose-leaf tea", 100, 250, False),
    ("Coffee beans", 250, 1000, False),
    ("Yoga mat", 900, 1600, False),
    ("Ceramic plate set", 1500, 3000, True),
    ("Board game", 700, 1500, False),
    ("Sunglasses", 30, 60, True),
    ("Cast-iron pan", 2000, 3500, False),
]
COLOURS = ["Black", "White", "Navy", "Forest", "Sand", "Coral", "Grey", "Ochre", "Plum", "Teal"]
SIZES = ["S", "M", "L", "XL", "Mini", "Classic", "Large"]
# GS1 prefixes of the countries the demo suppliers come from.
GS1_PREFIXES = ["400", "590", "859", "893", "450", "520", "482", "380"]

#: Minutes from one status to the next on the floor (randomised ±50% per order).
#: Statuses of orders a packer has had in hand (orders.packer_id is kept after packing).
PACKED_BY = frozenset({S.PACKING, S.PACKED, S.EXECUTED, S.DELIVERED, S.RETURNED})

STEP_MINUTES = {
    S.UNHANDLED: 0,
    S.ASSIGNED: 4,
    S.PICKING: 20,
    S.PICKED: 12,
    S.PACKING: 15,
    S.PACKED: 6,
    S.EXECUTED: 90,
    S.DELIVERED: 60 * 30,
    S.RETURNED: 60 * 24 * 5,
    S.CANCELLED: 30,
    S.ON_HOLD: 0,
}

ZONES = [("A", 4, 6, 3), ("B", 4, 5, 3), ("C", 4, 6, 3)]  # zone, aisles, bays, levels
ZONE_NAMES = {"A": "Fast movers", "B": "Medium movers", "C": "Slow movers", "D": "Overflow"}
#: Zones declared with no bins yet: room a stock count may fill (the intake fixtures use D).
EMPTY_ZONES = ("D",)
#: The receiving dock's address: ``[receiving] dock_bin``'s default, R-00-00-0.
DOCK = ("R", 0, 0, 0)

NOTES = [
    "Please leave at the door.",
    "Ring twice.",
    "Call before delivery.",
    "Deliver after 5 pm.",
    "Gift — no invoice in the parcel please.",
]
GIFTS = ["Happy birthday!", "All the best, from all of us.", "Wszystkiego najlepszego!"]
#: Why a held order is held, each as the floor would have held it: short of stock (its first
#: SKU has nothing free), no postal code, a shipping method no courier has, not paid.
HOLDS = ["short", "address", "shipping", "payment"]
#: The shipping method of an order held for an unknown one.
UNKNOWN_SHIPPING = "pickup_point_42"
# Customer text is stored raw and escaped on display: the demo carries a few hostile names.
HOSTILE_NAMES = [
    "[bold red]Admin[/] \x1b[31mRed\x1b[0m",
    "Robert'); DROP TABLE orders;--",
    "<script>alert(1)</script> Ñoño",
]


@dataclass(frozen=True)
class DemoOperator:
    badge: str
    name: str
    roles: str
    pin: str


@dataclass(frozen=True)
class DemoCourier:
    code: str
    name: str
    scheme: str
    prefix: str
    country: str | None
    range_start: int | None
    range_end: int | None
    cutoff: time
    layout: str
    lane: str
    services: tuple[tuple[str, str, bool], ...]  # (code, name, express)
    #: Where a customer follows a parcel ({tracking} is its number); example.com hosts.
    tracking_url: str | None = None


COURIERS = [
    DemoCourier(
        "POST",
        "National Post",
        "s10",
        "EE",
        "PL",
        None,
        None,
        time(15, 0),
        "post-4x6",
        "LANE-1",
        (("standard", "Priority parcel", False), ("ems", "EMS express", True)),
        "https://post.example.com/track?n={tracking}",
    ),
    DemoCourier(
        "SWIFT",
        "Swift Parcel",
        "mod10",
        "73",
        None,
        None,
        None,
        time(16, 30),
        "swift-4x6",
        "LANE-2",
        (("standard", "Standard", False), ("express", "Express 12:00", True)),
        "https://swift.example.com/t/{tracking}",
    ),
    DemoCourier(
        "CITY",
        "CityRun Couriers",
        "range",
        "CR",
        None,
        500_000,
        999_999,
        time(18, 0),
        "city-a6",
        "LANE-3",
        (("sameday", "Same day", True), ("nextday", "Next day", False)),
        "https://cityrun.example.com/{tracking}",
    ),
]

PACKAGING = [
    # code, barcode, name, tare g, l, w, h mm. The code is what the packing table shows, the
    # barcode what the packer scans: one name, so what is read off the screen scans.
    ("BOX-ENVM", "BOX-ENVM", "Bubble envelope M", 20, 250, 180, 30),
    ("BOX-S", "BOX-S", "Carton S", 120, 200, 150, 100),
    ("BOX-M", "BOX-M", "Carton M", 250, 350, 250, 150),
    ("BOX-L", "BOX-L", "Carton L", 450, 500, 400, 300),
]


Person = tuple[str, str, str, str, str, str]  # name, email, street, postcode, city, phone


def make_people(seed: int, size: int) -> list[list[Person]]:
    """Per locale, people drawn once from Faker and then reused: a million orders stay fast."""
    people = []
    for i, (locale, _country, _cur, _cod) in enumerate(LOCALES):
        fake = Faker(locale)
        fake.seed_instance(seed * 1000 + i)
        rows = []
        for _ in range(size):
            name = fake.name()
            email = f"{fake.user_name()}@{fake.free_email_domain()}"
            rows.append(
                (
                    name,
                    email,
                    fake.street_address(),
                    fake.postcode(),
                    fake.city(),
                    fake.phone_number(),
                )
            )
        people.append(rows)
    return people


def live_counts(total: int, *, pickers: int, packers: int) -> dict[OrderStatus, int]:
    """How many live orders of each status, as the floor's people can hold them: a packer packs
    one order at a time, a picker starts at most a batch and is given at most
    ``max_orders_per_picker`` (the defaults of config.toml); what does not fit waits a step
    earlier (picked at packing, assigned, reserved for the next picker with room)."""
    counts = {status: int(total * share) for status, share in FLOOR_MIX}
    counts[S.UNHANDLED] += total - sum(counts.values())

    def fit(status: OrderStatus, most: int, back_to: OrderStatus) -> None:
        extra = max(0, counts[status] - most)
        counts[status] -= extra
        counts[back_to] += extra

    fit(S.PACKING, packers, S.PICKED)
    fit(S.PICKING, pickers * PickingSettings.batch_size, S.ASSIGNED)
    fit(S.ASSIGNED, pickers * IntakeSettings.max_orders_per_picker - counts[S.PICKING], S.UNHANDLED)
    return counts
