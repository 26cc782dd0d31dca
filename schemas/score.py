"""The health-scores record (topic `health-scores`, keyed by account_id; `healthmon backtest --scores-out`).

Its fields and types are `healthmon.core.records.ScoreRecord`; this module adds what the exported JSON
Schema says about each. Like the alert, a reader ignores fields it does not know (a later minor step).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from healthmon.core.records import MeasureRecord, ScoreRecord
from healthmon.core.vocabulary import SCORE_SCHEMA_VERSION
from schemas.alert import AlertMeasure, model_of

__all__ = ["HealthScore"]

_SCORE_FIELDS: dict[str, Any] = {
    "schema_version": Field(SCORE_SCHEMA_VERSION),
    "record_id": Field(description="Deterministic id: from the account, the kind and the event time only, so a "
                                   "replay or a restarted worker sends the same id again (upsert on it)."),
    "kind": Field(description="`day`: the account at the end of an event-time day (one per account per day "
                              "evaluated). `band_change`: at an announced band change (a `health_changed` alert)."),
    "account_id": Field(description="The account (also the Kafka key)."),
    "day": Field(description="The UTC day (event time) the record belongs to, `YYYY-MM-DD`."),
    "event_time": Field(description="Event time (epoch ms) of the state: the end of `day` for `day` records, the "
                                    "evaluation's instant for `band_change`."),
    "score": Field(description="Health score 0-100; null while no measure has data."),
    "band": Field(description="The band of `score`."),
    "alert_band": Field(description="The band last announced by a health_changed alert (hysteresis, dwell)."),
    "tier": Field(description="The tier the account was scored as (`standard` without a profile)."),
    "csm": Field(description="The account's customer-success manager, if known."),
    "measures": Field(description="Every measure of the policy: value, score, weight and contribution."),
    "lines": Field(description="Each warning line of the account's policy: `ok`, `pending` or `firing`."),
    "policy_version": Field(description="Content hash of the policy, e.g. `sha256:1a2b3c4d5e6f`."),
}

# (HealthScore is a class built at run time, which mypy cannot take as a type.)
HealthScore = model_of("HealthScore", ScoreRecord, _SCORE_FIELDS,
                       {list[MeasureRecord]: list[AlertMeasure]})  # type: ignore[valid-type]
