"""Engine: silence via ticks, alert lifecycles, tiers, warning lines, determinism across crashes."""

from __future__ import annotations

import pytest

from healthmon.core import state_from_bytes, state_to_bytes
from healthmon.core.history import last_day
from schemas.alert import Alert
from tests.core.builders import (
    DAY,
    HOUR,
    T0,
    brief,
    daily_usage,
    make_engine,
    nps,
    profile,
    ticket,
    without_processed_at,
)

H = HOUR


def _silent_account(engine, users=8, days=10):
    state = engine.new_state("acme")
    result = engine.apply(state, [profile(), *daily_usage(0, days, users)])
    assert result.alerts == []
    return state


def test_silent_account_crosses_its_line_on_ticks_alone() -> None:
    engine = make_engine()
    state = _silent_account(engine)
    alerts = []
    for hour in range(1, 24 * 8):
        now = T0 + 10 * DAY + hour * H
        alerts += [(now, a) for a in engine.tick(state, now).alerts]
    # every user was last active on day 9 at 09:00: as of day 16 nobody is in the 7-day window
    assert [(now - T0, a["kind"], a["status"], a["band_after"]) for now, a in alerts] == [
        (16 * DAY + H, "health_changed", "firing", "red"),
        (16 * DAY + H, "below_warning_line", "firing", "red"),
    ]
    for _, alert in alerts:
        Alert.model_validate(alert)
    health = alerts[0][1]
    # the move runs from the highest point of the last 30 days (day 0's, the earliest of the 80s) to now
    assert health["summary"] == ("Acme Corp (standard) turned red: score 0 (−80 in 16 days): weekly active users "
                                 "(share of seats) 0%")
    assert (health["score_before"], health["score_after"], health["band_before"]) == (80.0, 0.0, "green")
    # day 9's point (everyone active that week); 30 days back is before the account's first day
    assert (health["score_7d_ago"], health["score_30d_ago"], health["schema_minor"]) == (80.0, None, 1)
    assert alerts[1][1]["summary"].endswith("; score 0 (−80 in 16 days)")


def test_tick_is_idempotent_per_instant_and_ignores_the_past() -> None:
    engine = make_engine()
    state = _silent_account(engine)
    now = T0 + 17 * DAY
    assert len(engine.tick(state, now).alerts) == 2
    assert engine.tick(state, now).alerts == []
    assert engine.tick(state, now - H).alerts == []


def test_account_without_events_or_profile_is_not_evaluated() -> None:
    engine = make_engine()
    result = engine.tick(engine.new_state("ghost"), T0)
    assert (result.alerts, result.changed) == ([], False)


def test_profile_only_account_warms_up_from_its_first_tick() -> None:
    engine = make_engine(warmup_seconds=2 * 3600)
    state = engine.new_state("acme")
    engine.apply(state, [profile()])
    fired = [(h, a["rule"]) for h in range(1, 6) for a in engine.tick(state, T0 + h * H).alerts]
    assert fired == [(3, "wau_low")]  # WAU 0 < 30%: the first tick is silent (first band, warm-up)


def test_recovery_resolves_with_the_same_episode() -> None:
    engine = make_engine()
    state = _silent_account(engine)
    firing = engine.tick(state, T0 + 17 * DAY).alerts
    back = engine.apply(state, daily_usage(17, 2, 8)).alerts
    back += engine.tick(state, T0 + 19 * DAY).alerts
    assert brief(back) == [("health", "resolved", "green"), ("wau_low", "resolved", "green")]
    assert [a["episode_id"] for a in back] == [a["episode_id"] for a in firing]
    assert len({a["alert_id"] for a in firing + back}) == 4
    assert back[1]["summary"] == ("Acme Corp (standard) back above warning line wau_low: weekly active users "
                                  "(share of seats) 80% (exit 40%)")



@pytest.mark.parametrize("change", [
    {"warning_lines": []},  # removed from the policy
    {"tiers": {"standard": {"warning_lines": {"wau_low": {"enabled": False}}}}},  # disabled for the tier
], ids=["removed", "disabled for the tier"])
def test_a_firing_warning_line_the_policy_drops_resolves_once_under_its_episode(change) -> None:
    engine = make_engine()
    state = _silent_account(engine)
    firing = [a for a in engine.tick(state, T0 + 17 * DAY).alerts if a["kind"] == "below_warning_line"]
    assert brief(firing) == [("wau_low", "firing", "red")]
    # The operator changes the policy and restarts the worker on the same saved state.
    without_line = make_engine(**change)
    resolved = [a for a in without_line.tick(state, T0 + 18 * DAY).alerts if a["kind"] == "below_warning_line"]
    assert [(a["rule"], a["status"], a["episode_id"], a["details"]) for a in resolved] == [
        ("wau_low", "resolved", firing[0]["episode_id"], {"reason": "rule_retired"})]
    assert resolved[0]["summary"] == ("Acme Corp (standard) warning line wau_low resolved: the policy no longer "
                                      "applies it to this account")
    later = [a for h in range(1, 48) for a in without_line.tick(state, T0 + 18 * DAY + h * H).alerts]
    assert [a for a in later if a["kind"] == "below_warning_line"] == []
    # Brought back, the line starts afresh: a new episode, announced after its own evaluation.
    again = [a for a in engine.tick(state, T0 + 21 * DAY).alerts if a["kind"] == "below_warning_line"]
    assert brief(again) == [("wau_low", "firing", "red")]
    assert again[0]["episode_id"] != firing[0]["episode_id"]


TIERED = {
    "strategic": {"severity": "critical", "bands": {"green": 90, "yellow": 30},
                  "warning_lines": {"wau_low": {"below": 0.5, "exit_above": 0.6}}},
    "key": {"severity": "error"},
    "standard": {"severity": "warning", "bands": {"green": 30, "yellow": 20}},
}


@pytest.mark.parametrize(("tier", "users", "expected"), [
    ("strategic", 4, [("health", "critical", "yellow"), ("wau_low", "critical", "yellow")]),
    ("key", 4, [("health", "error", "red")]),  # 40 is red with the default cut-offs; above the 30% line
    ("standard", 4, []),  # green from 30 for standard accounts; 40% is above the line
    ("strategic", 2, [("health", "critical", "red"), ("wau_low", "critical", "red")]),
    ("key", 2, [("health", "error", "red"), ("wau_low", "error", "red")]),
    ("standard", 2, [("health", "warning", "yellow"), ("wau_low", "warning", "yellow")]),
])
def test_tier_overrides_severity_bands_and_lines(tier, users, expected) -> None:
    engine = make_engine(tiers=TIERED)
    state = engine.new_state("acme")
    engine.apply(state, [profile(tier=tier), *daily_usage(0, 3, 10)])
    engine.tick(state, T0 + 3 * DAY)  # everyone green and above the line
    # from day 3, only `users` users stay; the others drop out of the 7-day window on day 9
    alerts = engine.apply(state, daily_usage(3, 7, users)).alerts + engine.tick(state, T0 + 10 * DAY).alerts
    assert [(a["rule"], a["severity"], a["band_after"]) for a in alerts] == expected
    assert all(a["tier"] == tier for a in alerts)


def test_relative_line_compares_with_the_previous_four_weeks() -> None:
    line = {"name": "wau_drop", "metric": "weekly_active_users", "kind": "relative", "drop": 0.4,
            "exit_drop": 0.2, "min_baseline": 3, "for_seconds": 0, "cooldown_seconds": 0}
    engine = make_engine(warning_lines=[line])
    state = engine.new_state("acme")
    engine.apply(state, [profile(seats=1000)])
    alerts = []
    for day in range(50):
        alerts += [(day, a) for a in engine.apply(state, daily_usage(day, 1, 10 if day < 35 else 5)).alerts]
    assert [(day, a["rule"], a["status"]) for day, a in alerts] == [(41, "wau_drop", "firing")]
    assert alerts[0][1]["summary"] == ("Acme Corp (standard) below warning line wau_drop: weekly active users 5 "
                                       "vs 10 average of the previous four weeks, down 50% (line 40%)")
    assert alerts[0][1]["details"]["baseline"] == 10


def _scenario():
    """A mixed input: usage of several users, tickets, NPS, with silence and recovery, and ticks."""
    steps = [("apply", [profile(tier="key"), *daily_usage(0, 10, 8)])]
    steps.append(("apply", [ticket(T0 + 2 * DAY, "t1", "opened", "urgent"), nps(T0 + 3 * DAY, 10),
                            ticket(T0 + 4 * DAY, "t1", "closed", "urgent", csat=2)]))
    steps += [("tick", T0 + 10 * DAY + h * H) for h in range(0, 24 * 8, 6)]
    steps.append(("apply", daily_usage(18, 3, 6)))
    steps += [("tick", T0 + 21 * DAY + h * H) for h in range(0, 48, 6)]
    return steps


def _run(engine, steps, state=None):
    state = state or engine.new_state("acme")
    alerts = []
    for op, arg in steps:
        result = engine.apply(state, arg) if op == "apply" else engine.tick(state, arg)
        alerts += result.alerts
    return state, alerts


def test_same_input_gives_the_same_alerts_except_processed_at() -> None:
    clock = iter(range(10**6))
    first = make_engine()
    second = make_engine()
    second._clock = lambda: next(clock)  # a moving processing clock must not matter
    _, a = _run(first, _scenario())
    _, b = _run(second, _scenario())
    assert len(a) >= 4
    assert without_processed_at(a) == without_processed_at(b)
    assert [x["processed_at"] for x in a] != [x["processed_at"] for x in b]


@pytest.mark.parametrize("crash_after", [1, 2, 3, 10, 27, 28, 29, 34, 35, 36, 42])
def test_redelivery_after_a_crash_repeats_alerts_never_new_episodes(crash_after) -> None:
    steps = _scenario()
    engine = make_engine()
    state, before = _run(engine, steps[:crash_after])
    saved = state_to_bytes(state)
    rest = steps[crash_after:]
    _, reference = _run(engine, rest, state)
    # crash before the table write: the same steps run again on the saved state
    _, replayed = _run(engine, rest, state_from_bytes(saved))
    assert without_processed_at(replayed) == without_processed_at(reference)
    # crash after the table write: the batch is redelivered onto the updated state
    state2, _ = _run(engine, steps[:crash_after])
    redelivered = [s for s in steps[:crash_after] if s[0] == "apply"][-1:]
    _, again = _run(engine, redelivered, state2)
    assert again == []
    _, tail = _run(engine, rest, state2)
    assert {a["episode_id"] for a in tail} <= {a["episode_id"] for a in before + reference}


@pytest.mark.parametrize(("for_hours", "fires_at_hour"), [(0, 1), (2, 3), (5, 6)])
def test_idle_ticks_still_fire_pending_rules_on_time(for_hours, fires_at_hour) -> None:
    line = {**make_engine().policy.document["warning_lines"][0], "for_seconds": for_hours * 3600}
    engine = make_engine(warning_lines=[line])
    state = _silent_account(engine)
    fired = [(h, a["rule"]) for h in range(1, 12)
             for a in engine.tick(state, T0 + 16 * DAY + h * H).alerts if a["rule"] == "wau_low"]
    assert fired == [(fires_at_hour, "wau_low")]


def test_idle_ticks_within_a_day_do_not_rescore() -> None:
    engine = make_engine()
    state = _silent_account(engine)
    engine.tick(state, T0 + 11 * DAY)
    assert engine.tick(state, T0 + 11 * DAY + H).changed  # the day's first evaluation keeps day 10's score
    assert last_day(state.history) == T0 // DAY + 10
    before = state.life.fingerprint()
    results = [engine.tick(state, T0 + 11 * DAY + h * H) for h in range(2, 24)]
    assert not any(r.changed or r.alerts for r in results)
    assert state.life.fingerprint() == before and state.last_eval_ms == T0 + 11 * DAY + 23 * H


def test_an_above_line_on_idle_days_fires_and_resolves_with_its_own_wording() -> None:
    idle = {"name": "idle", "metric": "days_since_last_activity", "kind": "absolute", "above": 3, "exit_below": 0}
    engine = make_engine(warning_lines=[idle])
    state = engine.new_state("acme")
    engine.apply(state, [profile()])
    engine.apply(state, daily_usage(0, 2, users=5))
    # Last active on day 1: idle for 4 days (more than 3) on day 5.
    fired = [a for day in range(2, 7) for a in engine.tick(state, T0 + day * DAY + HOUR).alerts if a["rule"] == "idle"]
    assert [(a["status"], a["event_time"]) for a in fired] == [("firing", T0 + 5 * DAY + HOUR)]
    assert fired[0]["summary"] == ("Acme Corp (standard) above warning line idle: "
                                   "days since the last activity 4 days (line 3 days)")
    # Active again on day 8 (idle 0 days): resolved, in the other direction's words.
    back = engine.apply(state, daily_usage(8, 1, users=5)).alerts + engine.tick(state, T0 + 9 * DAY).alerts
    resolved = [a for a in back if a["rule"] == "idle"]
    assert [a["status"] for a in resolved] == ["resolved"]
    assert "back below warning line idle" in resolved[0]["summary"]
