"""Compare a faulted run with a clean run on identical input: alerts, dead letters, account health."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson

__all__ = ["AlertDiff", "Outcome", "changed_fields", "diff_alerts", "diff_health", "without_processing_time"]


def without_processing_time(alert: dict[str, Any]) -> bytes:
    """Return an alert's canonical bytes minus `processed_at`, the one field a replay may change."""
    return orjson.dumps({k: v for k, v in alert.items() if k != "processed_at"}, option=orjson.OPT_SORT_KEYS)


@dataclass
class AlertDiff:
    """How a run's alerts differ from the clean run's, by `alert_id`."""

    clean: int
    got: int
    #: alert ids the clean run sent and this run did not
    missing: list[str] = field(default_factory=list)
    #: alert ids this run sent and the clean run did not
    extra: list[str] = field(default_factory=list)
    #: alert ids both sent, with different bodies (or one id sent with two bodies in this run)
    changed: list[str] = field(default_factory=list)
    #: the same alert delivered more than once (at-least-once delivery; consumers dedupe by alert_id)
    redelivered: int = 0

    @property
    def identical(self) -> bool:
        """Return whether the run sent exactly the clean run's alerts."""
        return not (self.missing or self.extra or self.changed)


def _bodies(alerts: list[dict[str, Any]]) -> tuple[dict[str, set[bytes]], int]:
    bodies: dict[str, set[bytes]] = {}
    copies = 0
    for alert in alerts:
        seen = bodies.setdefault(alert["alert_id"], set())
        body = without_processing_time(alert)
        if body in seen:
            copies += 1
        seen.add(body)
    return bodies, copies


def diff_alerts(clean: list[dict[str, Any]], got: list[dict[str, Any]]) -> AlertDiff:
    """Compare the alerts of a run with the clean run's."""
    want, _ = _bodies(clean)
    have, copies = _bodies(got)
    diff = AlertDiff(clean=len(want), got=len(have), redelivered=copies)
    diff.missing = sorted(want.keys() - have.keys())
    diff.extra = sorted(have.keys() - want.keys())
    diff.changed = sorted(k for k in want.keys() & have.keys() if want[k] != have[k])
    return diff


def changed_fields(clean: list[dict[str, Any]], got: list[dict[str, Any]], alert_id: str) -> str:
    """Name how a changed alert differs: the fields unlike the clean run's, and how many bodies this run sent."""
    want = next(a for a in clean if a["alert_id"] == alert_id)
    bodies = {without_processing_time(a): a for a in got if a["alert_id"] == alert_id}
    fields = sorted({k for a in bodies.values() for k in a.keys() | want.keys()
                     if k != "processed_at" and a.get(k) != want.get(k)})
    shown = ", ".join(f"{k} {want.get(k)!r:.80} != {[a.get(k) for a in bodies.values()]!r:.160}" for k in fields)
    return f"{alert_id[:8]} ({want['kind']} {want['status']}, {len(bodies)} bodies): {shown}"


def diff_health(clean: dict[str, dict[str, Any]], got: dict[str, dict[str, Any]]) -> list[str]:
    """Return the accounts whose health (score, band, every metric) differs between two runs."""
    return sorted(a for a in clean.keys() | got.keys() if clean.get(a) != got.get(a))


@dataclass
class Outcome:
    """One drill's result against the clean run."""

    name: str
    fault: str
    alerts: AlertDiff
    #: dead letters by reason, this run and the clean run
    dead_letters: Counter
    clean_dead_letters: Counter
    accounts_differing: list[str]
    #: seconds from the end of the fault until every input offset was committed
    recovery_seconds: float
    events: int
    notes: list[str] = field(default_factory=list)
    #: what went wrong beyond the comparison (a poison message not dead-lettered once, say)
    problems: list[str] = field(default_factory=list)
    #: accounts whose view (over HTTP, once settled) differs from the clean run's view, `as_of` included
    views_unlike_clean: list[str] = field(default_factory=list)
    #: accounts whose view differs from the snapshot of this run's own saved state
    views_unlike_saved: list[str] = field(default_factory=list)

    @property
    def rejected_extra(self) -> int:
        """Return the dead letters this run wrote beyond the clean run's (valid events rejected)."""
        return sum((self.dead_letters - self.clean_dead_letters).values())

    @property
    def passed(self) -> bool:
        """Return whether the fault changed nothing: same alerts, dead letters, health and view."""
        return (self.alerts.identical and self.dead_letters == self.clean_dead_letters
                and not self.accounts_differing and not self.problems
                and not self.views_unlike_clean and not self.views_unlike_saved)
