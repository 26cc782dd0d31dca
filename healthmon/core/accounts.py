"""One account seen from outside the event loop: its snapshot now, and the end of its alerts when it is removed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from healthmon.core.alerts import account_alert, scores_ago
from healthmon.core.daily import closed_day
from healthmon.core.lifecycle import account_removed
from healthmon.core.measures import compute_metrics
from healthmon.core.policy import Policy
from healthmon.core.records import AlertRecord
from healthmon.core.scoring import score
from healthmon.core.state import DAY_MS, AccountState, RuleState
from healthmon.core.windows import asof_day

__all__ = ["resolve_removed", "snapshot"]


def _scores_ago(state: AccountState, day: int, now: float | None) -> tuple[float | None, float | None]:
    """Return the scores 7 and 30 days before `day`, from the history or, for a day it has not closed yet, `now`.

    A quiet account's days are closed at its next evaluation (`healthmon.core.quiet`); until then nothing of
    it can move, so each of those days scored what it scores now.
    """
    week, month = scores_ago(state.history, day)
    open_from = max(closed_day(state) + 1, state.first_ms // DAY_MS) if state.first_ms else day
    return (now if day - 7 >= open_from else week), (now if day - 30 >= open_from else month)


def snapshot(policy: Policy, state: AccountState, now_ms: int) -> dict[str, Any]:
    """Return the account's current health as of `now_ms` (never before its own latest event)."""
    at_ms = max(now_ms, state.clock_ms + 1)
    tier = policy.for_tier(state.tier)
    metrics = compute_metrics(state, at_ms)
    card = score(metrics, tier)
    life = state.life
    week, month = _scores_ago(state, asof_day(at_ms), card.score)
    firing = [name for name, r in sorted(life.lines.items()) if r.status == RuleState.FIRING]
    if life.health.fired:
        firing.insert(0, "health")
    return {
        "account_id": state.account_id,
        "name": state.name,
        "tier": state.tier,
        "csm": state.csm,
        "seats": state.seats,
        "score": card.score,
        "band": card.band,
        "score_7d_ago": week,
        "score_30d_ago": month,
        "alert_band": life.health.band,
        "measures": [m.as_dict() for m in card.measures],
        "metrics": metrics.as_dict(),
        "firing": firing,
        "updated_at": state.clock_ms or None,
        "as_of": at_ms,
        "policy_version": policy.version,
    }


def resolve_removed(policy: Policy, clock: Callable[[], int], state: AccountState,
                    removal: str) -> list[AlertRecord]:
    """Resolve the open alerts of an account its source removed, as of its own stream time.

    The caller then forgets its state. `removal` (deleted or tombstone) is in each alert's
    `details.removal`, beside `details.reason` `account_removed`.
    """
    at_ms = max(state.last_eval_ms, state.clock_ms)
    if not at_ms:
        return []
    tier = policy.for_tier(state.tier)
    card = score(compute_metrics(state, at_ms), tier)
    processed_at = clock()
    return [account_alert(state, tr, card, severity=tier.severity, at_ms=at_ms, policy_version=policy.version,
                          processed_at=processed_at)
            for tr in account_removed(state.life, card, removal)]
