"""`explain`: the measures ordered by the points of the score they cost."""

from __future__ import annotations

import pytest

from healthmon.serving.http import explain


@pytest.mark.parametrize(("score", "measures", "lost"), [
    (None, [{"name": "a", "value": None, "score": None, "weight": 1, "contribution": None}], [None]),
    (75.0, [{"name": "a", "value": 1, "score": 50.0, "weight": 1, "contribution": 25.0},
            {"name": "b", "value": 1, "score": 100.0, "weight": 1, "contribution": 50.0},
            {"name": "c", "value": None, "score": None, "weight": 3, "contribution": None}], [25.0, 0.0, None]),
    (40.0, [{"name": "z", "value": 1, "score": 40.0, "weight": 2, "contribution": 40.0}], [60.0]),
])
def test_explain_orders_measures_by_points_lost(score, measures, lost):
    explained = explain(measures)
    assert [m["points_lost"] for m in explained] == lost
    if score is not None:
        assert 100 - sum(x for x in lost if x is not None) == score
