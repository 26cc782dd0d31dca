"""The health-scores records: one per account per ended event-time day, one per band change, stable ids."""

from __future__ import annotations

from healthmon.core import EngineConfig, state_from_bytes, state_to_bytes
from healthmon.core.history import decode
from schemas.score import HealthScore
from tests.core.builders import DAY, HOUR, T0, make_engine, profile, usage

D0 = T0 // DAY


def _run(days: int, *, restart_on: int | None = None, records: bool = True):
    engine = make_engine(EngineConfig(score_records=records))
    state = engine.new_state("acme")
    out = engine.apply(state, [profile(seats=10)]).scores
    for d in range(days):
        # ten users for a week, then one: the account turns red in the second week
        users = 10 if d < 7 else 1
        out += engine.apply(state, [usage(T0 + d * DAY + 9 * HOUR + u, f"u{u}") for u in range(users)]).scores
        for h in range(10, 25):
            out += engine.tick(state, T0 + d * DAY + h * HOUR).scores
        if d == restart_on:
            state = state_from_bytes(state_to_bytes(state))  # as a worker restarted from its table
    return out, state


def test_one_record_per_ended_day_and_one_per_band_change() -> None:
    records, state = _run(14)
    days = [r for r in records if r["kind"] == "day"]
    assert [r["day"] for r in days] == [str(p) for p in _iso_days(13)]  # day 13 has not ended yet
    assert [(r["score"], r["band"]) for r in days] == [(p.score, p.band) for p in decode(state.history)]
    changes = [r for r in records if r["kind"] == "band_change"]
    assert [(r["band"], r["alert_band"]) for r in changes] == [("red", "red")]  # the health_changed alert
    for r in records:
        HealthScore.model_validate(r)
        assert r["account_id"] == "acme" and r["tier"] == "standard" and r["csm"] == "ann"
        assert set(r["lines"]) == {"wau_low"} and r["measures"][0]["name"] == "weekly_active_ratio"
    assert changes[-1]["lines"] == {"wau_low": "firing"}
    assert days[0]["event_time"] == T0 + DAY and days[0]["day"] == "2026-01-05"
    assert len({r["record_id"] for r in records}) == len(records)


def test_a_replay_or_a_restart_gives_the_same_records_and_ids() -> None:
    once, _ = _run(14)
    assert _run(14)[0] == once
    assert _run(14, restart_on=5)[0] == once


def test_no_records_unless_asked() -> None:
    records, state = _run(10, records=False)
    assert records == [] and len(decode(state.history)) == 9


def _iso_days(n: int):
    from datetime import date, timedelta

    return [date(2026, 1, 5) + timedelta(days=d) for d in range(n)]
