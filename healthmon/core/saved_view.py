"""What the serving view shows of an account: its saved state's own health, and how far that state got.

The view must converge to what the engine last decided whoever pushed it, so what it shows is a function
of the state alone: the health as of the state's latest evaluation (never before its latest event), not
as of whatever stream time the pushing worker had reached. A state only moves forward: an evaluation
advances `last_eval_ms`, a message advances the input position it came from, and neither goes back. So
`view_version` orders any two states of one account's history, and a writer can refuse an older push
(a frozen worker waking up, a dead worker's last refresh) over a newer entry.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from healthmon.core.engine import Engine
from healthmon.core.state import AccountState

__all__ = ["ViewVersion", "saved_snapshot", "view_version"]


class ViewVersion(NamedTuple):
    """How far an account's state has got: compared as a tuple, a later state of one history is larger."""

    #: the instant the snapshot is taken at (`as_of`)
    as_of: int
    #: the sum of the input positions the state has applied
    progress: int


def saved_snapshot(engine: Engine, state: AccountState) -> dict[str, Any]:
    """Return the account's health as the engine last decided it (as of its latest evaluation)."""
    return engine.snapshot(state, state.last_eval_ms)


def view_version(state: AccountState) -> ViewVersion:
    """Return how far the state has got (see the module docstring)."""
    return ViewVersion(max(state.last_eval_ms, state.clock_ms + 1), sum(state.positions.values()))
