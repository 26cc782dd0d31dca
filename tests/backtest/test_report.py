"""Backtest report figures on tiny hand-built histories, each answer worked out by hand below."""

from __future__ import annotations

import pytest

from healthmon.backtest.report import (
    DAY_MS,
    AlertRow,
    Inactivity,
    baseline_alerts,
    flapping,
    hit_rate,
    noise_report,
    only_in,
    quantile,
    rule_hit_rates,
)


def fire(account: str, day: float, rule: str = "wau_low", kind: str = "below_warning_line", csm: str | None = None,
         status: str = "firing", tier: str = "standard") -> AlertRow:
    return AlertRow(account, kind, rule, tier, status, int(day * DAY_MS), csm)


@pytest.mark.parametrize(("values", "q", "expected"), [
    ([4, 1, 3, 2], 0.5, 2.5),        # halfway between 2 and 3
    ([4, 1, 3, 2], 0.9, 3.7),        # position 0.9 * 3 = 2.7: 3 + 0.7 * (4 - 3)
    ([5], 0.1, 5),
    ([], 0.5, None),
])
def test_quantile_interpolates_between_ranks(values, q, expected) -> None:
    assert quantile(values, q) == pytest.approx(expected) if expected is not None else quantile(values, q) is None


# Churn on day 100 (A), 200 (B) and 50 (C); 90-day horizon.
CHURNED = {"A": 100 * DAY_MS, "B": 200 * DAY_MS, "C": 50 * DAY_MS}
HORIZON = 90 * DAY_MS


def test_hit_rate_precision_recall_and_lead_time() -> None:
    alerts = [("A", 20 * DAY_MS),   # 80 days before A churns: a hit
              ("A", 5 * DAY_MS),    # 95 days before: outside the horizon
              ("B", 150 * DAY_MS),  # 50 days before B churns: a hit
              ("B", 210 * DAY_MS),  # after B churned: not followed by churn
              ("D", 10 * DAY_MS)]   # D never churns
    got = hit_rate(alerts, CHURNED, HORIZON)
    assert (got.alerts, got.true_alerts, got.precision) == (5, 2, pytest.approx(2 / 5))
    assert (got.churned, got.caught, got.recall) == (3, 2, pytest.approx(2 / 3))  # C was never alerted
    # Lead times 50 (B) and 80 (A) days: p10 = 50 + 0.1 * 30, median 65, p90 = 50 + 0.9 * 30.
    assert got.lead_days == [50, 80]
    assert (got.lead_days_p10, got.lead_days_median, got.lead_days_p90) == (pytest.approx(53), 65, pytest.approx(77))


def test_hit_rate_counts_the_earliest_alert_in_the_horizon_for_lead_time() -> None:
    got = hit_rate([("A", 40 * DAY_MS), ("A", 30 * DAY_MS), ("A", 90 * DAY_MS)], CHURNED, HORIZON)
    assert (got.true_alerts, got.caught, got.lead_days) == (3, 1, [70])


def test_hit_rate_without_alerts_or_churn_is_undefined_not_zero() -> None:
    got = hit_rate([], {}, HORIZON)
    assert (got.precision, got.recall, got.lead_days_median) == (None, None, None)


def test_rule_hit_rates_split_by_rule_and_ignore_resolves() -> None:
    rows = [fire("A", 20, rule="wau_low"), fire("B", 150, rule="health", kind="health_changed"),
            fire("A", 30, rule="wau_low", status="resolved"), fire("D", 10, rule="wau_low")]
    got = rule_hit_rates(rows, CHURNED, HORIZON)
    assert list(got) == ["health", "wau_low", "overall"]
    assert (got["wau_low"].alerts, got["wau_low"].true_alerts, got["wau_low"].caught) == (2, 1, 1)
    assert (got["health"].alerts, got["health"].precision, got["health"].recall) == (1, 1.0, pytest.approx(1 / 3))
    assert (got["overall"].alerts, got["overall"].caught, got["overall"].recall) == (3, 2, pytest.approx(2 / 3))


def test_flapping_counts_refires_within_seven_days_of_a_resolve() -> None:
    rows = [fire("X", 1), fire("X", 3, status="resolved"),
            fire("X", 9),                                     # 6 days after the resolve: a flap
            fire("X", 10, status="resolved"),
            fire("X", 20),                                    # 10 days after: not a flap
            fire("Y", 4, rule="other"),                       # another account and rule
            fire("X", 5, rule="health", kind="health_changed")]  # X's other rule never resolved
    assert flapping(rows) == 1
    assert flapping(rows, window_ms=10 * DAY_MS) == 2


def test_noise_report_on_a_thirty_day_history() -> None:
    accounts = {"A": "ann", "B": "bob", "C": None}
    rows = [fire("A", 1, csm="ann"), fire("A", 2, csm="ann", status="resolved"),
            fire("A", 12, csm="ann", rule="health", kind="health_changed", tier="key"),
            fire("A", 20, csm="ann"), fire("B", 5, csm="bob")]
    got = noise_report(rows, accounts, 0, 30 * DAY_MS, {"green": 80, "yellow": 10, "red": 0})
    assert (got["days"], got["accounts"], got["alerts"], got["firing"]) == (30, 3, 5, 4)
    assert got["by_kind"] == {"below_warning_line": 4, "health_changed": 1}
    assert got["by_rule"] == {"health": 1, "wau_low": 4}
    assert got["by_status"] == {"firing": 4, "resolved": 1}
    assert got["by_tier"] == {"key": 1, "standard": 4}
    # Firing per account per 30 days over exactly 30 days: A 3, B 1, C 0.
    # mean 4/3; p90 of [0, 1, 3] at position 1.8 = 1 + 0.8 * 2 = 2.6; max 3.
    rate = got["per_account_per_30d"]
    assert (rate["mean"], rate["p90"], rate["max"]) == (pytest.approx(4 / 3), pytest.approx(2.6), 3)
    assert got["accounts_alerted_ratio"] == pytest.approx(2 / 3)
    assert got["noisiest"] == [["A", 3], ["B", 1]]
    assert got["flapping_refires"] == 0  # A's next wau_low firing is 18 days after its resolve
    # 30 days are 30/7 weeks: ann 3 * 7/30 = 0.7, bob 7/30, the account without a CSM 0.
    assert got["per_csm_per_week"] == {"(no csm)": 0, "ann": pytest.approx(0.7), "bob": pytest.approx(7 / 30)}
    assert got["band_ratio"] == {"green": pytest.approx(80 / 90), "red": 0, "yellow": pytest.approx(10 / 90)}


def test_inactivity_gaps_give_the_no_activity_baseline() -> None:
    tracker = Inactivity(min_gap_ms=30 * DAY_MS)
    tracker.seen("A")
    tracker.seen("B")  # a profile, never any usage
    for day in (0, 40, 45):
        tracker.usage("A", day * DAY_MS)
    for day in (10, 70, 75, 99):
        tracker.usage("C", day * DAY_MS)
    gaps = tracker.finish(0, 100 * DAY_MS)
    # A: idle from day 0 to 40, and from 45 to the end (day 100); B: from the start to the end;
    # C: exactly 60 days from day 10 to 70, then never 30.
    assert sorted(gaps) == [("A", 0, 40 * DAY_MS), ("A", 45 * DAY_MS, 100 * DAY_MS), ("B", 0, 100 * DAY_MS),
                            ("C", 10 * DAY_MS, 70 * DAY_MS)]
    assert baseline_alerts(gaps, 30) == [("A", 30 * DAY_MS), ("A", 75 * DAY_MS), ("B", 30 * DAY_MS),
                                         ("C", 40 * DAY_MS)]
    # A's gaps are 40 and 55 days; C's 60 days reach the line exactly, at the instant it is active again.
    assert baseline_alerts(gaps, 60) == [("B", 60 * DAY_MS), ("C", 70 * DAY_MS)]
    assert baseline_alerts(gaps, 90) == [("B", 90 * DAY_MS)]


def test_only_in_lists_what_one_policy_fires_and_the_other_never() -> None:
    left = [fire("A", 1), fire("B", 2, rule="health", kind="health_changed"), fire("C", 3, status="resolved")]
    right = [fire("A", 9), fire("C", 3)]
    assert only_in(left, right) == [("B", "health_changed", "health")]
    assert only_in(right, left) == [("C", "below_warning_line", "wau_low")]
