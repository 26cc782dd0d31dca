"""Map a healthmon alert record to an Alertmanager API v2 alert (labels, annotations, times)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from healthmon.config.alerts import TEMPLATE_FIELDS
from healthmon.core.measures import METRICS, format_value

__all__ = ["ALERTNAMES", "LinkTemplates", "alert_annotations", "alert_labels", "description", "iso_ms",
           "to_alertmanager"]

#: alert kind -> Alertmanager `alertname`
ALERTNAMES = {
    "health_changed": "CustomerHealthChanged",
    "below_warning_line": "CustomerBelowWarningLine",
    "ingest_stalled": "HealthmonIngestStalled",
}
#: how many measures the description names
TOP_MEASURES = 3


@dataclass(frozen=True)
class LinkTemplates:
    """Where the annotations' links point: the HTTP API base URL and a Grafana URL template."""

    account_url_base: str = ""
    dashboard_url_template: str = ""


def iso_ms(epoch_ms: int) -> str:
    """Return an RFC 3339 UTC timestamp with milliseconds, as Alertmanager's API takes."""
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def alert_labels(alert: dict[str, Any]) -> dict[str, str]:
    """Return the alert's identifying labels: only bounded fields the alert carries, none empty."""
    labels = {
        "alertname": ALERTNAMES[alert["kind"]],
        "kind": alert["kind"],
        "rule": alert["rule"],
        "severity": alert["severity"],
        "account_id": alert.get("account_id"),
        "tier": alert.get("tier"),
        "csm": alert.get("csm"),
    }
    if alert["kind"] == "ingest_stalled":
        # routed to the healthmon on-call with the Prometheus pipeline alerts, not to a CSM
        labels["component"] = "pipeline"
    return {k: v for k, v in labels.items() if v}


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g}"


def _points_lost(measures: list[dict[str, Any]]) -> list[tuple[float, dict[str, Any]]]:
    """Return (points below 100 the measure costs the score, measure), largest first."""
    scored = [m for m in measures if m.get("score") is not None and m.get("contribution") is not None]
    total = sum(m["weight"] for m in scored)
    if total <= 0:
        return []
    lost = [(m["weight"] * 100 / total - m["contribution"], m) for m in scored]
    return sorted((x for x in lost if x[0] > 0.005), key=lambda x: (-x[0], x[1]["name"]))


def _measure(m: dict[str, Any]) -> str:
    metric = METRICS.get(m["name"])
    label = metric.label if metric else m["name"]
    value = format_value(m["name"], m["value"]) if metric else f"{m['value']:g}"
    return f"{label} {value}"


def description(alert: dict[str, Any]) -> str:
    """Return the score before and after, and the measures that cost the score most points."""
    if alert["kind"] == "ingest_stalled":
        d = alert.get("details", {})
        return (f"Input {d.get('source', '?')} has sent nothing for {d.get('staleness_seconds', 0):.0f} s of "
                f"stream time; activity alerts are held back. Runbook: docs/operations.md#healthmonsourcestale")
    text = f"Score {_score(alert.get('score_before'))} → {_score(alert.get('score_after'))}"
    if alert.get("band_before") or alert.get("band_after"):
        text += f" ({alert.get('band_before') or 'n/a'} → {alert.get('band_after') or 'n/a'})"
    worst = _points_lost(alert.get("measures", []))[:TOP_MEASURES]
    if worst:
        text += ". Costing most: " + "; ".join(f"{_measure(m)} (−{lost:.1f} points)" for lost, m in worst)
    return text + "."


def alert_annotations(alert: dict[str, Any], links: LinkTemplates) -> dict[str, str]:
    """Return the alert's annotations: what a human reads, and links to the account."""
    notes = {
        "summary": alert["summary"],
        "description": description(alert),
        "alert_id": alert["alert_id"],
        "episode_id": alert["episode_id"],
        "policy_version": alert["policy_version"],
    }
    if alert.get("account_id") and links.account_url_base:
        notes["account_url"] = f"{links.account_url_base.rstrip('/')}/accounts/{alert['account_id']}"
    if links.dashboard_url_template:
        labels = alert_labels(alert)
        notes["dashboard_url"] = links.dashboard_url_template.format_map(
            {f: labels.get(f, "") for f in TEMPLATE_FIELDS})
    return notes


def to_alertmanager(alert: dict[str, Any], links: LinkTemplates, *, ends_at_ms: int | None = None,
                    now_ms: int) -> dict[str, Any]:
    """Return the API v2 alert: firing until `ends_at_ms`, or resolved at its event time (not after now)."""
    starts = alert["episode_start"] or alert["event_time"]
    if alert["status"] == "resolved":
        # an event time ahead of the wall clock would keep the alert firing until then
        ends = max(starts, min(alert["event_time"], now_ms))
    else:
        ends = max(starts, ends_at_ms if ends_at_ms is not None else now_ms)
    return {
        "labels": alert_labels(alert),
        "annotations": alert_annotations(alert, links),
        "startsAt": iso_ms(starts),
        "endsAt": iso_ms(ends),
    }
