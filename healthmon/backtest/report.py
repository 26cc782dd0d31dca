"""The backtest's numbers: alert noise, time in each band, and hit rate against churn labels.

Pure functions over small records (no I/O, no Faust, Kafka or Redis), so that each figure can be
checked by hand on a tiny history. "Alerts" in the rates means firing alerts: a resolve pages nobody.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

from healthmon.core.vocabulary import FIRING, RESOLVED

__all__ = [
    "AlertRow",
    "DAY_MS",
    "HitRate",
    "Inactivity",
    "baseline_alerts",
    "flapping",
    "hit_rate",
    "noise_report",
    "only_in",
    "quantile",
    "rule_hit_rates",
]

DAY_MS = 86_400_000
UNASSIGNED = "(no csm)"


class AlertRow(NamedTuple):
    """The parts of an alert the report needs."""

    account_id: str
    kind: str
    rule: str
    tier: str
    status: str
    at_ms: int
    csm: str | None = None
    #: the metric of a warning line's alert (None: another kind)
    metric: str | None = None

    @classmethod
    def of(cls, alert: dict[str, Any]) -> AlertRow:
        """Return the row of an alert record (schemas.alert)."""
        return cls(alert.get("account_id") or "", alert["kind"], alert["rule"], alert.get("tier") or "",
                   alert["status"], alert["event_time"], alert.get("csm"), (alert.get("details") or {}).get("metric"))


def quantile(values: Iterable[float], q: float) -> float | None:
    """Return the `q` quantile (0-1) with linear interpolation between closest ranks; None if empty."""
    ordered = sorted(values)
    if not ordered:
        return None
    pos = (len(ordered) - 1) * q
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def flapping(alerts: Iterable[AlertRow], window_ms: int = 7 * DAY_MS) -> int:
    """Count firing alerts that come within `window_ms` after a resolve of the same account and rule."""
    last_resolved: dict[tuple[str, str, str], int] = {}
    count = 0
    for row in sorted(alerts, key=lambda r: r.at_ms):
        key = (row.account_id, row.kind, row.rule)
        if row.status == RESOLVED:
            last_resolved[key] = row.at_ms
        elif row.status == FIRING and key in last_resolved and row.at_ms - last_resolved[key] <= window_ms:
            count += 1
    return count


def noise_report(alerts: list[AlertRow], accounts: dict[str, str | None], start_ms: int, end_ms: int,
                 band_days: dict[str, int] | None = None) -> dict[str, Any]:
    """Summarise the alerts of a history of `accounts` (account -> csm) from `start_ms` to `end_ms`."""
    days = max(end_ms - start_ms, DAY_MS) / DAY_MS
    firing = [a for a in alerts if a.status == FIRING and a.account_id]
    per_account = Counter(a.account_id for a in firing)
    rates = [per_account.get(acc, 0) / days * 30 for acc in accounts]
    per_csm: Counter[str] = Counter()
    for a in firing:
        per_csm[a.csm or accounts.get(a.account_id) or UNASSIGNED] += 1
    for csm in set(accounts.values()):
        per_csm.setdefault(csm or UNASSIGNED, 0)
    weeks = days / 7
    total_band_days = sum((band_days or {}).values())
    return {
        "days": round(days, 2),
        "accounts": len(accounts),
        "alerts": len(alerts),
        "firing": len(firing),
        "by_kind": dict(sorted(Counter(a.kind for a in alerts).items())),
        "by_rule": dict(sorted(Counter(a.rule for a in alerts).items())),
        "by_tier": dict(sorted(Counter(a.tier for a in alerts if a.tier).items())),
        "by_status": dict(sorted(Counter(a.status for a in alerts).items())),
        "per_account_per_30d": {"mean": sum(rates) / len(rates) if rates else 0.0,
                                "p90": quantile(rates, 0.9) or 0.0, "max": max(rates, default=0.0)},
        "accounts_alerted_ratio": len(per_account) / len(accounts) if accounts else 0.0,
        "flapping_refires": flapping(alerts),
        "noisiest": [[acc, n] for acc, n in sorted(per_account.items(), key=lambda kv: (-kv[1], kv[0]))[:10]],
        "band_days": dict(sorted((band_days or {}).items())),
        "band_ratio": {b: n / total_band_days for b, n in sorted((band_days or {}).items())} if total_band_days
        else {},
        "per_csm_per_week": {csm: n / weeks for csm, n in sorted(per_csm.items())},
    }


@dataclass
class HitRate:
    """How well one rule's firing alerts foretell churn."""

    alerts: int = 0
    #: alerts followed by the account's churn within the horizon
    true_alerts: int = 0
    precision: float | None = None
    churned: int = 0
    #: churned accounts with an alert within the horizon before churning
    caught: int = 0
    recall: float | None = None
    lead_days_p10: float | None = None
    lead_days_median: float | None = None
    lead_days_p90: float | None = None
    lead_days: list[float] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """Return the figures as JSON-ready data (without the list of lead times)."""
        out = asdict(self)
        del out["lead_days"]
        return out


def hit_rate(firing: Iterable[tuple[str, int]], churned: dict[str, int], horizon_ms: int) -> HitRate:
    """Score firing alerts `(account, at_ms)` against `churned` (account -> churned_at) over `horizon_ms`.

    Precision: alerts whose account churned within the horizon after the alert (at or after it).
    Recall: churned accounts with an alert within the horizon before churning. Lead time: from a caught
    account's earliest such alert to its churn, in days.
    """
    out = HitRate(churned=len(churned))
    earliest: dict[str, int] = {}
    for account, at in firing:
        out.alerts += 1
        churn = churned.get(account)
        if churn is not None and 0 <= churn - at <= horizon_ms:
            out.true_alerts += 1
            earliest[account] = min(at, earliest.get(account, at))
    out.caught = len(earliest)
    out.precision = out.true_alerts / out.alerts if out.alerts else None
    out.recall = out.caught / out.churned if out.churned else None
    out.lead_days = sorted((churned[acc] - at) / DAY_MS for acc, at in earliest.items())
    out.lead_days_p10 = quantile(out.lead_days, 0.1)
    out.lead_days_median = quantile(out.lead_days, 0.5)
    out.lead_days_p90 = quantile(out.lead_days, 0.9)
    return out


def rule_hit_rates(alerts: list[AlertRow], churned: dict[str, int], horizon_ms: int) -> dict[str, HitRate]:
    """Return the hit rate of every account rule's firing alerts, and of all of them as `overall`."""
    by_rule: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for a in alerts:
        if a.status == FIRING and a.account_id:
            by_rule[a.rule].append((a.account_id, a.at_ms))
    out = {rule: hit_rate(rows, churned, horizon_ms) for rule, rows in sorted(by_rule.items())}
    out["overall"] = hit_rate([r for rows in by_rule.values() for r in rows], churned, horizon_ms)
    return out


class Inactivity:
    """Track each account's gaps in product usage, for the plain "no activity for N days" baseline.

    Feed usage times in event-time order per account. An account's clock starts at its first usage
    event, or at the start of the history for an account that never sends one.
    """

    def __init__(self, min_gap_ms: int = 30 * DAY_MS) -> None:
        self.min_gap_ms = min_gap_ms
        self.last: dict[str, int | None] = {}
        #: (account, last activity, next activity or end of history) of every gap of at least `min_gap_ms`
        self.gaps: list[tuple[str, int, int]] = []

    def seen(self, account: str) -> None:
        """Note an account (a profile or any event), so that one with no usage at all is counted."""
        self.last.setdefault(account, None)

    def usage(self, account: str, at_ms: int) -> None:
        """Note a usage event."""
        last = self.last.get(account)
        if last is not None and at_ms - last >= self.min_gap_ms:
            self.gaps.append((account, last, at_ms))
        if last is None or at_ms > last:
            self.last[account] = at_ms

    def finish(self, start_ms: int, end_ms: int) -> list[tuple[str, int, int]]:
        """Close every account's open gap at `end_ms`; return all gaps."""
        gaps = list(self.gaps)
        for account, last in self.last.items():
            since = start_ms if last is None else last
            if end_ms - since >= self.min_gap_ms:
                gaps.append((account, since, end_ms))
        return gaps


def baseline_alerts(gaps: Iterable[tuple[str, int, int]], days: int) -> list[tuple[str, int]]:
    """Return the `(account, at_ms)` at which "no activity for `days` days" fires within each gap."""
    span = days * DAY_MS
    return sorted((account, since + span) for account, since, until in gaps if until - since >= span)


def only_in(left: list[AlertRow], right: list[AlertRow]) -> list[tuple[str, str, str]]:
    """Return the (account, kind, rule) that fire under `left` and never under `right`."""
    fired = {(a.account_id, a.kind, a.rule) for a in right if a.status == FIRING}
    return sorted({(a.account_id, a.kind, a.rule) for a in left if a.status == FIRING} - fired)
