"""The health-scores records: an account's health at the end of an event-time day, or at a band change."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from healthmon.core.policy import TierPolicy
from healthmon.core.records import ScoreRecord
from healthmon.core.scoring import Scorecard
from healthmon.core.state import DAY_MS, AccountState
from healthmon.core.vocabulary import LINE_STATUSES, SCORE_SCHEMA_VERSION, ScoreKind

__all__ = ["score_record", "score_record_id"]

_EPOCH = date(1970, 1, 1)


def score_record_id(account_id: str, kind: str, event_time: int) -> str:
    """Return the record's id: a function of the account, the kind and the event time only."""
    return hashlib.sha256(f"{account_id}\x1f{kind}\x1f{event_time}".encode()).hexdigest()[:32]


def score_record(state: AccountState, kind: ScoreKind, event_time: int, card: Scorecard, tier: TierPolicy,
                 policy_version: str) -> ScoreRecord:
    """Return the record of the account's health as of `event_time` (the end of a day, or a band change)."""
    lines = state.life.lines
    return {
        "schema_version": SCORE_SCHEMA_VERSION,
        "record_id": score_record_id(state.account_id, kind, event_time),
        "kind": kind,
        "account_id": state.account_id,
        "day": (_EPOCH + timedelta(days=(event_time - 1) // DAY_MS)).isoformat(),
        "event_time": event_time,
        "score": card.score,
        "band": card.band,
        "alert_band": state.life.health.band,
        "tier": state.tier or "standard",
        "csm": state.csm,
        "measures": [m.as_dict() for m in card.measures],
        "lines": {line.name: LINE_STATUSES[lines[line.name].status] if line.name in lines else "ok"
                  for line in tier.warning_lines},
        "policy_version": policy_version,
    }
