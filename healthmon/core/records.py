"""The alert record, defined once: what the core builds, what the alerts topic carries, what the schema exports.

`schemas.alert.Alert` is generated from `AlertRecord` (adding the descriptions of the JSON Schema), so the
builders in `healthmon.core.alerts` are checked against the same shape that consumers validate.
"""

from __future__ import annotations

from typing import Any, TypedDict

from healthmon.core.vocabulary import (
    AlertKind,
    AlertSchemaMinor,
    AlertSchemaVersion,
    AlertStatus,
    Band,
    LineStatus,
    ScoreKind,
    ScoreSchemaVersion,
    Severity,
    Tier,
)

__all__ = ["AlertRecord", "MeasureRecord", "ScoreRecord"]


class MeasureRecord(TypedDict):
    """One measure behind the score: its value, its 0-100 score, its weight and its share of the score."""

    name: str
    value: float | None
    score: float | None
    weight: float
    contribution: float | None


class AlertRecord(TypedDict):
    """A health alert: one decision of one rule of one account (or of the pipeline)."""

    schema_version: AlertSchemaVersion
    schema_minor: AlertSchemaMinor
    alert_id: str
    dedup_key: str
    episode_id: str
    kind: AlertKind
    status: AlertStatus
    severity: Severity
    account_id: str | None
    account_name: str | None
    tier: Tier | None
    csm: str | None
    rule: str
    score_before: float | None
    score_after: float | None
    score_7d_ago: float | None
    score_30d_ago: float | None
    band_before: Band | None
    band_after: Band | None
    measures: list[MeasureRecord]
    summary: str
    details: dict[str, Any]
    episode_start: int
    event_time: int
    processed_at: int
    policy_version: str


class ScoreRecord(TypedDict):
    """An account's health at the end of an event-time day, or at a band change (the `health-scores` topic)."""

    schema_version: ScoreSchemaVersion
    record_id: str
    kind: ScoreKind
    account_id: str
    day: str
    event_time: int
    score: float | None
    band: Band | None
    alert_band: Band | None
    tier: Tier
    csm: str | None
    measures: list[MeasureRecord]
    lines: dict[str, LineStatus]
    policy_version: str
