"""Support tickets (opened -> updated -> closed, with CSAT) and NPS answers for `generate`."""

from __future__ import annotations

import math
import random

from healthmon.core.vocabulary import TICKET_PRIORITIES

from .accounts import Account
from .records import DAY_MS, HOUR_MS, Record, TimestampFormatter
from .usage import encode_time, user_id

__all__ = ["day_nps", "day_tickets", "poisson"]

_PRIORITIES = TICKET_PRIORITIES  # the weights below follow its order
_HEALTHY_PRIORITY_WEIGHTS = (35, 50, 12, 3)
_SPIKE_PRIORITY_WEIGHTS = (0, 0, 55, 45)
_HEALTHY_CSAT_WEIGHTS = (2, 3, 10, 30, 55)  # csat 1..5
_SPIKE_CSAT_WEIGHTS = (70, 30, 0, 0, 0)
# Time to close by priority: urgent work is done within a day, low tickets linger.
_CLOSE_WITHIN_MS = {"low": 5 * DAY_MS, "normal": 3 * DAY_MS, "high": 2 * DAY_MS, "urgent": DAY_MS}


def poisson(rng: random.Random, lam: float) -> int:
    """Draw from Poisson(lam) (Knuth; lam is small here)."""
    limit, k, prod = math.exp(-lam), 0, rng.random()
    while prod > limit:
        k += 1
        prod *= rng.random()
    return k


def _business_time(rng: random.Random, day_start_ms: int) -> int:
    return day_start_ms + int(rng.uniform(7.0, 19.0) * HOUR_MS)


def day_tickets(
    account: Account,
    rng: random.Random,
    day_start_ms: int,
    *,
    day_factor: float,
    spiking: bool,
    seq: list[int],
    fmt: TimestampFormatter,
) -> list[Record]:
    """Return the lifecycle events of the tickets `account` opens this day, later days included.

    Healthy accounts open a few tickets a month and close them, with CSAT on about half.
    Spiking accounts open several high/urgent tickets a day; most are left open, and the few
    that close score CSAT 1-2. The caller drops events past the end of the period.
    """
    out: list[Record] = []
    acc_id = account.account_id
    lam = (0.02 + account.seats * 0.0015) * day_factor
    if spiking:
        lam += (2.0 + account.seats * 0.05) * day_factor
    for _ in range(poisson(rng, lam)):
        seq[0] += 1
        ticket_id = f"t-{acc_id}-{seq[0]}"
        weights = _SPIKE_PRIORITY_WEIGHTS if spiking else _HEALTHY_PRIORITY_WEIGHTS
        priority = rng.choices(_PRIORITIES, weights=weights)[0]
        opened = _business_time(rng, day_start_ms)
        steps: list[tuple[str, int, int | None]] = [("opened", opened, None)]
        for _ in range(rng.randint(1, 3) if spiking else rng.randint(0, 2)):
            steps.append(("updated", opened + rng.randint(HOUR_MS, 2 * DAY_MS), None))
        closes = rng.random() < (0.15 if spiking else 0.95)
        if closes:
            closed = opened + rng.randint(HOUR_MS, _CLOSE_WITHIN_MS[priority])
            steps = [s for s in steps if s[1] < closed]
            csat = None
            if spiking or rng.random() < 0.45:
                csat_weights = _SPIKE_CSAT_WEIGHTS if spiking else _HEALTHY_CSAT_WEIGHTS
                csat = rng.choices((1, 2, 3, 4, 5), weights=csat_weights)[0]
            steps.append(("closed", closed, csat))
            if not spiking and rng.random() < 0.05:
                reopened = closed + rng.randint(HOUR_MS, DAY_MS)
                steps.append(("reopened", reopened, None))
                steps.append(("closed", reopened + rng.randint(HOUR_MS, DAY_MS), None))
        steps.sort(key=lambda s: s[1])
        for n, (status, t, csat) in enumerate(steps):
            value = {
                "event_id": f"{ticket_id}-{n}",
                "ticket_id": ticket_id,
                "account_id": acc_id,
                "status": status,
                "priority": priority,
                "occurred_at": encode_time(rng, t, fmt),
            }
            if csat is not None:
                value["csat"] = csat
            out.append(Record("ticket", acc_id, value, t))
    return out


def day_nps(
    account: Account,
    rng: random.Random,
    day_start_ms: int,
    *,
    day_factor: float,
    spiking: bool,
    churned_away: bool,
    seq: list[int],
    fmt: TimestampFormatter,
) -> list[Record]:
    """Return this day's NPS answers: mostly promoters when healthy, detractors when spiking."""
    out: list[Record] = []
    acc_id = account.account_id
    lam = min(0.5, account.seats * 0.004) * day_factor
    if spiking:
        lam = max(0.3 * day_factor, 2.0 * lam)
    elif churned_away:
        lam *= 0.3
    for _ in range(poisson(rng, lam)):
        if spiking:
            score = rng.randint(0, 5)
        else:
            bucket = rng.random()
            score = rng.randint(9, 10) if bucket < 0.65 else rng.randint(7, 8) if bucket < 0.9 else rng.randint(2, 6)
        t = _business_time(rng, day_start_ms)
        seq[0] += 1
        value = {
            "event_id": f"n-{acc_id}-{seq[0]}",
            "account_id": acc_id,
            "user_id": user_id(account, rng.randrange(account.seats)),
            "score": score,
            "occurred_at": encode_time(rng, t, fmt),
        }
        out.append(Record("nps", acc_id, value, t))
    return out
