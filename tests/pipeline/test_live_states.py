"""Live states: decoded once, written back at a flush, and never dropped while unsaved."""

from __future__ import annotations

from healthmon.core import AccountState, state_from_bytes, state_to_bytes
from healthmon.pipeline.live_states import LiveStates


def _states(table: dict[bytes, bytes], max_live: int = 100) -> LiveStates:
    return LiveStates(table, AccountState, max_live=max_live)


def test_a_flush_writes_each_changed_state_once_and_only_then():
    table: dict[bytes, bytes] = {}
    states = _states(table)
    assert states.get("acme") is None
    state = states.load("acme")
    state.clock_ms = 1234
    assert table == {}
    states.changed("acme")
    states.changed("acme")
    assert states.flush() == 1
    assert state_from_bytes(table[b"acme"]).clock_ms == 1234
    assert states.flush() == 0


def test_a_saved_state_is_decoded_from_the_table_once():
    saved = AccountState("acme")
    saved.clock_ms = 99
    states = _states({b"acme": state_to_bytes(saved)})
    first = states.get("acme")
    assert first is not None and first.clock_ms == 99
    assert states.load("acme") is first
    assert list(states.saved_accounts()) == ["acme"]


def test_beyond_the_limit_saved_states_are_dropped_but_unsaved_ones_stay():
    table: dict[bytes, bytes] = {}
    states = _states(table, max_live=4)
    for n in range(4):
        states.load(f"a{n}")
    states.flush()
    for n in (1, 3):
        states.load(f"a{n}").clock_ms = n
        states.changed(f"a{n}")
    states.load("a4")
    assert {"a1", "a3", "a4"} <= set(states.live) and len(states.live) == 3
    assert states.flush() == 2


def test_forget_saves_then_drops_every_live_state():
    table: dict[bytes, bytes] = {}
    states = _states(table)
    states.load("acme").clock_ms = 7
    states.changed("acme")
    states.forget()
    assert states.live == {}
    reloaded = states.get("acme")
    assert reloaded is not None and reloaded.clock_ms == 7
