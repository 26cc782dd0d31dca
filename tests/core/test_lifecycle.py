"""Alert lifecycle: no flapping, dwell, `for` durations, resolves, cooldowns, escalation, hold-back."""

from __future__ import annotations

import pytest

from healthmon.core import parse_policy
from healthmon.core.lifecycle import Timing, evaluate_lifecycle
from healthmon.core.measures import Metrics
from healthmon.core.scoring import Scorecard
from healthmon.core.state import Lifecycle
from tests.core.builders import HOUR, T0, policy_doc


def _run_health(scores, dwell_h=0, cooldown_h=0, warm_from=0, held_back_at=()):
    tier = parse_policy(policy_doc(warning_lines=[])).for_tier("standard")
    life, out = Lifecycle(), []
    for i, s in enumerate(scores):
        card = Scorecard(s, tier.bands.band_of(s), ())
        timing = Timing(T0 + i * HOUR, i >= warm_from, dwell_h * HOUR, cooldown_h * HOUR,
                        frozenset({"usage"}) if i in held_back_at else frozenset())
        out += [(i, tr.status, tr.band_after) for tr in evaluate_lifecycle(life, card, Metrics.of({}), tier, timing)]
    return out


@pytest.mark.parametrize(("scores", "dwell_h", "cooldown_h", "expected"), [
    pytest.param([80, 74, 76, 73, 77, 72.5, 78, 74], 0, 0, [], id="oscillating-around-green-cut-off"),
    pytest.param([60, 49, 51, 48, 52, 47.5, 53], 0, 0, [], id="oscillating-around-yellow-cut-off"),
    pytest.param([80, 70, 76, 77, 78], 0, 0, [(1, "firing", "yellow"), (4, "resolved", "green")],
                 id="exit-needs-cut-off-plus-margin"),
    pytest.param([80, 70, 70, 70], 2, 0, [(3, "firing", "yellow")], id="dwell-two-hours"),
    pytest.param([80, 70, 80, 70, 80, 70], 1, 0, [], id="dwell-resets-when-score-comes-back"),
    pytest.param([80, 60, 40, 60, 80], 0, 0,
                 [(1, "firing", "yellow"), (2, "firing", "red"), (3, "firing", "yellow"), (4, "resolved", "green")],
                 id="escalate-then-recover"),
    pytest.param([80, 40, 80, 40, 40, 40], 0, 2,
                 [(1, "firing", "red"), (2, "resolved", "green"), (4, "firing", "red")], id="cooldown-delays-reopen"),
    pytest.param([80, 40, 80, 40, 80], 0, 5, [(1, "firing", "red"), (2, "resolved", "green")],
                 id="cooldown-swallows-short-relapse"),
    pytest.param([40, 80, 40], 0, 0, [(2, "firing", "red")], id="first-band-is-silent"),
    pytest.param([40, 60, 80], 0, 0, [], id="silent-episode-improving-stays-silent"),
    pytest.param([60, 40, 60, 80], 0, 0, [(1, "firing", "red"), (2, "firing", "yellow"), (3, "resolved", "green")],
                 id="silent-episode-announced-when-worse"),
])
def test_health_changes(scores, dwell_h, cooldown_h, expected) -> None:
    assert _run_health(scores, dwell_h, cooldown_h) == expected


def test_health_warm_up_is_silent_then_announces_changes() -> None:
    assert _run_health([80, 40, 80, 40], warm_from=3) == [(3, "firing", "red")]


def test_health_changes_are_held_back_while_a_source_is_stale() -> None:
    assert _run_health([80, 40, 40, 40], dwell_h=1, held_back_at={1, 2}) == []
    assert _run_health([80, 40, 40, 40, 40], dwell_h=1, held_back_at={1, 2}) == [(4, "firing", "red")]


def _run_line(values, for_h=0, cooldown_h=0, held_back_at=()):
    line = {"name": "wau_low", "metric": "weekly_active_ratio", "kind": "absolute", "below": 0.3,
            "exit_above": 0.4, "for_seconds": for_h * 3600, "cooldown_seconds": cooldown_h * 3600}
    tier = parse_policy(policy_doc(warning_lines=[line])).for_tier("standard")
    life, out = Lifecycle(), []
    for i, v in enumerate(values):
        card = Scorecard(None, None, ())
        timing = Timing(T0 + i * HOUR, True, 0, 0, frozenset({"usage"}) if i in held_back_at else frozenset())
        out += [(i, tr.status) for tr in
                evaluate_lifecycle(life, card, Metrics.of({"weekly_active_ratio": v}), tier, timing)]
    return out


@pytest.mark.parametrize(("values", "for_h", "cooldown_h", "expected"), [
    pytest.param([0.5, 0.2, 0.5], 0, 0, [(1, "firing"), (2, "resolved")], id="fire-resolve"),
    pytest.param([0.5, 0.2, 0.35, 0.29, 0.39, 0.4], 0, 0, [(1, "firing"), (5, "resolved")],
                 id="hysteresis-between-enter-and-exit"),
    pytest.param([0.5, 0.2, 0.2, 0.2], 2, 0, [(3, "firing")], id="for-two-hours"),
    pytest.param([0.2, 0.2, 0.31, 0.2, 0.2], 2, 0, [], id="for-restarts-when-condition-breaks"),
    pytest.param([0.2, 0.5, 0.2, 0.2, 0.2], 0, 3, [(0, "firing"), (1, "resolved"), (4, "firing")],
                 id="cooldown"),
    pytest.param([0.2, None, 0.5], 0, 0, [(0, "firing"), (2, "resolved")], id="no-data-keeps-firing"),
])
def test_warning_line(values, for_h, cooldown_h, expected) -> None:
    assert _run_line(values, for_h, cooldown_h) == expected


@pytest.mark.parametrize(("values", "held_back_at", "expected"), [
    ([0.5, 0.2, 0.2, 0.2, 0.2], (), [(2, "firing")]),
    ([0.5, 0.2, 0.2, 0.2, 0.2], {1, 2}, [(4, "firing")]),  # the `for` clock starts again after the stall
    ([0.5, 0.2, 0.2, 0.5, 0.5], {3}, [(2, "firing"), (4, "resolved")]),  # no resolve while held back
    ([0.5, 0.2, 0.2, 0.5, 0.5], {3, 4}, [(2, "firing")]),
])
def test_warning_line_is_frozen_while_held_back(values, held_back_at, expected) -> None:
    assert _run_line(values, 1, 0, held_back_at) == expected


def _run_above_line(values, for_h=0, cooldown_h=0):
    line = {"name": "urgent_high", "metric": "open_urgent_tickets", "kind": "absolute", "above": 2,
            "exit_below": 0, "for_seconds": for_h * 3600, "cooldown_seconds": cooldown_h * 3600}
    tier = parse_policy(policy_doc(warning_lines=[line])).for_tier("standard")
    life, out = Lifecycle(), []
    for i, v in enumerate(values):
        timing = Timing(T0 + i * HOUR, True, 0, 0)
        for tr in evaluate_lifecycle(life, Scorecard(None, None, ()), Metrics.of({"open_urgent_tickets": v}), tier,
                                     timing):
            assert (tr.details["direction"], tr.details["line"], tr.details["exit"]) == ("above", 2, 0)
            out.append((i, tr.status))
    return out


@pytest.mark.parametrize(("values", "for_h", "cooldown_h", "expected"), [
    pytest.param([0, 3, 0], 0, 0, [(1, "firing"), (2, "resolved")], id="fire-resolve"),
    pytest.param([0, 2, 1, 2], 0, 0, [], id="at-the-line-is-not-past-it"),
    pytest.param([0, 3, 2, 1, 3, 1, 0], 0, 0, [(1, "firing"), (6, "resolved")],
                 id="hysteresis-between-enter-and-exit"),
    pytest.param([0, 3, 3, 3], 2, 0, [(3, "firing")], id="for-two-hours"),
    pytest.param([3, 3, 2, 3, 3], 2, 0, [], id="for-restarts-when-condition-breaks"),
    pytest.param([3, 0, 3, 3, 3], 0, 3, [(0, "firing"), (1, "resolved"), (4, "firing")], id="cooldown"),
])
def test_above_warning_line(values, for_h, cooldown_h, expected) -> None:
    assert _run_above_line(values, for_h, cooldown_h) == expected
