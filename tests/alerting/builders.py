"""Build schema-valid alerts with the real core (`account_alert`, `pipeline_alert`)."""

from __future__ import annotations

from typing import Any

from healthmon.core.alerts import account_alert, pipeline_alert
from healthmon.core.lifecycle import Transition
from healthmon.core.scoring import MeasureResult, Scorecard
from healthmon.core.state import AccountState
from schemas.alert import Alert

__all__ = ["customer_alert", "stall_alert", "T0"]

#: 2026-01-05 00:00 UTC
T0 = 1_767_571_200_000
MIN = 60_000

CARD = Scorecard(score=41.0, band="red", measures=(
    MeasureResult("weekly_active_ratio", 0.2, 20.0, 40.0, 8.0),
    MeasureResult("adoption_rate", 0.5, 50.0, 30.0, 15.0),
    MeasureResult("open_urgent_tickets", 1.0, 60.0, 20.0, 12.0),
    MeasureResult("nps_90d", 60.0, 60.0, 10.0, 6.0),
    MeasureResult("csat_28d", None, None, 10.0, None),
))


def customer_alert(account: str, status: str = "firing", *, tier: str = "strategic", csm: str | None = "ann",
                   rule: str = "health", severity: str = "critical", episode_start: int = T0,
                   at_ms: int | None = None, band_after: str = "red", score_after: float = 41.0) -> dict[str, Any]:
    """Return the alert the pipeline emits when `account`'s health episode fires or resolves."""
    state = AccountState(account)
    state.name, state.tier, state.csm = f"{account.title()} Inc", tier, csm
    if status == "resolved":
        band_after, score_after = "green", 80.0
    tr = Transition(kind="health_changed" if rule == "health" else "below_warning_line", rule=rule,
                    status=status, episode_start=episode_start, band_before="green" if status == "firing" else "red",
                    band_after=band_after, score_before=80.0 if status == "firing" else 41.0,
                    score_after=score_after,
                    details={} if rule == "health" else {"metric": "weekly_active_ratio", "kind": "absolute",
                                                         "value": 0.2, "line": 0.3, "exit": 0.4})
    alert = account_alert(state, tr, CARD, severity=severity, at_ms=at_ms or episode_start,
                          policy_version="sha256:test",
                          processed_at=0)
    Alert.model_validate(alert)
    return alert


def stall_alert(status: str = "firing", *, at_ms: int = T0) -> dict[str, Any]:
    """Return an `ingest_stalled` pipeline alert for the usage input."""
    alert = pipeline_alert("usage", status, episode_start=T0, at_ms=at_ms, staleness_seconds=2400.0,
                           stale_after_seconds=1800, hold_after_seconds=3600, severity="error",
                           policy_version="sha256:test", processed_at=0)
    Alert.model_validate(alert)
    return alert
