"""Counts of the engine's evaluations, for the bench's cost model and the tests of the skipped ones."""

from __future__ import annotations

__all__ = ["EvaluationStats"]


class EvaluationStats:
    """Counts (and, when `timed`, nanoseconds) of evaluations: full ones and fast-path ones."""

    def __init__(self, timed: bool = True) -> None:
        self.timed = timed
        self.full = 0
        self.fast = 0
        self.full_ns = 0
        self.fast_ns = 0
