"""The alert state machines: band changes with hysteresis and dwell, warning lines with `for` and exit lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from healthmon.core.measures import Metrics
from healthmon.core.policy import TierPolicy, WarningLine
from healthmon.core.rounding import round_to
from healthmon.core.scoring import Scorecard, band_with_hysteresis, worse
from healthmon.core.state import Lifecycle, RuleState
from healthmon.core.vocabulary import FIRING, RESOLVED, AlertKind, AlertStatus, Band

__all__ = ["ACCOUNT_REMOVED", "HEALTH_RULE", "RULE_RETIRED", "Timing", "Transition", "account_removed",
           "evaluate_lifecycle", "line_check", "line_value", "rhythm_line", "timer_due"]

HEALTH_RULE: Final = "health"
#: `details.reason` of the resolved alert of a warning line the account's policy no longer has
RULE_RETIRED: Final = "rule_retired"
#: `details.reason` of the resolved alerts of an account its source removed (`details.removal` says how)
ACCOUNT_REMOVED: Final = "account_removed"


class Timing:
    """The policy's health timings and the evaluation context, in epoch ms."""

    __slots__ = ("at_ms", "warm", "min_dwell_ms", "cooldown_ms", "held_back")

    def __init__(self, at_ms: int, warm: bool, min_dwell_ms: int, cooldown_ms: int,
                 held_back: frozenset[str] = frozenset()) -> None:
        self.at_ms, self.warm, self.held_back = at_ms, warm, held_back
        self.min_dwell_ms, self.cooldown_ms = min_dwell_ms, cooldown_ms


@dataclass(frozen=True)
class Transition:
    """A decision to announce: an episode of `rule` fires (again) or resolves."""

    kind: AlertKind
    rule: str
    status: AlertStatus
    episode_start: int
    band_before: Band | None
    band_after: Band | None
    score_before: float | None
    score_after: float | None
    details: dict[str, Any] = field(default_factory=dict)


#: what an evaluation that announces nothing returns
_NOTHING: Final[tuple[Transition, ...]] = ()


def rhythm_line(line: WarningLine, active_days: float | None, gap_days: float | None) -> float | None:
    """Return a rhythm line's enter line in days for an account's history so far (None: not watched yet)."""
    if line.gap_multiple is not None and gap_days is not None:
        assert line.min_above is not None and line.max_above is not None  # validation requires them
        return min(line.max_above, max(line.min_above, round_to(line.gap_multiple * gap_days, 2)))
    found: float | None = None
    if line.above_by_active_days is not None and active_days:
        for count, days in line.above_by_active_days:
            if count > active_days:
                break
            found = days
    return found


def line_check(line: WarningLine, metrics: Metrics) -> tuple[float | None, bool, bool]:
    """Return (value, past the enter line, past the exit line) of a warning line; None: no data."""
    if line.kind == "rhythm":
        value = metrics.get(line.metric)
        enter = rhythm_line(line, metrics.get("active_days"), metrics.get("activity_gap_days"))
        if value is None or enter is None:
            return None, False, False
        assert line.exit_below is not None  # validation defaults it
        return value, value > enter, value <= line.exit_below
    if line.kind == "absolute":
        value = metrics.get(line.metric)
        if value is None:
            return None, False, False
        if line.above is not None:  # a metric where higher is worse: enter above, leave at or below
            assert line.exit_below is not None  # validation gives a line both keys of its direction
            return value, value > line.above, value <= line.exit_below
        assert line.below is not None and line.exit_above is not None
        return value, value < line.below, value >= line.exit_above
    weeks = metrics.weekly(line.metric)
    if not weeks:
        return None, False, False
    baseline = sum(weeks[1:5]) / 4
    if baseline <= 0 or baseline < (line.min_baseline or 0):
        return None, False, False
    drop = round_to(1 - weeks[0] / baseline, 4)
    assert line.drop is not None and line.exit_drop is not None  # validation requires both on relative lines
    return drop, drop >= line.drop, drop < line.exit_drop


def line_value(line: WarningLine, metrics: Metrics) -> tuple[float | None, bool, bool, dict[str, Any]]:
    """Return (value, past the enter line, past the exit line, details) of a warning line; None: no data.

    The details are what an alert of the line shows; an evaluation builds them only for an alert.
    """
    value, entered, exited = line_check(line, metrics)
    details: dict[str, Any]
    if line.kind == "rhythm":
        active, gap = metrics.get("active_days"), metrics.get("activity_gap_days")
        details = {"metric": line.metric, "kind": "rhythm", "direction": "above", "value": metrics.get(line.metric),
                   "line": rhythm_line(line, active, gap), "exit": line.exit_below, "active_days": active,
                   "activity_gap_days": gap}
    elif line.kind == "absolute":
        if line.above is not None:
            details = {"metric": line.metric, "kind": "absolute", "direction": "above",
                       "value": metrics.get(line.metric), "line": line.above, "exit": line.exit_below}
        else:
            details = {"metric": line.metric, "kind": "absolute", "value": metrics.get(line.metric),
                       "line": line.below, "exit": line.exit_above}
    else:
        details = {"metric": line.metric, "kind": "relative", "value": None, "line": line.drop,
                   "exit": line.exit_drop}
        weeks = metrics.weekly(line.metric)
        if weeks:
            details.update(current=weeks[0], baseline=sum(weeks[1:5]) / 4)
            details["value"] = value
    return value, entered, exited, details


def _health(life: Lifecycle, card: Scorecard, tier: TierPolicy, t: Timing) -> Transition | None:
    h = life.health
    if card.score is None:
        h.pending_since, h.pending_band = 0, None
        return None
    candidate = band_with_hysteresis(card.score, h.band, tier.bands)
    if h.band is None or not t.warm:
        # Before the warm-up ends the band follows the score silently; a non-green band opens an
        # unannounced episode, so no resolve is ever sent for something that never fired.
        if candidate != h.band:
            h.band, h.score = candidate, card.score
            h.episode_start = 0 if candidate == "green" else (h.episode_start or t.at_ms)
            h.fired = False
        h.pending_since, h.pending_band = 0, None
        return None
    if candidate == h.band or tier.measure_sources & t.held_back:
        h.pending_since, h.pending_band = 0, None
        return None
    if not h.pending_since:
        h.pending_since = t.at_ms
    h.pending_band = candidate
    if t.at_ms - h.pending_since < t.min_dwell_ms:
        return None
    opening = h.band == "green"
    if opening and h.last_resolved and t.at_ms - h.last_resolved < t.cooldown_ms:
        return None
    before_band, before_score = h.band, h.score
    status: AlertStatus
    h.band, h.score = candidate, card.score
    h.pending_since, h.pending_band = 0, None
    if candidate == "green":
        episode, fired = h.episode_start, h.fired
        h.episode_start, h.fired = 0, False
        if not fired:
            return None
        h.last_resolved = t.at_ms
        status = RESOLVED
    else:
        if opening or not h.episode_start:
            h.episode_start = t.at_ms
        if not h.fired and not worse(candidate, before_band):
            return None  # an improvement within an unannounced episode (e.g. after the warm-up) is no news
        episode, h.fired, status = h.episode_start, True, FIRING
    return Transition("health_changed", HEALTH_RULE, status, episode, before_band, candidate, before_score,
                      card.score, {"hysteresis_points": tier.bands.hysteresis_points,
                                   "cut_offs": {"green": tier.bands.green, "yellow": tier.bands.yellow}})


def _line(life: Lifecycle, line: WarningLine, metrics: Metrics, card: Scorecard, t: Timing) -> Transition | None:
    rule = life.lines.get(line.name)
    value, entered, exited = line_check(line, metrics)
    # `line.source` is a property of the (Python) policy: read only when some input is held back.
    held = bool(t.held_back) and line.source in t.held_back
    if rule is None:
        if not entered or not t.warm or held:
            return None
        rule = life.line(line.name)
    if not t.warm or held or value is None:
        if rule.status == RuleState.PENDING:  # the `for` clock restarts once the data is trustworthy
            rule.status, rule.pending_since = RuleState.OK, 0
        return None
    if rule.status == RuleState.FIRING:
        if not exited:
            return None
        rule.status, rule.last_resolved = RuleState.OK, t.at_ms
        episode, rule.episode_start, rule.fired = rule.episode_start, 0, False
        return Transition("below_warning_line", line.name, RESOLVED, episode, life.last_band, card.band,
                          life.last_score, card.score, _details(line, metrics))
    if not entered:
        rule.status, rule.pending_since = RuleState.OK, 0
        return None
    if rule.status == RuleState.OK:
        rule.status, rule.pending_since = RuleState.PENDING, t.at_ms
    if t.at_ms - rule.pending_since < line.for_seconds * 1000:
        return None
    if rule.last_resolved and t.at_ms - rule.last_resolved < line.cooldown_seconds * 1000:
        return None
    rule.status, rule.episode_start, rule.fired = RuleState.FIRING, rule.pending_since, True
    return Transition("below_warning_line", line.name, FIRING, rule.episode_start, life.last_band, card.band,
                      life.last_score, card.score, _details(line, metrics))


def _details(line: WarningLine, metrics: Metrics) -> dict[str, Any]:
    """Return the details of an alert of `line`: `line_value`'s, and its `for`."""
    details = line_value(line, metrics)[3]
    details["for_seconds"] = line.for_seconds
    return details


def _retired(life: Lifecycle, kept: frozenset[str], card: Scorecard) -> list[Transition]:
    """Forget the warning lines the account's policy no longer has; a firing one resolves first.

    A line goes when the policy drops it or when the account moves to a tier without it. Its episode
    must still end, or the pager keeps an incident open that nothing will ever close.
    """
    out = []
    for name in sorted(set(life.lines) - kept):
        rule = life.lines.pop(name)
        if rule.status == RuleState.FIRING:
            out.append(Transition("below_warning_line", name, RESOLVED, rule.episode_start, life.last_band,
                                  card.band, life.last_score, card.score, {"reason": RULE_RETIRED}))
    return out


def account_removed(life: Lifecycle, card: Scorecard, removal: str) -> list[Transition]:
    """Resolve every open episode of an account its source removed (`removal`: deleted or tombstone)."""
    details = {"reason": ACCOUNT_REMOVED, "removal": removal}
    out = []
    h = life.health
    if h.fired:
        out.append(Transition("health_changed", HEALTH_RULE, RESOLVED, h.episode_start, h.band, h.band, h.score,
                              h.score, dict(details)))
        h.fired = False
    for name in sorted(life.lines):
        rule = life.lines[name]
        if rule.status == RuleState.FIRING:
            out.append(Transition("below_warning_line", name, RESOLVED, rule.episode_start, life.last_band,
                                  card.band, life.last_score, card.score, dict(details)))
            rule.status = RuleState.OK
    return out


def evaluate_lifecycle(life: Lifecycle, card: Scorecard, metrics: Metrics, tier: TierPolicy,
                       timing: Timing) -> Sequence[Transition]:
    """Advance every rule of an account by one evaluation; return what to announce (most often nothing).

    When nothing is announced no list is built: the result is a shared empty tuple.
    """
    health = _health(life, card, tier, timing)
    out: list[Transition] | None = None if health is None else [health]
    lines = life.lines
    if lines:
        kept = tier.line_names
        if any(name not in kept for name in lines):
            retired = _retired(life, kept, card)
            if retired:
                out = retired if out is None else out + retired
    for line in tier.warning_lines:
        tr = _line(life, line, metrics, card, timing)
        if tr is not None:
            out = [tr] if out is None else [*out, tr]
    life.last_score, life.last_band = card.score, card.band
    return _NOTHING if out is None else out


def timer_due(life: Lifecycle, tier: TierPolicy, min_dwell_ms: int, cooldown_ms: int, last_ms: int,
              at_ms: int) -> bool:
    """Return whether a pending rule's dwell, `for` or cooldown ends in (`last_ms`, `at_ms`].

    With the same metrics and no input held back, the lifecycle decides differently from its latest
    evaluation only once one of these instants has passed: its rules compare `at_ms` with them alone.
    """
    health = life.health
    if health.pending_since:
        if last_ms < health.pending_since + min_dwell_ms <= at_ms:
            return True
        if health.last_resolved and last_ms < health.last_resolved + cooldown_ms <= at_ms:
            return True
    lines = life.lines
    if lines:
        for line in tier.warning_lines:
            rule = lines.get(line.name)
            if rule is None or rule.status == RuleState.FIRING:
                continue
            if rule.status == RuleState.OK:
                if rule.pending_since:
                    return True  # left over from a resolve: the next full evaluation clears it
                continue
            if last_ms < rule.pending_since + line.for_seconds * 1000 <= at_ms:
                return True
            if rule.last_resolved and last_ms < rule.last_resolved + line.cooldown_seconds * 1000 <= at_ms:
                return True
    return False
