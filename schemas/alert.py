"""The alert record sent to the alerts topic (keyed by account_id; pipeline alerts have a null account_id).

Its fields and their types are `healthmon.core.records.AlertRecord`, which the core's builders are
type-checked against; this module adds what the exported JSON Schema says about each field.

Versions: `schema_version` is the major one; `schema_minor` steps only add fields. So a reader of 1.x takes
any 1.y: fields added after 1.0 may be absent (an alert written before them) and unknown fields are ignored
(an alert written after them). The producer's own fields are held to `AlertRecord` by mypy.
"""

from __future__ import annotations

from typing import Any, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model

from healthmon.core.records import AlertRecord, MeasureRecord
from healthmon.core.vocabulary import ALERT_SCHEMA_MINOR, ALERT_SCHEMA_VERSION

__all__ = ["Alert", "AlertMeasure", "model_of"]

_MEASURE_FIELDS: dict[str, Any] = {
    "name": Field(description="Metric name, e.g. `weekly_active_ratio`."),
    "value": Field(description="The metric value; null when the measure has no data."),
    "score": Field(description="The measure scored 0-100; null when it has no data."),
    "weight": Field(description="The measure's weight in the policy (for the account's tier)."),
    "contribution": Field(
        description="Points of the health score this measure contributes (score x weight / total weight of "
                    "the measures with data); null when it has no data."),
}

_ALERT_FIELDS: dict[str, Any] = {
    "schema_version": Field(ALERT_SCHEMA_VERSION, description="The major version: a new one breaks consumers."),
    "schema_minor": Field(
        ALERT_SCHEMA_MINOR,
        description="The minor version within `schema_version`; a step only adds fields. 1: `schema_minor`, "
                    "`score_7d_ago` and `score_30d_ago` (absent in 1.0)."),
    "alert_id": Field(description="Deterministic id of this alert: the same input always yields the same id."),
    "dedup_key": Field(max_length=255, description="`account_id/rule`: stable across episodes "
                                                   "(PagerDuty dedup_key, Alertmanager grouping)."),
    "episode_id": Field(description="Id of the episode (from the account, the rule and the episode start); "
                                    "the firing and resolved alerts of one episode share it."),
    "severity": Field(description="From the account's tier (policy `tiers.<tier>.severity`) or `pipeline.severity`."),
    "account_id": Field(description="The account; null for pipeline alerts (`ingest_stalled`)."),
    "account_name": Field(description="The account's name; null before its profile arrived."),
    "tier": Field(description="The tier the account was scored as (`standard` without a profile); null for "
                              "pipeline alerts."),
    "csm": Field(description="The account's customer-success manager, if known."),
    "rule": Field(description="`health`, a warning line name, or `ingest_stalled:<source>`."),
    "score_before": Field(description="Health score before: at the last band announcement for "
                                      "`health_changed`, at the previous evaluation otherwise."),
    "score_after": Field(description="Health score at this evaluation."),
    "score_7d_ago": Field(description="The account's score at the end of the event-time day 7 days before this "
                                      "alert's (its score history point); null when unknown."),
    "score_30d_ago": Field(description="The same, 30 days before; null when unknown."),
    "measures": Field(description="Every measure of the policy at this evaluation."),
    "summary": Field(description="One human line, e.g. 'Acme (strategic) turned red: score 41 (−18 in 14 days): "
                                 "weekly active users 22% of seats'; the move runs from the highest (for a resolve, "
                                 "lowest) score of the last 30 days, else 'score 72→41'."),
    "details": Field(description="Rule specifics: metric, value, line, exit, baseline, for_seconds; or the "
                                 "stalled source and its staleness; or, when a warning line left the policy "
                                 "while firing, reason `rule_retired`."),
    "episode_start": Field(description="Event time (epoch ms) the episode started."),
    "event_time": Field(description="Event time (epoch ms, stream time) of the evaluation that decided this."),
    "processed_at": Field(description="Processing time (wall clock, epoch ms): the only non-deterministic field."),
    "policy_version": Field(description="Content hash of the policy, e.g. `sha256:1a2b3c4d5e6f`."),
}


#: fields added by a minor step: absent from alerts written before it, so optional to a reader
_ADDED_IN_MINOR = {"schema_minor", "score_7d_ago", "score_30d_ago"}


def model_of(name: str, record: type, fields: dict[str, Any], nested: dict[Any, Any]) -> type[BaseModel]:
    """Return a pydantic model of the TypedDict `record`: its fields in order, with `fields`' details."""
    definitions: dict[str, Any] = {}
    for field, annotation in get_type_hints(record).items():
        details = fields.get(field, ...)
        if field in _ADDED_IN_MINOR:
            definitions[field] = (annotation | None, Field(None, description=details.description))
        else:
            definitions[field] = (nested.get(annotation, annotation), details)
    unknown = fields.keys() - definitions.keys()
    assert not unknown, f"details for fields {record.__name__} does not have: {sorted(unknown)}"
    return create_model(name, __config__=ConfigDict(extra="ignore"),
                        __doc__=record.__doc__, __module__=__name__, **definitions)


AlertMeasure = model_of("AlertMeasure", MeasureRecord, _MEASURE_FIELDS, {})
# (AlertMeasure is a class built at run time, which mypy cannot take as a type.)
Alert = model_of("Alert", AlertRecord, _ALERT_FIELDS,
               {list[MeasureRecord]: list[AlertMeasure]})  # type: ignore[valid-type]
