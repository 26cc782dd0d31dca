"""Metrics: distinct users over 1/7/28 days, tickets by status, CSAT, NPS, time to value."""

from __future__ import annotations

from datetime import date

import pytest

from tests.core.builders import DAY, HOUR, T0, make_engine, nps, profile, ticket, usage


def _metrics(events, at_ms, **profile_kw):
    engine = make_engine()
    state = engine.new_state("acme")
    engine.apply(state, [profile(**profile_kw), *events])
    return engine.snapshot(state, at_ms)["metrics"]


def test_active_users_adoption_and_utilisation() -> None:
    events = [usage(T0 + d * DAY, f"u{d}", "reports" if d % 2 else "login") for d in range(30)]
    m = _metrics(events, T0 + 29 * DAY + HOUR, seats=40)
    assert (m["daily_active_users"], m["weekly_active_users"], m["monthly_active_users"]) == (1, 7, 28)
    assert m["core_users_28d"] == 14  # odd days 3..29 within the 28-day window
    assert (m["weekly_active_ratio"], m["license_utilisation"], m["adoption_rate"]) == (0.175, 0.7, 0.35)
    assert m["events_7d"] == 7 and m["events_per_day"] == 1.0
    assert m["days_since_last_activity"] == 0


@pytest.mark.parametrize(("events", "expected"), [
    pytest.param([ticket(T0, "t1", "opened", "normal")], (1, 0, 1, 1, None), id="opened"),
    pytest.param([ticket(T0, "t1", "opened", "normal"), ticket(T0 + HOUR, "t1", "updated", "urgent")],
                 (1, 1, 1, 1, None), id="escalated-by-update"),
    pytest.param([ticket(T0 + HOUR, "t1", "closed", "high", csat=2), ticket(T0, "t1", "opened", "high")],
                 (0, 0, 1, 1, 2.0), id="close-arrives-before-open"),
    pytest.param([ticket(T0, "t1", "opened", "high"), ticket(T0 + HOUR, "t1", "closed", "high", csat=5),
                  ticket(T0 + 2 * HOUR, "t1", "reopened", "high")], (1, 1, 1, 1, 5.0), id="reopened"),
    pytest.param([ticket(T0 - 10 * DAY, "old", "opened", "low"), ticket(T0, "t2", "opened", "low"),
                  ticket(T0 + HOUR, "t2", "closed", "low", csat=3), ticket(T0 + 2 * HOUR, "t3", "closed", "low",
                                                                         csat=5)],
                 (1, 0, 1, 2, 4.0), id="windows-and-csat-average"),
])
def test_ticket_metrics(events, expected) -> None:
    m = _metrics(events, T0 + DAY)
    assert (m["open_tickets"], m["open_urgent_tickets"], m["tickets_opened_7d"], m["tickets_opened_28d"],
            m["csat_28d"]) == expected


@pytest.mark.parametrize(("scores", "expected"), [
    ([10, 9, 8, 0, 6], 0.0),
    ([10, 10, 7], 66.7),
    ([0], -100.0),
    ([], None),
])
def test_nps(scores, expected) -> None:
    m = _metrics([nps(T0 + i * HOUR, s, f"u{i}") for i, s in enumerate(scores)], T0 + DAY)
    assert m["nps_90d"] == expected


def test_nps_window_is_90_days() -> None:
    events = [nps(T0, 0, "a"), nps(T0 + 85 * DAY, 10, "b")]
    assert _metrics(events, T0 + 89 * DAY + HOUR)["nps_90d"] == 0.0  # days 0 and 85: one each way
    assert _metrics(events, T0 + 90 * DAY + HOUR)["nps_90d"] == 100.0  # day 0 has left the window


@pytest.mark.parametrize(("events", "contract", "at_day", "expected"), [
    pytest.param([usage(T0 + 3 * DAY, "u", "login"), usage(T0 + 5 * DAY, "u", "reports")], date(2026, 1, 8), 10,
                 2.0, id="contract-on-the-first-day-seen"),
    pytest.param([usage(T0 + 3 * DAY, "u", "login")], date(2026, 1, 8), 10, 7.0, id="not-reached-yet-days-so-far"),
    pytest.param([usage(T0 + 3 * DAY, "u", "reports")], date(2026, 1, 20), 10, 0.0, id="contract-signed-later"),
    pytest.param([usage(T0 + 3 * DAY, "u", "reports")], date(2025, 12, 1), 10, None, id="contract-before-first-event"),
    pytest.param([usage(T0 + 3 * DAY, "u", "login")], date(2025, 12, 1), 10, None, id="unobserved-and-not-reached"),
    pytest.param([usage(T0 + 3 * DAY, "u", "reports"), ticket(T0, "t1", "opened", "low")], date(2026, 1, 5), 10,
                 3.0, id="a-ticket-on-the-contract-day-was-seen"),
])
def test_time_to_value(events, contract, at_day, expected) -> None:
    m = _metrics(events, T0 + at_day * DAY + HOUR, contract_start=contract)
    assert m["time_to_value_days"] == expected


def test_no_seats_means_no_ratio_data() -> None:
    engine = make_engine()
    state = engine.new_state("acme")
    engine.apply(state, [usage(T0)])
    snap = engine.snapshot(state, T0 + HOUR)
    assert snap["metrics"]["weekly_active_ratio"] is None
    assert (snap["score"], snap["band"], snap["tier"]) == (None, None, None)


@pytest.mark.parametrize("pattern", [
    pytest.param([(d, f"u{d % 5}", "reports" if d % 3 else "login") for d in range(0, 60, 2)], id="rolling-users"),
    pytest.param([(d, "u1", "login") for d in (0, 0, 1, 40, 41)] + [(39, "u2", "reports")], id="late-and-gap"),
    pytest.param([(d, f"u{u}", "reports") for d in (5, 3, 9, 2, 30) for u in range(4)], id="out-of-order"),
    pytest.param([(0, "u1", "login"), (36, "u1", "login"), (1, "u2", "reports")], id="too-old-for-windows"),
])
def test_user_counts_kept_by_apply_match_a_full_recount(pattern) -> None:
    # Evaluations read counts that `apply_usage` keeps up to date; they must equal walking every user.
    from healthmon.core.windows import count_users

    engine = make_engine()
    state = engine.new_state("acme")
    engine.apply(state, [profile(seats=10)])
    for n, (day, user, feature) in enumerate(pattern):
        engine.apply(state, [usage(T0 + day * DAY + n * 60_000, user, feature)])
        engine.tick(state, T0 + day * DAY + HOUR)
        if state.user_counts is not None:
            assert state.user_counts == count_users(state.users.values()), (n, day, user)
        engine.snapshot(state, T0 + day * DAY + 2 * HOUR)  # evaluates as of a later instant too
