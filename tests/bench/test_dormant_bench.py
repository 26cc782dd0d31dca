"""The dormant workload's bench: evaluations per purchase are a count, and skipping them changes no outcome."""

from __future__ import annotations

from healthmon.bench.dormant import run_dormant


def test_a_few_evaluations_per_purchase_and_the_backtest_raises_the_same_alerts() -> None:
    quiet = run_dormant(150, seed=5)
    daily = run_dormant(150, seed=5, daily=True, backtest=False)
    assert quiet["purchases"] == 450 and quiet["lines"] == 600
    assert quiet["evaluations_per_event"] <= 5 < daily["evaluations_per_event"]
    assert (quiet["alerts_digest"], quiet["states_digest"]) == (daily["alerts_digest"], daily["states_digest"])
    assert quiet["alerts"] == quiet["backtest_alerts"] > 0
    assert quiet["backtest_lines_per_s"] > 0
