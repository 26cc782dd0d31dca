"""`--truth inactivity:DAYS`: silence alerts judged by the history after them, figures checked by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from healthmon.backtest import BacktestOptions, run_backtest
from healthmon.backtest.truth import Truth, TruthError, parse_truth, truth_rate
from tests.backtest.tiny import HOUR, POLICY, SETTINGS, T0, days_ms

_d = days_ms

# Usage days: a 0, 10, 50 (gone); b 0, 95; c 70 (gone); d 0, 85; e never. The history ends on day 100.
GAPS = [("a", _d(0), _d(10)), ("a", _d(10), _d(50)), ("b", _d(0), _d(95)), ("d", _d(0), _d(85))]
LAST = {"a": _d(50), "b": _d(95), "c": _d(70), "d": _d(85), "e": None}


@pytest.mark.parametrize(("alerts", "figures"), [
    pytest.param([("a", 20)], (1, 1, 0, 0), id="before-a-long-gap-right"),
    pytest.param([("a", 45)], (1, 0, 0, 0), id="usage-5-days-later-wrong"),
    pytest.param([("a", 60)], (1, 1, 0, 1), id="after-the-last-usage-right-and-caught"),
    pytest.param([("b", 80)], (1, 0, 0, 0), id="usage-exactly-at-the-end-of-the-window-wrong"),
    pytest.param([("d", 65)], (1, 0, 0, 0), id="usage-exactly-days-later-wrong"),
    pytest.param([("d", 64)], (1, 1, 0, 0), id="usage-just-after-the-window-right"),
    pytest.param([("c", 85)], (0, 0, 1, 1), id="too-late-to-judge-but-caught"),
    pytest.param([("e", 30)], (1, 1, 0, 0), id="never-active-right"),
    pytest.param([("c", 65)], (1, 0, 0, 0), id="before-the-first-usage-wrong"),
])
def test_each_alert_is_judged_by_the_days_after_it(alerts, figures) -> None:
    rate = truth_rate([(a, _d(day)) for a, day in alerts], GAPS, LAST, _d(100), Truth(20))
    assert (rate.alerts, rate.true_alerts, rate.left_out, rate.caught) == figures
    assert rate.gone == 2  # a (last day 50) and c (70); b, d are active within 20 days of the end, e never was


def test_precision_recall_and_delays_by_hand() -> None:
    alerts = [("a", 20), ("a", 45), ("a", 60), ("a", 75), ("b", 30), ("b", 80), ("c", 85), ("d", 10), ("d", 70)]
    rate = truth_rate([(a, _d(day)) for a, day in alerts], GAPS, LAST, _d(100), Truth(20))
    # judged: all but c@85; right: a@20, a@60, a@75, b@30, d@10
    assert (rate.alerts, rate.true_alerts, rate.left_out) == (8, 5, 1)
    assert rate.precision == 5 / 8
    # gone: a (first alert after day 50: day 60) and c (day 85, unjudged but after its last usage)
    assert (rate.gone, rate.caught, rate.recall) == (2, 2, 1.0)
    assert rate.delay_days == [10.0, 15.0]
    assert (rate.delay_days_p10, rate.delay_days_median, rate.delay_days_p90) == (10.5, 12.5, 14.5)


@pytest.mark.parametrize("text", ["inactivity", "inactivity:", "inactivity:0", "inactivity:x", "labels:30",
                                  "inactivity:3651", "inactivity:-5"])
def test_a_bad_truth_is_refused(text) -> None:
    with pytest.raises(TruthError, match="inactivity:DAYS"):
        parse_truth(text)


def test_a_tiny_history_gives_the_figures_worked_out_by_hand(tiny: Path) -> None:
    report = run_backtest(SETTINGS, BacktestOptions(policies=[("p", POLICY)], input_dir=tiny,
                                                    truth=Truth(10), processing_ms=T0 + _d(400)))
    end = T0 + _d(60) + 12 * HOUR
    assert report["truth"] == {"kind": "inactivity", "days": 10, "end_ms": end, "judged_until_ms": end - _d(10),
                               "gone": 3}
    rates = report["policies"][0]["truth"]
    assert set(rates) == {"idle", "gone_quiet", "silence"}
    # idle (more than 5 days): c@6, d@6 (wrong: d is back on day 12), a@9, d@19, a@36; e@58 is too late to judge.
    # Each fires at 01:00, the first evaluation of its day; the last usage was at 09:00.
    idle = rates["idle"]
    assert (idle["alerts"], idle["true_alerts"], idle["left_out"], idle["gone"], idle["caught"]) == (5, 4, 1, 3, 3)
    assert idle["delay_days_median"] == pytest.approx(5 + 16 / 24)
    # gone_quiet (3 days after 1 active day, 8 after 2 or more): c@4, d@4 (wrong), a@12, d@22, a@39; e@56 too late.
    quiet = rates["gone_quiet"]
    assert (quiet["alerts"], quiet["true_alerts"], quiet["left_out"], quiet["caught"]) == (5, 4, 1, 3)
    assert (quiet["delay_days_p10"], quiet["delay_days_median"], quiet["delay_days_p90"]) == \
        pytest.approx((3 + 16 / 24 + 1.0, 8 + 16 / 24, 8 + 16 / 24))
    # Both together: the earliest alert after each last usage (c: gone_quiet@4, a and d: idle).
    both = rates["silence"]
    assert (both["alerts"], both["true_alerts"], both["left_out"], both["recall"]) == (10, 8, 2, 1.0)
    assert both["delay_days_median"] == pytest.approx(5 + 16 / 24)
    # The baseline: no usage for 30 days fires at c@30, d@43 (both right) and a@60 (too late to judge).
    base = report["baseline"]
    assert (base["no_activity_30d"]["alerts"], base["no_activity_30d"]["true_alerts"],
            base["no_activity_30d"]["left_out"], base["no_activity_30d"]["recall"]) == (2, 2, 1, 1.0)
    assert base["no_activity_30d"]["delay_days_median"] == 30.0
    assert (base["no_activity_60d"]["alerts"], base["no_activity_60d"]["caught"]) == (0, 1)
    assert (base["no_activity_90d"]["alerts"], base["no_activity_90d"]["recall"]) == (0, 0.0)
