"""Each scenario visibly does what it says."""

from __future__ import annotations

import statistics
from collections import Counter

import pytest

from healthmon.generator import generate, scenario_names
from healthmon.generator.records import DAY_MS
from healthmon.generator.rng import derive_rng
from healthmon.generator.scenarios import CHURN_NOTICE_DAYS, RECOVER_AFTER_DAYS, STALL_DAYS, assign_plan

from .measures import of_account, weekly_active_users

WEEK_MS = 7 * DAY_MS


def _baseline_wau(records, traffic, account: str) -> float:
    """Mean weekly active users over the full weeks before the change."""
    weeks = range(traffic.change_day // 7)
    return statistics.mean(weekly_active_users(records, account, traffic.start_ms + w * WEEK_MS) for w in weeks)


def test_scenario_names():
    assert scenario_names() == ["mixed", "healthy", "drop", "silent", "ticket_spike", "recover", "ingest_stall"]


def test_change_day_is_two_weeks_before_the_end_by_default(mixed):
    traffic, _ = mixed
    assert traffic.days == 42 and traffic.change_day == 28
    assert traffic.change_day_ms == traffic.start_ms + 28 * DAY_MS
    assert traffic.recover_day_ms == traffic.change_day_ms + RECOVER_AFTER_DAYS * DAY_MS
    assert traffic.stall_window_ms is None


@pytest.mark.parametrize(("scenario", "churning"), [("mixed", {"drop", "silent"}), ("drop", {"drop"}),
                                                    ("silent", {"silent"}), ("recover", set()), ("healthy", set())])
def test_churn_labels_name_the_drop_and_silent_accounts_two_weeks_after_their_change(traffic_factory, scenario,
                                                                                     churning):
    traffic, _ = traffic_factory(scenario)
    labels = traffic.churn_labels()
    assert sorted(labels) == sorted(a for a, b in traffic.plan.items() if b in churning)
    assert set(labels.values()) <= {traffic.change_day_ms + CHURN_NOTICE_DAYS * DAY_MS}
    if churning:
        assert labels and traffic.change_day_ms + CHURN_NOTICE_DAYS * DAY_MS == traffic.end_ms


@pytest.mark.parametrize("accounts", [5, 7, 10, 24, 100])
def test_mixed_is_mostly_healthy_with_at_least_one_of_each_trouble(accounts):
    plan = generate(accounts).plan
    counts = Counter(plan.values())
    assert set(counts) == {"healthy", "drop", "silent", "ticket_spike", "recover"}
    if accounts >= 24:
        assert counts["healthy"] == round(accounts * 0.7)
    assert max(counts[b] for b in ("drop", "silent", "ticket_spike", "recover")) - min(
        counts[b] for b in ("drop", "silent", "ticket_spike", "recover")
    ) <= 1


@pytest.mark.parametrize("accounts", [1, 2, 4])
def test_mixed_with_few_accounts_still_works(accounts):
    plan = assign_plan("mixed", accounts, derive_rng(1), 0.3)
    assert len(plan) == accounts and plan.count("healthy") >= accounts / 2


@pytest.mark.parametrize("scenario", ["drop", "silent", "ticket_spike", "recover"])
def test_a_named_scenario_affects_a_share_of_accounts(scenario):
    assert Counter(generate(10, scenario=scenario).plan.values()) == {"healthy": 7, scenario: 3}
    assert Counter(generate(10, scenario=scenario, affected_ratio=1.0).plan.values()) == {scenario: 10}
    assert Counter(generate(2, scenario=scenario).plan.values())[scenario] == 1


def test_silent_accounts_send_nothing_after_the_change_day(traffic_factory):
    traffic, records = traffic_factory("silent")
    silent = traffic.accounts_with("silent")
    assert len(silent) == round(len(traffic.accounts) * 0.3)
    for account in silent:
        events = of_account(records, account)
        assert not [r for r in events if r.occurred_at >= traffic.change_day_ms]
        last_week = [r for r in events if r.occurred_at >= traffic.change_day_ms - WEEK_MS]
        assert len(last_week) > 10, "a silent account must have been active before"
    # Everyone else keeps going: the input as a whole is not silent.
    healthy = traffic.accounts_with("healthy")
    assert all(of_account(records, a, "usage")[-1].occurred_at >= traffic.end_ms - WEEK_MS for a in healthy)


def test_drop_accounts_lose_most_of_their_active_users_for_good(traffic_factory):
    traffic, records = traffic_factory("drop")
    dropped = traffic.accounts_with("drop")
    assert dropped
    for account in dropped:
        before = _baseline_wau(records, traffic, account)
        after = [weekly_active_users(records, account, traffic.change_day_ms + w * WEEK_MS) for w in (0, 1)]
        assert max(after) < 0.4 * before, (account, before, after)
        assert sum(after) > 0, "a drop is not silence"


def test_recover_accounts_drop_for_a_week_then_come_back(traffic_factory):
    traffic, records = traffic_factory("recover")
    recovering = traffic.accounts_with("recover")
    assert recovering
    seats = {a.account_id: a.seats for a in traffic.accounts}
    total_before = total_back = 0.0
    for account in recovering:
        before = _baseline_wau(records, traffic, account)
        down = weekly_active_users(records, account, traffic.change_day_ms)
        back = weekly_active_users(records, account, traffic.recover_day_ms)
        assert down < 0.4 * before, (account, before, down)
        # One user's quiet week moves a 5-seat account by 20%: judge those only in aggregate.
        if seats[account] >= 10:
            assert back >= 0.8 * before, (account, before, back)
        total_before += before
        total_back += back
    assert total_back >= 0.8 * total_before


def test_ticket_spike_floods_urgent_tickets_with_bad_sentiment_while_usage_continues(traffic_factory):
    traffic, records = traffic_factory("ticket_spike")
    spiking = traffic.accounts_with("ticket_spike")
    assert spiking
    change = traffic.change_day_ms
    usage_before = usage_after = 0.0
    for account in spiking:
        tickets = of_account(records, account, "ticket")
        opened_after = [r for r in tickets if r.value["status"] == "opened" and r.occurred_at >= change]
        opened_before = [r for r in tickets if r.value["status"] == "opened" and r.occurred_at < change]
        assert len(opened_after) >= 10
        assert len(opened_after) > 5 * len(opened_before) / 2  # 14 days after vs 28 before
        assert all(r.value["priority"] in ("high", "urgent") for r in opened_after)
        closed = {r.value["ticket_id"] for r in tickets if r.value["status"] == "closed"}
        left_open = [r for r in opened_after if r.value["ticket_id"] not in closed]
        assert len(left_open) >= 0.6 * len(opened_after)
        spike_ids = {r.value["ticket_id"] for r in opened_after}
        csat_after = [r.value["csat"] for r in tickets if r.value["ticket_id"] in spike_ids and "csat" in r.value]
        assert all(c <= 2 for c in csat_after)
        usage_before += _baseline_wau(records, traffic, account)
        usage_after += weekly_active_users(records, account, change)
    assert usage_after >= 0.8 * usage_before
    nps_after = [r.value["score"] for r in records if r.kind == "nps" and r.key in spiking and r.occurred_at >= change]
    assert nps_after and all(s <= 6 for s in nps_after)


def test_ingest_stall_stops_all_usage_for_three_days_while_tickets_continue(traffic_factory):
    traffic, records = traffic_factory("ingest_stall")
    assert set(traffic.plan.values()) == {"ingest_stall"}
    stall_start, stall_end = traffic.stall_window_ms
    assert (stall_start, stall_end) == (traffic.change_day_ms, traffic.change_day_ms + STALL_DAYS * DAY_MS)
    in_window = [r for r in records if stall_start <= r.occurred_at < stall_end]
    assert not [r for r in in_window if r.kind == "usage"]
    assert [r for r in in_window if r.kind == "ticket"]
    day_before = [r for r in records if r.kind == "usage" and stall_start - DAY_MS <= r.occurred_at < stall_start]
    resumed = {r.key for r in records if r.kind == "usage" and stall_end <= r.occurred_at < stall_end + WEEK_MS}
    assert day_before
    assert len(resumed) >= 0.9 * len(traffic.accounts)


def test_healthy_scenario_has_no_trouble(traffic_factory):
    traffic, records = traffic_factory("healthy")
    assert set(traffic.plan.values()) == {"healthy"}
    change = traffic.change_day_ms
    for account in traffic.accounts_with("healthy"):
        acc = next(a for a in traffic.accounts if a.account_id == account)
        if acc.onboarding_day is not None:
            continue
        before = _baseline_wau(records, traffic, account)
        assert weekly_active_users(records, account, change) >= 0.6 * before


def test_scenario_change_day_can_be_moved():
    traffic = generate(5, scenario="silent", days=20, change_day=12, affected_ratio=1.0)
    assert traffic.change_day == 12
    assert max(r.occurred_at for r in traffic.records()) < traffic.start_ms + 12 * DAY_MS
