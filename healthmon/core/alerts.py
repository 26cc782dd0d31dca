"""Build alert records (`healthmon.core.records.AlertRecord`) with deterministic ids."""

from __future__ import annotations

import hashlib
from typing import Any

from healthmon.core.history import decode, score_on
from healthmon.core.lifecycle import ACCOUNT_REMOVED, RULE_RETIRED, Transition
from healthmon.core.measures import METRICS, format_value
from healthmon.core.records import AlertRecord
from healthmon.core.scoring import Scorecard
from healthmon.core.state import AccountState
from healthmon.core.vocabulary import ALERT_SCHEMA_MINOR, ALERT_SCHEMA_VERSION, FIRING, AlertStatus, Severity
from healthmon.core.windows import asof_day

__all__ = ["MOVE_DAYS", "PIPELINE", "account_alert", "alert_ids", "move", "pipeline_alert", "scores_ago"]

#: What pipeline alerts (about an input source, not an account) name in place of an account: in their ids,
#: their dedup key and their Kafka key.
PIPELINE = "__pipeline__"

_SEP = "\x1f"
#: how far back the move an alert names may start: the highest (or, for a resolve, lowest) point in these days
MOVE_DAYS = 30


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


def scores_ago(history: bytes, day: int) -> tuple[float | None, float | None]:
    """Return the scores of the history points 7 and 30 days before `day` (None: no such point or score)."""
    return score_on(history, day - 7), score_on(history, day - 30)


def move(history: bytes, day: int, now: float | None, down: bool) -> str:
    """Name the score's move from its highest (`down`) or lowest point of the last `MOVE_DAYS` days.

    For example "−18 in 14 days"; empty when there is no such point or the score did not move that way by
    a whole point. The earliest day of the extreme wins a tie, so the span is the whole move.
    """
    if now is None:
        return ""
    best: tuple[float, int] | None = None
    for point in decode(history):
        if day - MOVE_DAYS <= point.day < day and point.score is not None:
            if best is None or (point.score > best[0] if down else point.score < best[0]):
                best = (point.score, point.day)
    if best is None:
        return ""
    change = round(now - best[0])
    if change == 0 or (change > 0) == down:
        return ""
    days = day - best[1]
    return f"{'−' if change < 0 else '+'}{abs(change)} in {days} day{'s' if days != 1 else ''}"


def _driver(card: Scorecard) -> str:
    """Describe the measure that costs the score most points."""
    worst, lost = None, 0.0
    for m in card.measures:
        if m.score is not None and m.weight * (100 - m.score) > lost:
            worst, lost = m, m.weight * (100 - m.score)
    if worst is None:
        return ""
    return f"; {METRICS[worst.name].label} {format_value(worst.name, worst.value)}"


def _summary(who: str, tr: Transition, card: Scorecard, moved: str) -> str:
    scores = f"score {_score(tr.score_before)}→{_score(tr.score_after)}"
    if tr.details.get("reason") == ACCOUNT_REMOVED:
        return f"{who} {tr.rule} resolved: the account was removed from its source ({tr.details['removal']})"
    if moved:  # "score 41 (−18 in 14 days)": the move over days says more than the last step
        scores = f"score {_score(tr.score_after)} ({moved})"
    if tr.kind == "health_changed":
        if tr.status == FIRING:
            driver = _driver(card)
            return f"{who} turned {tr.band_after}: {scores}{':' + driver[1:] if moved and driver else driver}"
        return f"{who} back to {tr.band_after}: {scores}"
    d = tr.details
    trend = f"; {scores}" if moved and tr.status == FIRING else ""
    if d.get("reason") == RULE_RETIRED:
        return f"{who} warning line {tr.rule} resolved: the policy no longer applies it to this account"
    label = METRICS[d["metric"]].label
    if d["kind"] == "rhythm":
        value = format_value(d["metric"], d["value"])
        if tr.status == FIRING:
            line = format_value(d["metric"], d["line"])
            gap = "" if d["activity_gap_days"] is None else f", every {d['activity_gap_days']:g} days on average"
            return (f"{who} above warning line {tr.rule}: {label} {value} (line {line} for an account active on "
                    f"{d['active_days']:g} days so far{gap}){trend}")
        return f"{who} back below warning line {tr.rule}: {label} {value} (exit {format_value(d['metric'], d['exit'])})"
    if d["kind"] == "absolute":
        value = format_value(d["metric"], d["value"])
        past, back = ("above", "below") if d.get("direction") == "above" else ("below", "above")
        if tr.status == FIRING:
            line = format_value(d["metric"], d["line"])
            return f"{who} {past} warning line {tr.rule}: {label} {value} (line {line}){trend}"
        exit_value = format_value(d["metric"], d["exit"])
        return f"{who} back {back} warning line {tr.rule}: {label} {value} (exit {exit_value})"
    change = (f"{label} {d['current']:g} vs {d['baseline']:g} average of the previous four weeks, "
              f"down {d['value'] * 100:.0f}%")
    if tr.status == FIRING:
        return f"{who} below warning line {tr.rule}: {change} (line {d['line'] * 100:.0f}%){trend}"
    return f"{who} back above warning line {tr.rule}: {change} (exit {d['exit'] * 100:.0f}%)"


def account_alert(state: AccountState, tr: Transition, card: Scorecard, *, severity: Severity, at_ms: int,
                  policy_version: str, processed_at: int) -> AlertRecord:
    """Return the alert record of one account transition."""
    account = state.account_id
    alert_id, episode_id, dedup_key = alert_ids(account, tr.rule, tr.episode_start, tr.status, at_ms,
                                                tr.band_after)
    tier = state.tier or "standard"
    who = f"{state.name or account} ({tier})"
    day = asof_day(at_ms)
    week, month = scores_ago(state.history, day)
    moved = move(state.history, day, tr.score_after, down=tr.status == FIRING)
    return {
        "schema_version": ALERT_SCHEMA_VERSION,
        "schema_minor": ALERT_SCHEMA_MINOR,
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
        "score_7d_ago": week,
        "score_30d_ago": month,
        "band_before": tr.band_before,
        "band_after": tr.band_after,
        "measures": [m.as_dict() for m in card.measures],
        "summary": _summary(who, tr, card, moved),
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
        "schema_minor": ALERT_SCHEMA_MINOR,
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
        "score_7d_ago": None,
        "score_30d_ago": None,
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
