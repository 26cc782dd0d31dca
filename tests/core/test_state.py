"""State: compact, bounded whatever the traffic, and a lossless byte round trip."""

from __future__ import annotations

import pytest

from healthmon.core import StateFormatError, state_from_bytes, state_size_bytes, state_to_bytes
from healthmon.core.apply import FINGERPRINT
from tests.core.builders import DAY, HOUR, T0, make_engine, nps, profile, ticket, usage


def _workload(engine, users: int, days: int, events_per_user_day: int = 3, tickets_per_week: int = 2):
    state = engine.new_state("acme")
    engine.apply(state, [profile(seats=max(users, 1))])
    for day in range(days):
        batch = [usage(T0 + day * DAY + (8 + k) * HOUR + u, f"user-{u:04d}", ("reports", "login", "search")[k % 3])
                 for u in range(users) for k in range(events_per_user_day)]
        if day % 7 < tickets_per_week:
            tid = f"T-{day}"
            batch += [ticket(T0 + day * DAY, tid, "opened", "high"),
                      ticket(T0 + day * DAY + 5 * HOUR, tid, "closed", "high", csat=4)]
        if day % 10 == 0:
            batch += [nps(T0 + day * DAY + HOUR, 9, f"user-{u:04d}") for u in range(min(users, 5))]
        engine.apply(state, batch)
        engine.tick(state, T0 + (day + 1) * DAY)
    return state


@pytest.mark.parametrize(("users", "days", "limit_bytes"), [
    (5, 30, 1536),
    (50, 30, 2048),      # the typical account: the 2 KB target
    (50, 120, 2048),     # a longer history does not grow the state (but for its capped score history)
    (50, 400, 2048),
    (500, 60, 10_240),   # a rare large account: ~16 bytes per user active in the last 35 days
])
def test_state_stays_bounded(users, days, limit_bytes) -> None:
    state = _workload(make_engine(), users, days)
    # The score history is 3 bytes a day up to HEALTHMON_HISTORY_DAYS (180), plus the measures' names.
    assert len(state.history) <= 3 * min(days, 180) + 64
    assert state_size_bytes(state) - len(state.history) <= limit_bytes
    assert len(state.seen) <= 128 * FINGERPRINT and len(state.events) == 35


def test_inactive_users_and_old_tickets_are_forgotten() -> None:
    engine = make_engine()
    state = _workload(engine, 50, 10)
    engine.apply(state, [usage(T0 + 60 * DAY, "someone-else")])
    assert set(state.users) and len(state.users) == 1
    assert state.tickets == {}
    assert state.events[0] == 1 and sum(state.events) == 1


def test_round_trip_is_lossless() -> None:
    engine = make_engine()
    state = _workload(engine, 20, 40)
    raw = state_to_bytes(state)
    again = state_from_bytes(raw)
    assert state_to_bytes(again) == raw
    for now in (T0 + 40 * DAY, T0 + 45 * DAY):
        assert engine.snapshot(again, now) == engine.snapshot(state, now)
    assert again.seen == state.seen and len(state.seen) == 128 * FINGERPRINT


def test_round_trip_of_an_empty_state() -> None:
    state = make_engine().new_state("acme")
    assert state_to_bytes(state_from_bytes(state_to_bytes(state))) == state_to_bytes(state)


@pytest.mark.parametrize("raw", [b"", b"\x09abc", state_to_bytes(make_engine().new_state("a"))[:-1] + b"x\x00"])
def test_corrupt_bytes_raise_state_format_error(raw) -> None:
    with pytest.raises(StateFormatError):
        state_from_bytes(raw)


def test_decoded_states_share_one_copy_of_their_words() -> None:
    # Thousands of live accounts hold the same tier, CSM, band and input names: one string each, not one per state.
    engine = make_engine()
    first, second = _workload(engine, 5, 10), _workload(engine, 6, 10)
    a, b = state_from_bytes(state_to_bytes(first)), state_from_bytes(state_to_bytes(second))
    assert a.tier == b.tier and a.tier is b.tier
    assert a.csm == b.csm == "ann" and a.csm is b.csm  # an account's CSM is one of a few people
    assert a.life.last_band is b.life.last_band
    assert [k for k in a.positions] == [k for k in b.positions] and all(
        x is y for x, y in zip(a.positions, b.positions))
