"""The in-process ceiling bench: every event is processed and the digests depend on the input only (no timing)."""

from __future__ import annotations

from healthmon.bench.inprocess import run_inprocess

EVENTS, ACCOUNTS = 3000, 40


def test_same_input_gives_the_same_alerts_and_states_and_every_event_is_counted() -> None:
    first, again = run_inprocess(EVENTS, ACCOUNTS), run_inprocess(EVENTS, ACCOUNTS)
    assert first.events == EVENTS + ACCOUNTS and first.messages < first.events
    assert first.alerts > 0 and first.dead_letters == 0 and first.table_writes > 0
    assert (first.alerts_digest, first.states_digest) == (again.alerts_digest, again.states_digest)


def test_single_event_messages_carry_the_same_events() -> None:
    single = run_inprocess(EVENTS, ACCOUNTS, batch_size=None)
    assert single.events == single.messages == EVENTS + ACCOUNTS and single.dead_letters == 0
