"""How far a saved state has got: the order that recovery and the view keep, whatever order states were written in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from healthmon.core import AccountState, Engine, state_from_bytes, state_to_bytes
from healthmon.core.saved_view import ViewVersion, behind, saved_behind, saved_snapshot, saved_version, view_version
from tests.core.builders import DAY, HOUR, T0, make_engine, profile, ticket, usage

V = ViewVersion


@pytest.mark.parametrize(("incoming", "held", "older"), [
    (V(100, 5), V(100, 5), False),  # the same version: the later write is kept
    (V(100, 4), V(100, 5), True),  # same evaluation, fewer input messages applied
    (V(100, 6), V(100, 5), False),
    (V(99, 50), V(100, 5), True),  # an earlier evaluation, whatever its positions
    (V(101, 0), V(100, 5), False),
    (V(1, 0), V(T0, 0), True),  # a state that never saw an event nor an evaluation
])
def test_behind_orders_by_evaluation_instant_then_input_progress(incoming: V, held: V, older: bool) -> None:
    assert behind(incoming, held) is older


Step = Callable[[Engine, AccountState], Any]

#: steps of one account's history, each as the worker would take it (an input message, or a tick)
STEPS: dict[str, Step] = {
    "profile": lambda e, s: e.apply(s, [profile()], position=("profile", 0)),
    "usage": lambda e, s: e.apply(s, [usage(T0 + HOUR)], position=("usage", 3)),
    "tick": lambda e, s: e.tick(s, now_ms=T0 + 2 * HOUR),
    "late usage": lambda e, s: e.apply(s, [usage(T0 + HOUR // 2, user="u1")], position=("usage", 4)),
    "ticket": lambda e, s: e.apply(s, [ticket(T0 + 3 * HOUR, "t1", "opened")], position=("ticket", 0)),
    "quiet days": lambda e, s: e.tick(s, now_ms=T0 + 5 * DAY),
    "redelivered position only": lambda e, s: e.apply(s, [], position=("usage", 9)),
}


def _history() -> list[tuple[str, bytes]]:
    engine = make_engine()
    state = engine.new_state("acme")
    saved = [("new", state_to_bytes(state))]
    for name, step in STEPS.items():
        step(engine, state)
        saved.append((name, state_to_bytes(state)))
    return saved


HISTORY = _history()


@pytest.mark.parametrize("later", range(1, len(HISTORY)), ids=[name for name, _ in HISTORY[1:]])
def test_every_step_of_a_history_is_ahead_of_every_earlier_one(later: int) -> None:
    name, newer = HISTORY[later]
    for earlier_name, older in HISTORY[:later]:
        assert saved_version(newer) > saved_version(older), (name, earlier_name)
        # the older written after the newer (a zombie waking up) is refused; the newer after the older is kept
        assert saved_behind(older, newer), (name, earlier_name)
        assert not saved_behind(newer, older), (name, earlier_name)


@pytest.mark.parametrize("index", range(len(HISTORY)), ids=[name for name, _ in HISTORY])
def test_the_saved_version_is_the_live_states_and_nothing_held_is_never_newer(index: int) -> None:
    _, raw = HISTORY[index]
    state = state_from_bytes(raw)
    assert saved_version(raw) == view_version(state)
    # the view's write (`serving.redis_put`) orders pushes by the snapshot's `as_of`, then this progress
    assert saved_snapshot(make_engine(), state)["as_of"] == view_version(state).as_of
    assert not saved_behind(raw, None)
    assert not saved_behind(raw, raw)
