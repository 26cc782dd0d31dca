"""The alert record sent to the alerts topic (keyed by account_id; pipeline alerts have a null account_id)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from healthmon.core.vocabulary import (
    ALERT_SCHEMA_VERSION,
    AlertKind,
    AlertSchemaVersion,
    AlertStatus,
    Band,
    Severity,
    Tier,
)

__all__ = ["Alert", "AlertMeasure"]


class AlertMeasure(BaseModel):
    """One measure behind the score: its value, its 0-100 score, its weight and its share of the score."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Metric name, e.g. `weekly_active_ratio`.")
    value: float | None = Field(description="The metric value; null when the measure has no data.")
    score: float | None = Field(description="The measure scored 0-100; null when it has no data.")
    weight: float = Field(description="The measure's weight in the policy (for the account's tier).")
    contribution: float | None = Field(
        description="Points of the health score this measure contributes (score x weight / total weight of "
                    "the measures with data); null when it has no data.")


class Alert(BaseModel):
    """A health alert: one decision of one rule of one account (or of the pipeline)."""

    model_config = ConfigDict(extra="forbid")

    schema_version: AlertSchemaVersion = ALERT_SCHEMA_VERSION
    alert_id: str = Field(description="Deterministic id of this alert: the same input always yields the same id.")
    dedup_key: str = Field(max_length=255, description="`account_id/rule`: stable across episodes "
                                                       "(PagerDuty dedup_key, Alertmanager grouping).")
    episode_id: str = Field(description="Id of the episode (from the account, the rule and the episode start); "
                                        "the firing and resolved alerts of one episode share it.")
    kind: AlertKind
    status: AlertStatus
    severity: Severity = Field(
        description="From the account's tier (policy `tiers.<tier>.severity`) or `pipeline.severity`.")
    account_id: str | None = Field(description="The account; null for pipeline alerts (`ingest_stalled`).")
    account_name: str | None = Field(description="The account's name; null before its profile arrived.")
    tier: Tier | None = Field(
        description="The tier the account was scored as (`standard` without a profile); null for pipeline alerts.")
    csm: str | None = Field(description="The account's customer-success manager, if known.")
    rule: str = Field(description="`health`, a warning line name, or `ingest_stalled:<source>`.")
    score_before: float | None = Field(description="Health score before: at the last band announcement for "
                                                   "`health_changed`, at the previous evaluation otherwise.")
    score_after: float | None = Field(description="Health score at this evaluation.")
    band_before: Band | None
    band_after: Band | None
    measures: list[AlertMeasure] = Field(description="Every measure of the policy at this evaluation.")
    summary: str = Field(description="One human line, e.g. 'Acme (strategic) turned red: score 72→41; ...'.")
    details: dict[str, Any] = Field(description="Rule specifics: metric, value, line, exit, baseline, "
                                                "for_seconds; or the stalled source and its staleness; or, "
                                                "when a warning line left the policy while firing, "
                                                "reason `rule_retired`.")
    episode_start: int = Field(description="Event time (epoch ms) the episode started.")
    event_time: int = Field(description="Event time (epoch ms, stream time) of the evaluation that decided this.")
    processed_at: int = Field(description="Processing time (wall clock, epoch ms): the only non-deterministic field.")
    policy_version: str = Field(description="Content hash of the policy, e.g. `sha256:1a2b3c4d5e6f`.")
