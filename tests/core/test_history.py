"""The score history: its compact encoding, and the engine's one point per ended event-time day."""

from __future__ import annotations

import pytest

from healthmon.core import EngineConfig, state_from_bytes, state_to_bytes
from healthmon.core.history import (
    DayPoint,
    HistoryFormatError,
    add_point,
    add_points,
    decode,
    last_day,
    score_on,
)
from tests.core.builders import DAY, HOUR, T0, make_engine, profile, usage

D0 = T0 // DAY

MEASURES = [{"metric": "weekly_active_ratio", "weight": 3, "bad": 0.0, "good": 1.0},
            {"metric": "adoption_rate", "weight": 1, "bad": 0.0, "good": 0.5},
            {"metric": "days_since_last_activity", "weight": 1, "bad": 14, "good": 0}]


def _build(points: list[DayPoint], max_days: int = 180) -> bytes:
    blob = b""
    for p in points:
        blob = add_point(blob, p, max_days)
    return blob


@pytest.mark.parametrize("points", [
    pytest.param([DayPoint(D0, 71.3, "yellow", ("weekly_active_ratio", "nps_90d", "csat_28d"))], id="one"),
    pytest.param([DayPoint(D0, 0.0, "red", ()), DayPoint(D0 + 1, 100.0, "green", ()),
                  DayPoint(D0 + 2, None, None, ("adoption_rate",))], id="extremes-and-no-score"),
])
def test_points_come_back_as_added(points: list[DayPoint]) -> None:
    assert decode(_build(points)) == points


def test_names_of_days_gone_make_room_for_new_ones() -> None:
    points = [DayPoint(D0 + d, 50.0 + d / 10, "yellow", (f"m{d % 20}", f"m{(d + 1) % 20}")) for d in range(40)]
    assert decode(_build(points, max_days=7)) == points[-7:]
    # more than 15 names within the days kept: the newest go unnamed rather than renaming old days
    assert decode(_build(points))[:14] == points[:14]


def test_gap_days_have_no_score_and_the_oldest_days_go_past_the_cap() -> None:
    blob = _build([DayPoint(D0, 60.0, "yellow", ()), DayPoint(D0 + 3, 40.0, "red", ("adoption_rate",))])
    assert [(p.day, p.score, p.band) for p in decode(blob)] == [
        (D0, 60.0, "yellow"), (D0 + 1, None, None), (D0 + 2, None, None), (D0 + 3, 40.0, "red")]
    capped = _build([DayPoint(D0 + d, float(d), "red", ()) for d in range(10)], max_days=4)
    assert [p.day for p in decode(capped)] == [D0 + 6, D0 + 7, D0 + 8, D0 + 9]
    far = add_point(capped, DayPoint(D0 + 100, 5.0, "red", ()), 4)
    assert [p.day for p in decode(far)] == [D0 + 100]
    assert (last_day(far), score_on(capped, D0 + 7), score_on(capped, D0 + 5), last_day(b"")) == (D0 + 100, 7.0,
                                                                                                  None, None)


def test_a_day_already_held_is_not_replaced() -> None:
    blob = _build([DayPoint(D0, 60.0, "yellow", ())])
    assert add_point(blob, DayPoint(D0, 10.0, "red", ()), 180) == blob


def test_180_days_fit_in_a_kilobyte() -> None:
    names = [m["metric"] for m in MEASURES] + ["tickets_opened_28d", "csat_28d", "nps_90d", "open_urgent_tickets"]
    blob = _build([DayPoint(D0 + d, 55.5, "yellow", tuple(names[(d + i) % len(names)] for i in range(3)))
                   for d in range(200)])
    assert len(decode(blob)) == 180
    assert len(blob) <= 900


@pytest.mark.parametrize("blob", [b"\x02\x00\x00\x00\x00\x00", b"\x01\x00", b"\x01\x00\x00\x00\x00\x00\xff\xff"])
def test_a_broken_history_is_a_clear_error(blob: bytes) -> None:
    with pytest.raises(HistoryFormatError):
        decode(blob)


def _active_account(engine, days: int, users_by_day) -> object:
    state = engine.new_state("acme")
    engine.apply(state, [profile(seats=10)])
    for d in range(days):
        events = [usage(T0 + d * DAY + HOUR + n, f"u{n}") for n in range(users_by_day(d))]
        if events:
            engine.apply(state, events)
        engine.tick(state, T0 + (d + 1) * DAY + HOUR)  # the first evaluation of the next day
    return state


def test_each_ended_day_gets_the_score_at_its_end() -> None:
    engine = make_engine(measures=MEASURES)
    state = _active_account(engine, 10, lambda d: 10 - d)
    points = decode(state.history)
    assert [p.day for p in points] == [D0 + d for d in range(10)]
    for p in points:
        # the point equals a snapshot taken at the end of its day, on a replay stopped there
        replay = _active_account(make_engine(measures=MEASURES), p.day - D0 + 1, lambda d: 10 - d)
        snap = make_engine(measures=MEASURES).snapshot(replay, (p.day + 1) * DAY)
        assert (p.score, p.band) == (snap["score"], snap["band"])
    assert points[0].score > points[-1].score
    # nobody used a core feature, fewer users came each day, and the account was active on its last day
    assert points[-1].top == ("adoption_rate", "weekly_active_ratio")


def test_silent_days_are_closed_by_the_next_event_and_ticks_in_between_change_nothing() -> None:
    # A replay that ticks every hour and one that ticks never give the same points.
    hourly, never = make_engine(measures=MEASURES), make_engine(measures=MEASURES)
    a, b = hourly.new_state("acme"), never.new_state("acme")
    for engine, state in ((hourly, a), (never, b)):
        engine.apply(state, [profile(seats=10), usage(T0 + HOUR, "u1", "reports")])
    for h in range(2, 5 * 24):
        hourly.tick(a, T0 + h * HOUR)
    for engine, state in ((hourly, a), (never, b)):
        engine.apply(state, [usage(T0 + 5 * DAY + HOUR, "u2")])
    assert decode(a.history) == decode(b.history)
    assert [p.day for p in decode(a.history)] == [D0 + d for d in range(5)]
    assert decode(a.history)[4].score < decode(a.history)[0].score  # days since last activity grew


def test_history_is_capped_by_the_config_and_survives_the_codec() -> None:
    engine = make_engine(EngineConfig(history_days=7), measures=MEASURES)
    state = _active_account(engine, 12, lambda d: 3)
    assert len(decode(state.history)) == 7
    again = state_from_bytes(state_to_bytes(state))
    assert again.history == state.history
    engine.tick(again, T0 + 13 * DAY + HOUR)
    assert decode(again.history)[-1].day == D0 + 12


def test_points_added_at_once_equal_points_added_one_by_one() -> None:
    # gaps, a jump past the days kept, a day already held, and more names than fit: add_points is add_point in turn
    tops = [(f"m{d % 19}", f"m{(d * 7) % 19}", "nps_90d") for d in range(60)]
    days = [0, 1, 2, 5, 5, 3, 9, 30, 31, 32, 40, 41, 42, 43, 50, 200, 201, 203]
    points = [DayPoint(D0 + d, (d * 37 % 1000) / 10, ("red", "yellow", "green", None)[d % 4], tops[d % 60])
              for d in days] + [DayPoint(D0 + 204 + d, 50.0, "green", tops[d]) for d in range(40)]
    for max_days in (1, 4, 7, 180):
        for cut in (0, 1, 6, 17, len(points)):
            head = _build(points[:cut], max_days)
            assert add_points(head, points[cut:], max_days) == _build(points, max_days)
    assert add_points(b"", [], 180) == b""


def test_a_quiet_accounts_days_are_scored_once_for_its_quiet_span(monkeypatch: pytest.MonkeyPatch) -> None:
    # An account silent for 60 days: the days that end within its quiet span share one scorecard, and every
    # point is the one daily scoring gives (an engine that never skips quiet accounts scores each day).
    from healthmon.core import daily

    scored: list[int] = []
    real = daily.compute_metrics
    monkeypatch.setattr(daily, "compute_metrics", lambda state, at: scored.append(at) or real(state, at))
    histories = []
    for skip in (True, False):
        engine = make_engine(EngineConfig(skip_quiet=skip), measures=MEASURES)
        state = engine.new_state("acme")
        engine.apply(state, [profile(seats=10), usage(T0 + HOUR, "u1", "reports")])
        scored.clear()
        due = engine.next_tick_ms(state)
        while due is not None and due < T0 + 60 * DAY:  # ticked as a worker's schedule ticks it
            engine.tick(state, due)
            due = engine.next_tick_ms(state)
        engine.apply(state, [usage(T0 + 60 * DAY + HOUR, "u2")])
        histories.append((decode(state.history), len(scored)))
    (quiet_points, quiet_scorings), (daily_points, daily_scorings) = histories
    assert quiet_points == daily_points
    assert [p.day for p in quiet_points] == [D0 + d for d in range(60)]
    assert daily_scorings >= 59
    assert quiet_scorings <= 20
