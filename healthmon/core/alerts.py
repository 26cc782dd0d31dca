"""Build alert records (`healthmon.core.records.AlertRecord`) with deterministic ids."""

from __future__ import annotations

import hashlib
from typing import Any

from healthmon.core.lifecycle import ACCOUNT_REMOVED, RULE_RETIRED, Transition
from healthmon.core.measures import METRICS, format_value
from healthmon.core.records import AlertRecord
from healthmon.core.scoring import Scorecard
from healthmon.core.state import AccountState
from healthmon.core.vocabulary import ALERT_SCHEMA_VERSION, FIRING, AlertStatus, Severity

__all__ = ["PIPELINE", "account_alert", "alert_ids", "pipeline_alert"]

#: What pipeline alerts (about an input source, not an account) name in place of an account: in their ids,
#: their dedup key and their Kafka key.
PIPELINE = "__pipeline__"

_SEP = "\x1f"


def _digest(*parts: Any, size: int) -> str:
    return hashlib.sha256(_SEP.join(map(str, parts)).encode()).hexdigest()[:size]


def alert_ids(account: str, rule: str, episode_start: int, status: str, event_time: int,
              band_after: str | None) -> tuple[str, str, str]:
    """Return (alert_id, episode_id, dedup_key): functions of the episode and the decision only."""
    episode_id = _digest(account, rule, episode_start, size=24)
    alert_id = _digest(episode_id, status, event_time, band_after, size=32)
    return alert_id, episode_id, f"{account}/{rule}"[:255]


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g}"


def _driver(card: Scorecard) -> str:
    """Describe the measure that costs the score most points."""
    worst, lost = None, 0.0
    for m in card.measures:
        if m.score is not None and m.weight * (100 - m.score) > lost:
            worst, lost = m, m.weight * (100 - m.score)
    if worst is None:
        return ""
    return f"; {METRICS[worst.name].label} {format_value(worst.name, worst.value)}"


def _summary(who: str, tr: Transition, card: Scorecard) -> str:
    scores = f"score {_score(tr.score_before)}→{_score(tr.score_after)}"
    if tr.details.get("reason") == ACCOUNT_REMOVED:
        return f"{who} {tr.rule} resolved: the account was removed from its source ({tr.details['removal']})"
    if tr.kind == "health_changed":
        if tr.status == FIRING:
            return f"{who} turned {tr.band_after}: {scores}{_driver(card)}"
        return f"{who} back to {tr.band_after}: {scores}"
    d = tr.details
    if d.get("reason") == RULE_RETIRED:
        return f"{who} warning line {tr.rule} resolved: the policy no longer applies it to this account"
    label = METRICS[d["metric"]].label
    if d["kind"] == "rhythm":
        value = format_value(d["metric"], d["value"])
        if tr.status == FIRING:
            line = format_value(d["metric"], d["line"])
            gap = "" if d["activity_gap_days"] is None else f", every {d['activity_gap_days']:g} days on average"
            return (f"{who} above warning line {tr.rule}: {label} {value} (line {line} for an account active on "
                    f"{d['active_days']:g} days so far{gap})")
        return f"{who} back below warning line {tr.rule}: {label} {value} (exit {format_value(d['metric'], d['exit'])})"
    if d["kind"] == "absolute":
        value = format_value(d["metric"], d["value"])
        past, back = ("above", "below") if d.get("direction") == "above" else ("below", "above")
        if tr.status == FIRING:
            line = format_value(d["metric"], d["line"])
            return f"{who} {past} warning line {tr.rule}: {label} {value} (line {line})"
        exit_value = format_value(d["metric"], d["exit"])
        return f"{who} back {back} warning line {tr.rule}: {label} {value} (exit {exit_value})"
    change = (f"{label} {d['current']:g} vs {d['baseline']:g} average of the previous four weeks, "
              f"down {d['value'] * 100:.0f}%")
    if tr.status == FIRING:
        return f"{who} below warning line {tr.rule}: {change} (line {d['line'] * 100:.0f}%)"
    return f"{who} back above warning line {tr.rule}: {change} (exit {d['exit'] * 100:.0f}%)"


def account_alert(state: AccountState, tr: Transition, card: Scorecard, *, severity: Severity, at_ms: int,
                  policy_version: str, processed_at: int) -> AlertRecord:
    """Return the alert record of one account transition."""
    account = state.account_id
    alert_id, episode_id, dedup_key = alert_ids(account, tr.rule, tr.episode_start, tr.status, at_ms,
                                                tr.band_after)
    tier = state.tier or "standard"
    who = f"{state.name or account} ({tier})"
    return {
        "schema_version": ALERT_SCHEMA_VERSION,
        "alert_id": alert_id,
        "dedup_key": dedup_key,
        "episode_id": episode_id,
        "kind": tr.kind,
        "status": tr.status,
        "severity": severity,
        "account_id": account,
        "account_name": state.name,
        "tier": tier,
        "csm": state.csm,
        "rule": tr.rule,
        "score_before": tr.score_before,
        "score_after": tr.score_after,
        "band_before": tr.band_before,
        "band_after": tr.band_after,
        "measures": [m.as_dict() for m in card.measures],
        "summary": _summary(who, tr, card),
        "details": tr.details,
        "episode_start": tr.episode_start,
        "event_time": at_ms,
        "processed_at": processed_at,
        "policy_version": policy_version,
    }


def pipeline_alert(source: str, status: AlertStatus, *, episode_start: int, at_ms: int, staleness_seconds: float,
                   stale_after_seconds: int, hold_after_seconds: int, severity: Severity, policy_version: str,
                   processed_at: int) -> AlertRecord:
    """Return an `ingest_stalled` alert: a pipeline alert, so `account_id` is null."""
    rule = f"ingest_stalled:{source}"
    alert_id, episode_id, _ = alert_ids(PIPELINE, rule, episode_start, status, at_ms, None)
    if status == FIRING:
        summary = (f"Ingest stalled: no {source} events for {staleness_seconds:.0f} s of stream time "
                   f"(threshold {stale_after_seconds} s); activity alerts held back")
    else:
        summary = (f"Ingest resumed: {source} events are flowing again; activity alerts stay held back for "
                   f"{hold_after_seconds} s while the gap is in the windows")
    return {
        "schema_version": ALERT_SCHEMA_VERSION,
        "alert_id": alert_id,
        "dedup_key": f"{PIPELINE}/{rule}",
        "episode_id": episode_id,
        "kind": "ingest_stalled",
        "status": status,
        "severity": severity,
        "account_id": None,
        "account_name": None,
        "tier": None,
        "csm": None,
        "rule": rule,
        "score_before": None,
        "score_after": None,
        "band_before": None,
        "band_after": None,
        "measures": [],
        "summary": summary,
        "details": {"source": source, "staleness_seconds": staleness_seconds,
                    "stale_after_seconds": stale_after_seconds, "hold_after_seconds": hold_after_seconds},
        "episode_start": episode_start,
        "event_time": at_ms,
        "processed_at": processed_at,
        "policy_version": policy_version,
    }
