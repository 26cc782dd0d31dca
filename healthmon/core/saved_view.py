"""What the serving view shows of an account: its saved state's own health, and how far that state got.

The view must converge to what the engine last decided whoever pushed it, so what it shows is a function
of the state alone: the health as of the state's latest evaluation (never before its latest event), not
as of whatever stream time the pushing worker had reached. A state only moves forward: an evaluation
advances `last_eval_ms`, a message advances the input position it came from, and neither goes back. So
`view_version` orders any two states of one account's history, and a writer can refuse an older push
(a frozen worker waking up, a dead worker's last refresh) over a newer entry. Table recovery uses the same
order (`behind`): a worker frozen past its session, woken after another took its partition over, may
append its older states to the changelog after the new owner's newer ones, and the last record of an
account is then not its most advanced state. Of two states with one version, the later written is kept.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from healthmon.core.codec import state_progress
from healthmon.core.engine import Engine
from healthmon.core.state import AccountState

__all__ = ["ViewVersion", "behind", "saved_behind", "saved_snapshot", "saved_version", "view_version"]


class ViewVersion(NamedTuple):
    """How far an account's state has got: compared as a tuple, a later state of one history is larger."""

    #: the instant the snapshot is taken at (`as_of`)
    as_of: int
    #: the input messages the state has applied up to: the sum of its positions, each plus one (so that a
    #: message at offset 0 counts)
    progress: int


def saved_snapshot(engine: Engine, state: AccountState) -> dict[str, Any]:
    """Return the account's health as the engine last decided it (as of its latest evaluation)."""
    return engine.snapshot(state, state.last_eval_ms)


def view_version(state: AccountState) -> ViewVersion:
    """Return how far the state has got (see the module docstring)."""
    positions = state.positions
    return ViewVersion(max(state.last_eval_ms, state.clock_ms + 1), sum(positions.values()) + len(positions))


def saved_version(raw: bytes) -> ViewVersion:
    """Return how far a saved state (`state_to_bytes`) has got, decoding only its meta."""
    clock_ms, last_eval_ms, progress = state_progress(raw)
    return ViewVersion(max(last_eval_ms, clock_ms + 1), progress)


def behind(incoming: ViewVersion, held: ViewVersion) -> bool:
    """Return whether a state written after `held` has got less far: an older one, which must not replace it."""
    return incoming < held


def saved_behind(incoming: bytes, held: bytes | None) -> bool:
    """Return whether saved state bytes written after `held` (None: nothing held) are an older state of it."""
    return held is not None and behind(saved_version(incoming), saved_version(held))
