"""Synthetic accounts: ids, names, tiers, seats, ARR, CSMs and contract dates."""

from __future__ import annotations

import random
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from .records import DAY_MS

__all__ = ["CSM_ROSTER", "TIER_SHARES", "Account", "account_id", "make_accounts", "power_law_seats"]

#: share of accounts per tier; tiers go to the accounts with the most seats (with noise)
TIER_SHARES = {"strategic": 0.10, "key": 0.25, "standard": 0.65}

CSM_ROSTER = (
    "Priya Raman", "Marcus Oyelaran", "Sofia Lindqvist", "Daniel Okafor",
    "Hannah Becker", "Luis Carvalho", "Mei Tanaka", "Aisha Rahman",
)

_NAME_HEADS = (
    "Northwind", "Bluefin", "Cedar", "Granite", "Harbor", "Ironwood", "Juniper", "Keystone",
    "Lakeside", "Meridian", "Nimbus", "Oakridge", "Pinnacle", "Quarry", "Redwood", "Summit",
    "Tidewater", "Upland", "Vantage", "Westbrook", "Alder", "Beacon", "Copperline", "Driftwood",
    "Evergreen", "Foxglove", "Gullwing", "Highmark", "Inland", "Kestrel", "Lumen", "Mosaic",
    "Nordic", "Orchard", "Prairie", "Riverstone", "Silverleaf", "Trailhead", "Wildflower", "Zenith",
    "Atlas", "Brightwater", "Crescent", "Delta", "Falcon", "Glacier", "Horizon", "Ember",
)
_NAME_TRADES = (
    "Logistics", "Analytics", "Health", "Foods", "Robotics", "Insurance", "Media", "Energy",
    "Biotech", "Freight", "Retail", "Labs", "Capital", "Software", "Dental", "Apparel",
    "Engineering", "Telecom", "Hospitality", "Architects", "Pharma", "Outdoor", "Learning",
    "Payments", "Security", "Mobility", "Realty", "Brewing", "Clinics", "Systems",
)
_NAME_FORMS = ("Inc.", "LLC", "GmbH", "Ltd", "Group", "Co.", "AB", "S.A.")


@dataclass(frozen=True, slots=True)
class Account:
    """An account and the hidden facts about it that shape its traffic."""

    index: int
    account_id: str
    name: str
    tier: str
    seats: int
    arr: float
    csm: str
    contract_start: date
    renewal_date: date
    #: day of the period on which the contract starts, or None if it started before the period
    onboarding_day: int | None = None
    #: days from contract start to first use of a core feature (time to value)
    ttv_days: int = 0

    def profile(self) -> dict:
        """Return the AccountProfile contract value."""
        return {
            "account_id": self.account_id,
            "name": self.name,
            "tier": self.tier,
            "seats": self.seats,
            "arr": self.arr,
            "csm": self.csm,
            "contract_start": self.contract_start.isoformat(),
            "renewal_date": self.renewal_date.isoformat(),
        }


def account_id(index: int) -> str:
    """Return the id of the account with 0-based `index`: `acc-00001` for 0."""
    return f"acc-{index + 1:05d}"


def power_law_seats(rng: random.Random, lo: int, hi: int, alpha: float) -> int:
    """Draw seats from a Zipf-like power law p(s) ~ s**-alpha on [lo, hi]."""
    a = 1.0 - alpha
    lo_a, hi_a = lo**a, (hi + 1) ** a
    seats = int((lo_a + rng.random() * (hi_a - lo_a)) ** (1.0 / a))
    return min(max(seats, lo), hi)


_PRICE_PER_SEAT = {"standard": (360, 720), "key": (600, 1000), "strategic": (900, 1500)}
_PLATFORM_FEE = {"standard": (0, 5_000), "key": (10_000, 30_000), "strategic": (40_000, 120_000)}


def _tiers_by_size(rng: random.Random, seats: list[int]) -> list[str]:
    n = len(seats)
    n_strategic = round(n * TIER_SHARES["strategic"])
    n_key = round(n * TIER_SHARES["key"])
    # Big accounts tend to be strategic, but not strictly: noise lets a few small ones in.
    score = [s * rng.lognormvariate(0.0, 0.5) for s in seats]
    ranked = sorted(range(n), key=lambda i: (-score[i], i))
    tiers = ["standard"] * n
    for rank, i in enumerate(ranked):
        if rank < n_strategic:
            tiers[i] = "strategic"
        elif rank < n_strategic + n_key:
            tiers[i] = "key"
    return tiers


def _names(rng: random.Random, n: int) -> list[str]:
    combos = len(_NAME_HEADS) * len(_NAME_TRADES) * len(_NAME_FORMS)
    picks = rng.sample(range(combos), n) if n <= combos else [rng.randrange(combos) for _ in range(n)]
    names = []
    seen: dict[str, int] = {}
    for p in picks:
        head, rest = divmod(p, len(_NAME_TRADES) * len(_NAME_FORMS))
        trade, form = divmod(rest, len(_NAME_FORMS))
        name = f"{_NAME_HEADS[head]} {_NAME_TRADES[trade]} {_NAME_FORMS[form]}"
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return names


def make_accounts(
    rng: random.Random,
    count: int,
    *,
    start_ms: int,
    days: int,
    draw_seats: Callable[[random.Random], int],
    onboarding: Collection[int] = (),
) -> list[Account]:
    """Build `count` accounts; those whose index is in `onboarding` sign up during the period."""
    seats = [draw_seats(rng) for _ in range(count)]
    tiers = _tiers_by_size(rng, seats)
    names = _names(rng, count)
    start_date = datetime.fromtimestamp(start_ms // DAY_MS * 86_400, tz=UTC).date()
    accounts = []
    for i in range(count):
        tier = tiers[i]
        price = rng.uniform(*_PRICE_PER_SEAT[tier])
        arr = float(round((seats[i] * price + rng.uniform(*_PLATFORM_FEE[tier])) / 100) * 100)
        onboarding_day = ttv_days = None
        if i in onboarding:
            onboarding_day = rng.randrange(0, max(1, days // 3))
            contract_start = start_date + timedelta(days=onboarding_day)
            renewal = contract_start + timedelta(days=365)
            ttv_days = rng.randint(2, 12)
        else:
            contract_start = start_date - timedelta(days=rng.randint(60, 1500))
            years = (start_date - contract_start).days // 365 + 1
            renewal = contract_start + timedelta(days=365 * years)
        accounts.append(
            Account(
                index=i,
                account_id=account_id(i),
                name=names[i],
                tier=tier,
                seats=seats[i],
                arr=arr,
                csm=rng.choice(CSM_ROSTER),
                contract_start=contract_start,
                renewal_date=renewal,
                onboarding_day=onboarding_day,
                ttv_days=ttv_days or 0,
            )
        )
    return accounts
