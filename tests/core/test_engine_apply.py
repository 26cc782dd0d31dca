"""Engine.apply: outcomes of late, duplicate, out-of-order and redelivered events; what counts as a change."""

from __future__ import annotations

import orjson
import pytest

from healthmon.core import DUPLICATE, OK, TOO_LATE, EngineConfig, codec, state_from_bytes, state_to_bytes
from healthmon.core.apply import FINGERPRINT, has_seen, remember
from tests.core.builders import (
    DAY,
    HOUR,
    T0,
    make_engine,
    nps,
    profile,
    ticket,
    usage,
)

H = HOUR


@pytest.mark.parametrize(("events", "expected"), [
    pytest.param([(0, "a"), (0, "a")], [OK, DUPLICATE], id="duplicate-in-batch"),
    pytest.param([(10 * DAY, "a"), (10 * DAY - 47 * H, "b")], [OK, OK], id="late-within-lateness"),
    pytest.param([(10 * DAY, "a"), (10 * DAY - 48 * H, "b")], [OK, OK], id="late-exactly-lateness"),
    pytest.param([(10 * DAY, "a"), (10 * DAY - 49 * H, "b")], [OK, TOO_LATE], id="too-late"),
    pytest.param([(10 * DAY, "a"), (10 * DAY - 49 * H, "a")], [OK, DUPLICATE], id="duplicate-wins-over-too-late"),
    pytest.param([(5 * H, "a"), (1 * H, "b"), (3 * H, "c"), (1 * H, "b")], [OK, OK, OK, DUPLICATE],
                 id="out-of-order"),
    pytest.param([(0, "a"), (49 * H, "b"), (0, "c")], [OK, OK, TOO_LATE], id="stream-time-is-the-accounts-own"),
])
def test_outcomes(events, expected) -> None:
    engine = make_engine()
    result = engine.apply(engine.new_state("acme"), [usage(T0 + t, event_id=eid) for t, eid in events])
    assert result.outcomes == expected


@pytest.mark.parametrize(("sequence", "expected"), [
    pytest.param([("ticket", 10 * DAY), ("usage", 6 * DAY)], [OK, OK], id="tickets-ahead-do-not-make-usage-late"),
    pytest.param([("nps", 10 * DAY), ("ticket", 5 * DAY)], [OK, OK], id="nps-ahead-do-not-make-tickets-late"),
    pytest.param([("usage", 10 * DAY), ("nps", 1 * DAY)], [OK, OK], id="usage-ahead-does-not-make-nps-late"),
    pytest.param([("ticket", 10 * DAY), ("usage", 6 * DAY), ("usage", 6 * DAY - 49 * H)], [OK, OK, TOO_LATE],
                 id="usage-is-late-against-usage"),
    pytest.param([("ticket", 10 * DAY), ("ticket", 10 * DAY - 49 * H)], [OK, TOO_LATE],
                 id="tickets-are-late-against-tickets"),
])
def test_lateness_is_judged_per_input(sequence, expected) -> None:
    # After a pause, the small inputs' backlogs may be read days ahead of the product usage.
    make = {"usage": lambda t, n: usage(T0 + t, f"u{n}"), "ticket": lambda t, n: ticket(T0 + t, f"t{n}", "opened"),
            "nps": lambda t, n: nps(T0 + t, 9, f"u{n}")}
    engine = make_engine()
    state = engine.new_state("acme")
    outcomes = [engine.apply(state, [make[kind](t, n)]).outcomes[0] for n, (kind, t) in enumerate(sequence)]
    assert outcomes == expected
    assert state_from_bytes(state_to_bytes(state)).input_clocks == state.input_clocks


def test_a_state_saved_before_per_input_clocks_judges_lateness_by_the_accounts_clock() -> None:
    engine = make_engine()
    state = engine.new_state("acme")
    engine.apply(state, [ticket(T0 + 10 * DAY, "t1", "opened")])
    restored = state_from_bytes(state_to_bytes(state))
    assert restored.input_clocks == {"ticket": T0 + 10 * DAY}
    raw = state_to_bytes(state)
    header = codec._HEADER.unpack_from(raw, 0)
    meta = orjson.loads(raw[codec._HEADER.size:codec._HEADER.size + header[1]])
    old_meta = orjson.dumps(meta[:16])
    old = codec._HEADER.pack(header[0], len(old_meta), *header[2:]) + old_meta + raw[codec._HEADER.size + header[1]:]
    legacy = state_from_bytes(old)
    assert legacy.input_clocks == dict.fromkeys(("usage", "ticket", "nps"), T0 + 10 * DAY)
    assert engine.apply(legacy, [usage(T0 + 7 * DAY, "u1")]).outcomes == [TOO_LATE]


def test_duplicates_are_also_caught_across_batches_and_never_count_twice() -> None:
    engine = make_engine()
    state = engine.new_state("acme")
    batch = [usage(T0 + i * H, f"u{i}") for i in range(5)]
    engine.apply(state, batch)
    again = engine.apply(state, batch)
    assert again.outcomes == [DUPLICATE] * 5 and not again.changed
    assert engine.snapshot(state, T0 + DAY)["metrics"]["events_7d"] == 5


def test_dedupe_memory_is_bounded() -> None:
    engine = make_engine(EngineConfig(dedupe_capacity=4))
    state = engine.new_state("acme")
    first = [usage(T0 + i, event_id=f"e{i}") for i in range(5)]
    assert engine.apply(state, first).outcomes == [OK] * 5
    assert len(state.seen) == 4 * FINGERPRINT
    # e4 is still remembered; e0 was forgotten (documented: exact for the last `dedupe_capacity` events)
    assert engine.apply(state, [first[4], first[0]]).outcomes == [DUPLICATE, OK]


def test_dedupe_memory_matches_whole_fingerprints_only() -> None:
    seen = bytearray()
    for value in (b"\x01\x02\x03\x04", b"\x05\x06\x07\x08"):
        remember(seen, value, capacity=3)
    assert has_seen(seen, b"\x05\x06\x07\x08") and has_seen(seen, b"\x01\x02\x03\x04")
    assert not has_seen(seen, b"\x03\x04\x05\x06")  # straddles two fingerprints: not one of them
    remember(seen, b"\x03\x04\x05\x06", capacity=3)
    remember(seen, b"\x09\x09\x09\x09", capacity=3)
    assert len(seen) == 3 * FINGERPRINT and not has_seen(seen, b"\x01\x02\x03\x04")  # the oldest went
    assert has_seen(seen, b"\x03\x04\x05\x06")


def test_late_event_updates_its_own_day() -> None:
    engine = make_engine()
    state = engine.new_state("acme")
    engine.apply(state, [usage(T0 + 10 * DAY + 9 * H, "u1")])
    engine.apply(state, [usage(T0 + 9 * DAY + 20 * H, "u2"), usage(T0 + 9 * DAY + 21 * H, "u2")])
    metrics = engine.snapshot(state, T0 + 10 * DAY + 12 * H)["metrics"]
    assert (metrics["daily_active_users"], metrics["weekly_active_users"], metrics["events_7d"]) == (1, 2, 3)
    assert state.events[:2] == [1, 2]


def test_apply_reports_changed_only_when_something_changed() -> None:
    engine = make_engine()
    state = engine.new_state("acme")
    assert engine.apply(state, [profile()]).changed
    assert not engine.apply(state, [profile()]).changed
    assert engine.apply(state, [usage(T0)]).changed
    assert not engine.apply(state, [usage(T0)]).changed


BATCHES = {"a": [usage(T0 + i * 1000, f"a{i}") for i in range(200)],
           "b": [usage(T0 + i * 1000 + 1, f"b{i}") for i in range(200)]}


@pytest.mark.parametrize(("deliveries", "expected_events", "last_outcome"), [
    pytest.param([("usage", 10, "a"), ("usage", 11, "b")], 400, OK, id="new-offsets-apply"),
    pytest.param([("usage", 10, "a"), ("usage", 10, "a")], 200, DUPLICATE, id="same-offset-redelivered"),
    pytest.param([("usage", 10, "a"), ("usage", 9, "b")], 200, DUPLICATE, id="older-offset-is-redelivery"),
    pytest.param([("usage", 10, "a"), ("ticket", 3, "b")], 400, OK, id="inputs-have-their-own-offsets"),
])
def test_kafka_position_guards_redelivery_beyond_the_dedupe_memory(deliveries, expected_events,
                                                                   last_outcome) -> None:
    # 200 events per message: far more than the 4 event ids the dedupe memory keeps here.
    engine = make_engine(EngineConfig(dedupe_capacity=4))
    state = engine.new_state("acme")
    for source, offset, name in deliveries:
        result = engine.apply(state, BATCHES[name], position=(source, offset))
    restored = state_from_bytes(state_to_bytes(state))
    assert restored.positions == state.positions
    assert engine.snapshot(restored, T0 + DAY)["metrics"]["events_7d"] == expected_events
    assert result.outcomes == [last_outcome] * 200
