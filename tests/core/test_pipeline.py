"""Pipeline clock: per-source watermarks, staleness, one ingest_stalled alert per stall, activity held back."""

from __future__ import annotations

import pytest

from healthmon.core import EngineConfig, PipelineClock, parse_policy
from schemas.alert import Alert
from tests.core.builders import DAY, HOUR, T0, daily_usage, make_engine, policy_doc, profile, ticket

MIN = 60_000
WATCH = {"sources": {"usage": {"stale_after_seconds": 1800, "hold_after_seconds": 0},
                     "ticket": {"stale_after_seconds": 7200}}}


def _clock() -> PipelineClock:
    return PipelineClock(parse_policy(policy_doc(pipeline=WATCH)), clock=lambda: 7)


@pytest.mark.parametrize(("observations", "stale", "usage_staleness"), [
    pytest.param([("usage", 0), ("ticket", 30 * MIN)], set(), 1800.0, id="at-the-limit"),
    pytest.param([("usage", 0), ("ticket", 31 * MIN)], {"usage"}, 1860.0, id="past-the-limit"),
    pytest.param([("usage", 0), ("nps", 5 * HOUR)], {"usage"}, 18000.0, id="any-source-moves-stream-time"),
    pytest.param([("usage", 5 * HOUR), ("nps", 0)], set(), 0.0, id="unwatched-source-never-stale"),
    pytest.param([("ticket", 0), ("usage", 2 * HOUR)], set(), 0.0, id="ticket-at-its-own-limit"),
    pytest.param([("ticket", 0), ("usage", 3 * HOUR)], {"ticket"}, 0.0, id="ticket-past-its-limit"),
    pytest.param([("usage", 5 * HOUR), ("usage", 0)], set(), 0.0, id="late-event-does-not-rewind"),
    pytest.param([("ticket", 0), ("nps", 9 * HOUR)], {"ticket"}, 0.0, id="never-seen-usage-is-not-stale"),
])
def test_stale_sources(observations, stale, usage_staleness) -> None:
    clock = _clock()
    for source, offset in observations:
        clock.observe(source, T0 + offset)
    assert clock.stale_sources() == stale
    assert clock.staleness_seconds("usage") == usage_staleness
    assert clock.watermark_ms == T0 + max(o for _, o in observations)


def test_a_stall_is_reported_once_then_resolved() -> None:
    clock = _clock()
    clock.observe("usage", T0)
    clock.observe("ticket", T0)
    assert clock.update() == []
    clock.observe("ticket", T0 + 40 * MIN)
    fired = clock.update()
    clock.observe("ticket", T0 + 90 * MIN)
    assert clock.update() == []  # still stalled: no repeat
    clock.observe("usage", T0 + 91 * MIN)
    resolved = clock.update()
    assert [(a["kind"], a["status"], a["account_id"], a["rule"]) for a in fired + resolved] == [
        ("ingest_stalled", "firing", None, "ingest_stalled:usage"),
        ("ingest_stalled", "resolved", None, "ingest_stalled:usage"),
    ]
    assert fired[0]["episode_id"] == resolved[0]["episode_id"]
    assert fired[0]["dedup_key"] == "__pipeline__/ingest_stalled:usage"
    assert fired[0]["summary"] == ("Ingest stalled: no usage events for 2400 s of stream time (threshold 1800 s); "
                                   "activity alerts held back")
    for alert in fired + resolved:
        Alert.model_validate(alert)


def test_stall_holds_back_activity_alerts_for_every_account() -> None:
    # `for` and dwell of an hour give the backlog time to land once the source resumes
    line = {"name": "wau_low", "metric": "weekly_active_ratio", "kind": "absolute", "below": 0.3,
            "exit_above": 0.4, "for_seconds": 3600, "cooldown_seconds": 0}
    engine = make_engine(pipeline=WATCH, warning_lines=[line],
                         health={"min_dwell_seconds": 3600, "cooldown_seconds": 0})
    clock = PipelineClock(engine.policy, clock=lambda: 7)
    states = {}
    for account in ("a", "b"):
        states[account] = engine.new_state(account)
        engine.apply(states[account], [profile(account), *daily_usage(0, 3, 8, account=account)])
    for ev in daily_usage(0, 3, 8, account="a"):
        clock.observe("usage", ev.occurred_at)
    # usage stops for everyone; tickets keep flowing for 12 days
    pipeline, account_alerts = [], []
    for hour in range(3 * 24, 15 * 24):
        now = T0 + hour * HOUR
        clock.observe("ticket", now)
        pipeline += clock.update()
        for state in states.values():
            account_alerts += engine.tick(state, now, held_back=clock.held_back_sources()).alerts
    assert [(a["kind"], a["status"]) for a in pipeline] == [("ingest_stalled", "firing")]
    assert account_alerts == []
    # usage resumes (account b only); the stall resolves and a's silence is now a real signal
    resumed = T0 + 15 * DAY + HOUR
    events = [ticket(resumed, "t1", "opened", account="b"), *daily_usage(15, 1, 8, at_hour=1, account="b")]
    for ev in events:
        clock.observe(ev.__class__.kind, ev.occurred_at)
    pipeline = clock.update()
    assert [(a["kind"], a["status"]) for a in pipeline] == [("ingest_stalled", "resolved")]
    after = {"a": [], "b": engine.apply(states["b"], events[1:], held_back=clock.held_back_sources()).alerts}
    for hour in (2, 3, 4):
        for account, state in states.items():
            now = T0 + 15 * DAY + hour * HOUR
            ticked = engine.tick(state, now, held_back=clock.held_back_sources())
            after[account] += [(hour, a["rule"]) for a in ticked.alerts]
    assert after == {"a": [(3, "health"), (3, "wau_low")], "b": []}


@pytest.mark.parametrize(("hold_after_h", "after_resume_h", "held"), [
    (0, 0, set()),
    (24, 0, {"usage"}),
    (24, 23, {"usage"}),
    (24, 24, set()),
])
def test_held_back_lasts_hold_after_seconds_past_the_resolve(hold_after_h, after_resume_h, held) -> None:
    watch = {"sources": {"usage": {"stale_after_seconds": 1800, "hold_after_seconds": hold_after_h * 3600}}}
    clock = PipelineClock(parse_policy(policy_doc(pipeline=watch)), clock=lambda: 7)
    clock.observe("usage", T0)
    clock.observe("ticket", T0 + HOUR)
    assert clock.update()[0]["status"] == "firing" and clock.held_back_sources() == {"usage"}
    clock.observe("usage", T0 + 2 * HOUR)
    assert clock.update()[0]["status"] == "resolved"
    assert clock.stale_sources() == set()
    clock.observe("usage", T0 + 2 * HOUR + after_resume_h * HOUR)
    assert clock.held_back_sources() == held


@pytest.mark.parametrize(("backlogged", "stale", "alerts"), [
    pytest.param(set(), {"usage"}, ["firing"], id="caught-up-source-lagging-is-stale"),
    pytest.param({"usage"}, set(), [], id="source-with-unread-input-is-only-behind"),
    pytest.param({"ticket"}, {"usage"}, ["firing"], id="another-source-backlog-does-not-matter"),
])
def test_a_source_with_a_backlog_is_never_stale(backlogged, stale, alerts) -> None:
    clock = PipelineClock(parse_policy(policy_doc(pipeline=WATCH)), clock=lambda: 7,
                          backlog=lambda source: source in backlogged)
    clock.observe("usage", T0)
    clock.observe("ticket", T0 + 3 * HOUR)
    assert clock.stale_sources() == stale
    assert [a["status"] for a in clock.update()] == alerts


def test_a_reported_stall_resolves_once_input_arrives_again() -> None:
    backlog = {"usage": False}
    clock = PipelineClock(parse_policy(policy_doc(pipeline=WATCH)), clock=lambda: 7,
                          backlog=lambda source: backlog.get(source, False))
    clock.observe("usage", T0)
    clock.observe("ticket", T0 + HOUR)
    assert [a["status"] for a in clock.update()] == ["firing"]
    backlog["usage"] = True  # the usage topic has new, unread messages: it is flowing again
    assert [a["status"] for a in clock.update()] == ["resolved"]


@pytest.mark.parametrize(("usage_seen_at_s", "now_s", "stale"), [
    pytest.param(0, 9, set(), id="usage-seen-9s-ago-is-only-behind"),
    pytest.param(0, 10, {"usage"}, id="usage-idle-for-10s-is-stale"),
    pytest.param(5, 12, set(), id="a-recent-usage-event-keeps-it-fresh"),
])
def test_a_lagging_source_must_also_be_idle_in_processing_time(usage_seen_at_s, now_s, stale) -> None:
    wall = {"ms": 0}
    clock = PipelineClock(parse_policy(policy_doc(pipeline=WATCH)), EngineConfig(stall_idle_seconds=10),
                          clock=lambda: wall["ms"])
    wall["ms"] = usage_seen_at_s * 1000
    clock.observe("usage", T0)
    for second in range(usage_seen_at_s + 1, now_s + 1):  # tickets flow, a second apart
        wall["ms"] = second * 1000
        clock.observe("ticket", T0 + 3 * HOUR)
    assert clock.stale_sources() == stale


@pytest.mark.parametrize(("silence_s", "stale"), [
    pytest.param(4, set(), id="short-silence"),
    pytest.param(32, set(), id="a-32s-broker-pause-stalls-nothing"),
    pytest.param(3600, set(), id="a-stopped-worker-stalls-nothing"),
])
def test_a_silence_of_every_source_makes_none_of_them_stale(silence_s, stale) -> None:
    # Before the pause tickets ran a few hours ahead of usage in event time (a catch-up): as soon as the
    # first ticket arrives afterwards, usage must not look idle for the length of the pause.
    wall = {"ms": 0}
    clock = PipelineClock(parse_policy(policy_doc(pipeline=WATCH)), EngineConfig(stall_idle_seconds=10),
                          clock=lambda: wall["ms"])
    clock.observe("usage", T0)
    clock.observe("ticket", T0 + 3 * HOUR)
    wall["ms"] = silence_s * 1000
    clock.observe("ticket", T0 + 3 * HOUR + 1)
    assert clock.stale_sources() == stale
    for second in range(1, 11):  # then tickets flow without usage for 10 s: that is a stall
        wall["ms"] = (silence_s + second) * 1000
        clock.observe("ticket", T0 + 3 * HOUR + 1 + second)
    assert clock.stale_sources() == {"usage"}
