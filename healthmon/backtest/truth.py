"""Judge silence alerts without churn labels: by what the history shows after them (`--truth inactivity:DAYS`).

A firing silence alert (a warning line on `days_since_last_activity`) is correct when its account sends no
product usage in the DAYS after it. Only alerts with DAYS of history after them can be judged; the others
are counted as left out. An account went quiet for good when its last usage is at least DAYS before the
end of the history; it was caught when an alert of the rule came after that last usage, and the delay
runs from the last usage to the first such alert. Pure functions over small records, checkable by hand.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from healthmon.backtest.report import DAY_MS, AlertRow, quantile
from healthmon.core.vocabulary import FIRING

__all__ = ["SILENCE", "SILENCE_METRIC", "Truth", "TruthError", "TruthRate", "parse_truth", "silence_rates",
           "truth_rate"]

#: the metric of silence alerts
SILENCE_METRIC = "days_since_last_activity"
#: the name under which all the silence rules of a policy are judged together
SILENCE = "silence"


class TruthError(ValueError):
    """A `--truth` value that is not `inactivity:DAYS`."""


@dataclass(frozen=True)
class Truth:
    """What makes a silence alert correct: no usage in the `days` after it."""

    days: int

    @property
    def span_ms(self) -> int:
        return self.days * DAY_MS


def parse_truth(text: str) -> Truth:
    """Parse `inactivity:DAYS` (DAYS a whole number from 1 to 3650)."""
    kind, _, days = text.partition(":")
    if kind != "inactivity" or not days.isdigit() or not 1 <= int(days) <= 3650:
        raise TruthError(f"expected inactivity:DAYS with DAYS from 1 to 3650, got {text!r}")
    return Truth(int(days))


@dataclass
class TruthRate:
    """How well one rule's firing alerts tell accounts that went quiet for good."""

    #: firing alerts with `days` of history after them, and how many of them the history proves right
    alerts: int = 0
    true_alerts: int = 0
    precision: float | None = None
    #: firing alerts too close to the end of the history to judge
    left_out: int = 0
    #: accounts whose last usage is at least `days` before the end, and those alerted after it
    gone: int = 0
    caught: int = 0
    recall: float | None = None
    delay_days_p10: float | None = None
    delay_days_median: float | None = None
    delay_days_p90: float | None = None
    delay_days: list[float] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """Return the figures as JSON-ready data (without the list of delays)."""
        out = asdict(self)
        del out["delay_days"]
        return out


def truth_rate(firing: Iterable[tuple[str, int]], gaps: Iterable[tuple[str, int, int]], last: dict[str, int | None],
               end_ms: int, truth: Truth) -> TruthRate:
    """Judge firing alerts `(account, at_ms)` against the usage history.

    `gaps` are `(account, last usage, next usage)` of every closed gap in usage at least `truth.days` long
    (shorter ones may be there too), `last` each account's last usage (None: never), `end_ms` the end of
    the history.
    """
    span = truth.span_ms
    quiet: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for account, since, until in gaps:
        if until - since > span:
            quiet[account].append((since, until))
    out = TruthRate()
    gone = {a: at for a, at in last.items() if at is not None and end_ms - at >= span}
    first_after: dict[str, int] = {}
    for account, at in firing:
        ended = gone.get(account)
        if ended is not None and at > ended and at < first_after.get(account, at + 1):
            first_after[account] = at
        if at + span > end_ms:
            out.left_out += 1
            continue
        out.alerts += 1
        final = last.get(account)
        if final is None or final <= at or any(since <= at and until > at + span for since, until in quiet[account]):
            out.true_alerts += 1
    out.precision = out.true_alerts / out.alerts if out.alerts else None
    out.gone, out.caught = len(gone), len(first_after)
    out.recall = out.caught / out.gone if out.gone else None
    out.delay_days = sorted((at - gone[a]) / DAY_MS for a, at in first_after.items())
    out.delay_days_p10 = quantile(out.delay_days, 0.1)
    out.delay_days_median = quantile(out.delay_days, 0.5)
    out.delay_days_p90 = quantile(out.delay_days, 0.9)
    return out


def silence_rates(alerts: list[AlertRow], gaps: list[tuple[str, int, int]], last: dict[str, int | None],
                  end_ms: int, truth: Truth) -> dict[str, TruthRate]:
    """Judge each silence rule's firing alerts, and all of them together as `silence`."""
    by_rule: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for a in alerts:
        if a.status == FIRING and a.account_id and a.metric == SILENCE_METRIC:
            by_rule[a.rule].append((a.account_id, a.at_ms))
    out = {rule: truth_rate(rows, gaps, last, end_ms, truth) for rule, rows in sorted(by_rule.items())}
    out[SILENCE] = truth_rate([r for rows in by_rule.values() for r in rows], gaps, last, end_ms, truth)
    return out
