"""Product usage for `generate`: users with their own habits, weekday seasonality, feature mix."""

from __future__ import annotations

import math
import random
from bisect import bisect
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from .accounts import Account
from .records import DAY_MS, HOUR_MS, MINUTE_MS, Record, TimestampFormatter
from .scenarios import DROP_RATIO

__all__ = [
    "CORE_FEATURES",
    "FEATURES",
    "RFC3339_SHARE",
    "OTHER_FEATURES",
    "WEEKDAY_FACTOR",
    "UsageProfile",
    "build_usage_profile",
    "day_usage",
    "encode_time",
    "user_id",
    "weekday",
    "weekday_factor",
]

CORE_FEATURES = ("dashboards", "reports", "workflows", "integrations")
OTHER_FEATURES = ("settings", "search", "export", "login")
FEATURES = CORE_FEATURES + OTHER_FEATURES

#: activity by weekday, Monday first: Friday tails off, weekends are much lower
WEEKDAY_FACTOR = (1.0, 1.0, 1.0, 0.97, 0.85, 0.12, 0.08)

# How likely a healthy account is to have adopted each core feature at all.
_CORE_ADOPTION = (0.98, 0.9, 0.7, 0.55)
_OTHER_WEIGHT = (0.3, 0.8, 0.4, 0.0)  # login is the session opener, not drawn from the mix
_PRE_VALUE_FEATURES = ("login", "settings", "search")
#: share of events whose occurred_at is an RFC 3339 string; the rest carry epoch ms
RFC3339_SHARE = 0.8
_SOURCES = ("web", "web", "web", "mobile", "api")


def weekday(ms: int) -> int:
    """Return the UTC weekday of `ms`, Monday 0 (1970-01-01 was a Thursday)."""
    return (ms // DAY_MS + 3) % 7


def weekday_factor(ms: int) -> float:
    """Return the activity factor of the UTC weekday of `ms`."""
    return WEEKDAY_FACTOR[weekday(ms)]


def user_id(account: Account, n: int) -> str:
    """Return the id of user `n` of `account`."""
    return f"user-{account.account_id}-{n}"


def encode_time(rng: random.Random, ms: int, fmt: TimestampFormatter) -> str | int:
    """Encode `ms` as RFC 3339 (80%) or epoch ms (20%), so consumers see both forms."""
    return fmt(ms) if rng.random() < RFC3339_SHARE else ms


@dataclass(frozen=True, slots=True)
class UsageProfile:
    """The habits of one account's users: fixed for the whole period."""

    account: Account
    #: chance each user is active on a full-activity weekday
    propensity: tuple[float, ...]
    #: each user's usual session start, ms after the day's start
    session_start_ms: tuple[int, ...]
    #: users who leave when the account drops (DROP_RATIO of them)
    churn_set: frozenset[int]
    feature_cum_weights: tuple[float, ...]


def build_usage_profile(account: Account, rng: random.Random) -> UsageProfile:
    """Draw the users and feature mix of `account`: 60-85% of seats active in a normal week."""
    users = account.seats
    # Engaged users show up most weekdays; the rest hold a seat and hardly ever log in.
    engaged = set(rng.sample(range(users), round(users * rng.uniform(0.63, 0.87))))
    propensity = tuple(
        rng.uniform(0.4, 0.8) if n in engaged else rng.uniform(0.0, 0.01) for n in range(users)
    )
    session_start = tuple(int(rng.uniform(7.0, 15.0) * HOUR_MS) for _ in range(users))
    # A drop takes at least DROP_RATIO of the engaged users (always leaving one, so a drop is
    # never silence) and every dormant one: active users fall by DROP_RATIO or a little more.
    leaving = min(math.ceil(len(engaged) * DROP_RATIO), max(len(engaged) - 1, 0))
    dormant = [n for n in range(users) if n not in engaged]
    churn_set = frozenset(rng.sample(sorted(engaged), leaving) + dormant)
    core = [rng.uniform(1.0, 4.0) if rng.random() < p else 0.05 for p in _CORE_ADOPTION]
    weights = core + list(_OTHER_WEIGHT)
    return UsageProfile(
        account=account,
        propensity=propensity,
        session_start_ms=session_start,
        churn_set=churn_set,
        feature_cum_weights=tuple(accumulate(weights)),
    )


def day_usage(
    profile: UsageProfile,
    rng: random.Random,
    day_start_ms: int,
    *,
    activity: float,
    churned_away: bool,
    core_ready: bool,
    seq: list[int],
    fmt: TimestampFormatter,
    out: list[Record],
) -> None:
    """Append one day of `profile`'s usage to `out`.

    `activity` scales every user's chance of showing up (weekday, onboarding ramp);
    `churned_away` keeps the churn set away; without `core_ready` (before time to value) users
    only log in and look around. `seq` holds the account's next event number.
    """
    account = profile.account
    acc_id = account.account_id
    day_end = day_start_ms + DAY_MS - 1
    rand = rng.random
    churn = profile.churn_set
    cum = profile.feature_cum_weights
    total = cum[-1]
    for n, p in enumerate(profile.propensity):
        if churned_away and n in churn:
            continue
        if rand() >= p * activity:
            continue
        uid = user_id(account, n)
        t = day_start_ms + profile.session_start_ms[n] + int(rng.gauss(0.0, 1.5) * HOUR_MS)
        t = max(day_start_ms, t)
        for k in range(rng.randint(2, 7)):
            if t > day_end:
                break
            if k == 0 and rand() < 0.7:
                feature = "login"
            elif core_ready:
                feature = FEATURES[bisect(cum, rand() * total)]
            else:
                feature = _PRE_VALUE_FEATURES[int(rand() * len(_PRE_VALUE_FEATURES))]
            value: dict[str, Any] = {
                "event_id": f"u-{acc_id}-{seq[0]}",
                "account_id": acc_id,
                "user_id": uid,
                "feature": feature,
                "occurred_at": fmt(t) if rand() < RFC3339_SHARE else t,
            }
            if rand() < 0.5:
                value["properties"] = {"source": _SOURCES[int(rand() * len(_SOURCES))]}
            seq[0] += 1
            out.append(Record("usage", acc_id, value, t))
            t += 20_000 + int(rand() * 15 * MINUTE_MS)
