"""Scoring: measure scores, the weighted average over measures with data, bands and hysteresis."""

from __future__ import annotations

import pytest

from healthmon.core import parse_policy
from healthmon.core.measures import Metrics
from healthmon.core.policy import BandPolicy
from healthmon.core.scoring import band_with_hysteresis, measure_score, quick_score, score
from tests.core.builders import policy_doc


@pytest.mark.parametrize(("value", "bad", "good", "expected"), [
    (0.35, 0.1, 0.6, 50.0),
    (0.1, 0.1, 0.6, 0.0),
    (0.05, 0.1, 0.6, 0.0),     # clamped below
    (0.9, 0.1, 0.6, 100.0),    # clamped above
    (1, 3, 0, 66.7),           # lower is better: 1 urgent ticket of a bad 3
    (0, 3, 0, 100.0),
    (5, 3, 0, 0.0),
    (10, -20, 40, 50.0),       # NPS
])
def test_measure_score_is_linear_between_bad_and_good(value, bad, good, expected) -> None:
    assert measure_score(value, bad, good) == expected


MEASURES = [
    {"metric": "weekly_active_ratio", "weight": 30, "bad": 0.0, "good": 1.0},
    {"metric": "nps_90d", "weight": 10, "bad": -100, "good": 100},
    {"metric": "csat_28d", "weight": 10, "bad": 1, "good": 5},
]


@pytest.mark.parametrize(("metrics", "expected_score", "expected_band"), [
    ({"weekly_active_ratio": 0.5, "nps_90d": 0, "csat_28d": 3}, 50.0, "yellow"),
    # no NPS answers and no CSAT: those measures are left out, not counted as 0
    ({"weekly_active_ratio": 0.8, "nps_90d": None, "csat_28d": None}, 80.0, "green"),
    ({"weekly_active_ratio": 0.8, "nps_90d": -100, "csat_28d": None}, 60.0, "yellow"),
    ({"weekly_active_ratio": None, "nps_90d": None, "csat_28d": None}, None, None),
])
def test_score_is_the_weighted_average_of_measures_with_data(metrics, expected_score, expected_band) -> None:
    tier = parse_policy(policy_doc(measures=MEASURES)).for_tier("standard")
    card = score(Metrics.of(metrics), tier)
    assert (card.score, card.band) == (expected_score, expected_band)
    contributions = [m.contribution for m in card.measures if m.contribution is not None]
    if expected_score is not None:
        assert sum(contributions) == pytest.approx(expected_score, abs=0.05)
    assert [m.name for m in card.measures] == [m["metric"] for m in MEASURES]


BANDS = BandPolicy(green=75, yellow=50, hysteresis_points=3)


@pytest.mark.parametrize(("score_", "current", "expected"), [
    (74, "green", "green"),     # inside the margin: stay
    (72.1, "green", "green"),
    (71.9, "green", "yellow"),
    (76, "yellow", "yellow"),   # not far enough above the cut-off to come back
    (78, "yellow", "green"),
    (48, "green", "yellow"),    # far below, but only yellow until the red cut-off is passed by the margin
    (46, "green", "red"),
    (52, "red", "red"),
    (53, "red", "yellow"),
    (60, None, "yellow"),       # no announced band yet: the plain band
])
def test_band_with_hysteresis(score_, current, expected) -> None:
    assert band_with_hysteresis(score_, current, BANDS) == expected


@pytest.mark.parametrize("wau", [None, 0.0, 0.13, 0.5, 0.77, 1.0])
@pytest.mark.parametrize("nps", [None, -100, 33, 100])
def test_quick_score_matches_the_full_score(wau, nps) -> None:
    tier = parse_policy(policy_doc(measures=MEASURES)).for_tier("standard")
    metrics = Metrics.of({"weekly_active_ratio": wau, "nps_90d": nps, "csat_28d": 4})
    full, quick = score(metrics, tier), quick_score(metrics, tier)
    assert (quick.score, quick.band) == (full.score, full.band)
