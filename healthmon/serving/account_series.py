"""Per-account series for the "Accounts at risk" dashboard: the one place `account_id` is a label, under a cap.

Every other healthmon metric is labelled by bounded vocabularies only. Grafana cannot draw a table of
accounts, or one account's score over time, from aggregates, so these series carry `account_id` (and
`tier`, `csm`, `band`) on purpose, with two bounds on how many there are:

- the mode (`HEALTHMON_ACCOUNT_METRICS`): `at_risk`, the default, exports only accounts that are not green
  (plus each one for a day of event time after it returns to green, so a recovery shows on the table);
- the cap (`HEALTHMON_ACCOUNT_METRICS_MAX` series per worker): past it the lowest scores are kept, and
  `healthmon_account_series_capped_accounts` says how many accounts were left out (a warning rule).

The `csm` label is the CSM's slug (`healthmon.core.csm`), the spelling every CSM filter also accepts.
The rows are updated where the view refresh scores an account (once per changed account per refresh,
never per event) and rendered at scrape time, so an account that leaves the set loses its series at once.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from healthmon.config import AccountMetricsMode
from healthmon.core.csm import csm_slug
from healthmon.core.state import DAY_MS
from healthmon.core.vocabulary import BANDS

__all__ = ["ACCOUNT_FAMILIES", "SERIES_PER_ACCOUNT", "AccountRow", "AccountSeries"]

LABELS = ("account_id", "tier", "csm", "band")
GREEN = BANDS[0]


class AccountRow(NamedTuple):
    """What the per-account series of one account show: its labels and its values."""

    labels: tuple[str, str, str, str]
    score: float
    #: event-time seconds since the account's last product usage (None: never used)
    inactive_seconds: float | None
    open_urgent_tickets: float
    #: the account's daily score 7 and 30 event-time days before its as-of day (None: not in its history)
    score_7d_ago: float | None = None
    score_30d_ago: float | None = None


#: metric name, help, the row's value: one series per exported account each (unset values are left out)
ACCOUNT_FAMILIES: tuple[tuple[str, str, Callable[[AccountRow], float | None]], ...] = (
    ("healthmon_account_health_score", "Health score (0-100) of an exported account (HEALTHMON_ACCOUNT_METRICS).",
     lambda row: row.score),
    ("healthmon_account_inactive_seconds",
     "Event-time seconds since an exported account's last product usage, in whole days.",
     lambda row: row.inactive_seconds),
    ("healthmon_account_open_urgent_tickets", "Open high or urgent tickets of an exported account.",
     lambda row: row.open_urgent_tickets),
    ("healthmon_account_health_score_7d_ago",
     "Health score of an exported account 7 event-time days ago, from its score history (the table's 7-day change).",
     lambda row: row.score_7d_ago),
    ("healthmon_account_health_score_30d_ago",
     "Health score of an exported account 30 event-time days ago, from its score history.",
     lambda row: row.score_30d_ago),
)


#: the most series one account can have (HEALTHMON_ACCOUNT_METRICS_MAX counts series, not accounts)
SERIES_PER_ACCOUNT = len(ACCOUNT_FAMILIES)
#: the cap's own gauges: (name, help)
_CAP_GAUGES = (("healthmon_account_series", "Per-account series this worker exposes now."),
               ("healthmon_account_series_limit",
                "Most per-account series this worker may expose (HEALTHMON_ACCOUNT_METRICS_MAX)."),
               ("healthmon_account_series_capped_accounts",
                "Accounts HEALTHMON_ACCOUNT_METRICS selects that the cap leaves without series."))


def row_of(snapshot: Mapping[str, Any], tier: str) -> AccountRow | None:
    """Return the row an engine snapshot shows, under the `tier` label (None: the account has no score yet)."""
    score = snapshot.get("score")
    if score is None:
        return None
    metrics = snapshot.get("metrics") or {}
    idle_days = metrics.get("days_since_last_activity")
    week, month = snapshot.get("score_7d_ago"), snapshot.get("score_30d_ago")
    return AccountRow((str(snapshot["account_id"]), tier, csm_slug(snapshot.get("csm")),
                       str(snapshot.get("band") or GREEN)),
                      float(score), None if idle_days is None else float(idle_days) * DAY_MS / 1000,
                      float(metrics.get("open_urgent_tickets") or 0),
                      None if week is None else float(week), None if month is None else float(month))


class AccountSeries(Collector):
    """The accounts that get per-account series, by mode, and their exposition (capped) at scrape time."""

    def __init__(self, mode: AccountMetricsMode = "off", max_series: int = SERIES_PER_ACCOUNT * 1000) -> None:
        self.mode = mode
        self.max_series = max_series
        #: the most accounts exported at once: each may have one series per family, so the cap holds whatever
        #: values are unknown
        self.max_accounts = max_series // SERIES_PER_ACCOUNT
        #: account -> its row, for every account the mode selects (the cap is applied at scrape time)
        self.rows: dict[str, AccountRow] = {}
        #: account -> event time (ms) it returned to green; it keeps its row for a day after (`at_risk`)
        self.recovered_at: dict[str, int] = {}

    def observe(self, account_id: str, snapshot: Mapping[str, Any], tier: str) -> None:
        """Keep, change or drop the account's row after its snapshot was taken (at `snapshot["as_of"]`)."""
        if self.mode == "off":
            return
        row = row_of(snapshot, tier)
        if row is None:
            self.forget(account_id)
            return
        if self.mode == "at_risk" and row.labels[3] == GREEN:
            if account_id not in self.rows:
                return  # green, and not at risk within the last day: no series
            at_ms = int(snapshot.get("as_of") or 0)
            since = self.recovered_at.setdefault(account_id, at_ms)
            if at_ms >= since + DAY_MS:
                self.forget(account_id)
                return
        else:
            self.recovered_at.pop(account_id, None)
        self.rows[account_id] = row

    def expire(self, stream_time_ms: Callable[[str], int]) -> int:
        """Drop the recovered accounts whose day in green has passed at their partition's stream time; count them."""
        done = [a for a, since in self.recovered_at.items() if stream_time_ms(a) >= since + DAY_MS]
        for account_id in done:
            self.forget(account_id)
        return len(done)

    def forget(self, account_id: str) -> None:
        """Drop the account's row and series."""
        self.rows.pop(account_id, None)
        self.recovered_at.pop(account_id, None)

    def forget_all(self, account_ids: Iterable[str]) -> None:
        """Drop the rows of `account_ids`."""
        for account_id in account_ids:
            self.forget(account_id)

    def retain(self, keep: Callable[[str], bool]) -> int:
        """Drop the rows of the accounts `keep` refuses (after a rebalance: those on other workers); count them."""
        gone = [account_id for account_id in self.rows if not keep(account_id)]
        self.forget_all(gone)
        return len(gone)

    def exported(self) -> list[tuple[str, AccountRow]]:
        """Return the rows exported now: all of them, or under the cap the lowest scores (ties by account)."""
        rows = self.rows
        if len(rows) <= self.max_accounts:
            return list(rows.items())
        return heapq.nsmallest(self.max_accounts, rows.items(), key=lambda item: (item[1].score, item[0]))

    def describe(self) -> Iterator[Metric]:
        """Yield the families `collect` yields, empty: the registry learns their names without a scrape's work."""
        for name, doc, _ in ACCOUNT_FAMILIES:
            yield GaugeMetricFamily(name, doc, labels=LABELS)
        for name, doc in _CAP_GAUGES:
            yield GaugeMetricFamily(name, doc, value=0)

    def collect(self) -> Iterator[Metric]:
        """Yield the per-account families and the cap's own gauges (called by the registry at each scrape)."""
        exported = self.exported()
        series = 0
        for name, doc, value_of in ACCOUNT_FAMILIES:
            family = GaugeMetricFamily(name, doc, labels=LABELS)
            for _, row in exported:
                value = value_of(row)
                if value is not None:
                    family.add_metric(row.labels, value)
                    series += 1
            yield family
        values = (series, self.max_series if self.mode != "off" else 0, len(self.rows) - len(exported))
        for (name, doc), value in zip(_CAP_GAUGES, values):
            yield GaugeMetricFamily(name, doc, value=value)
