"""Trends in alerts: the scores 7 and 30 days ago, and the move the summary names, from the score history."""

from __future__ import annotations

import pytest

from healthmon.core.alerts import move, scores_ago
from healthmon.core.history import DayPoint, add_point

D = 20_500


def _history(scores: dict[int, float | None]) -> bytes:
    blob = b""
    for day in sorted(scores):
        blob = add_point(blob, DayPoint(D + day, scores[day], None, ()), 180)
    return blob


@pytest.mark.parametrize(("scores", "now", "down", "expected"), [
    pytest.param({0: 59, 7: 60, 10: 55}, 41, True, "−19 in 14 days", id="from-the-highest-point"),
    pytest.param({0: 60, 7: 60, 10: 55}, 41, True, "−19 in 21 days", id="a-tie-takes-the-earliest"),
    pytest.param({-10: 99, 14: 60}, 41, True, "−19 in 7 days", id="older-than-30-days-is-out"),
    pytest.param({13: 60}, 41, True, "−19 in 8 days", id="one-point"),
    pytest.param({20: 41.4}, 41, True, "", id="less-than-a-point"),
    pytest.param({20: 30}, 41, True, "", id="up-is-no-drop"),
    pytest.param({3: 30, 19: 20}, 41, False, "+21 in 2 days", id="a-resolve-names-the-rise-from-the-lowest"),
    pytest.param({20: 60}, None, True, "", id="no-score-now"),
    pytest.param({}, 41, True, "", id="no-history"),
    pytest.param({20: None}, 41, True, "", id="points-without-a-score"),
    pytest.param({20: 42}, 41, True, "−1 in 1 day", id="one-day"),
])
def test_the_move_names_the_biggest_change_of_the_last_30_days(scores, now, down, expected) -> None:
    assert move(_history(scores), D + 21, now, down) == expected


def test_scores_ago_are_the_points_of_those_days_or_none() -> None:
    blob = _history({0: 50.0, 1: None, 14: 70.5})
    assert scores_ago(blob, D + 21) == (70.5, None)
    assert scores_ago(blob, D + 30) == (None, 50.0)
    assert scores_ago(blob, D + 8) == (None, None)  # day 1 has a point without a score
    assert scores_ago(b"", D) == (None, None)
