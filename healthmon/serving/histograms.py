"""Observe many values in a Prometheus histogram at once, with exactly the exposition of one `observe` each.

prometheus-client's `Histogram.observe` takes a lock twice and walks the buckets for every value. The lag
of every event of a message is known at once, so the message's values are counted into buckets first and
added in one increment per bucket. The sum is added value by value, in order, onto the current sum, so
its floating-point rounding is that of observing them one by one.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["MessageLags", "observe_all"]


def observe_all(child: Any, amounts: Sequence[float]) -> None:
    """Observe each of `amounts` in a labelled histogram child, as `child.observe` would one by one."""
    if not amounts:
        return
    bounds = child._upper_bounds  # the last is +Inf: every value finds its bucket
    counts = [0] * len(bounds)
    total = child._sum.get()
    for amount in amounts:
        counts[bisect_left(bounds, amount)] += 1  # the first bound the value is <= to, as `observe` picks
        total += amount
    child._sum.set(total)
    buckets = child._buckets
    for i, n in enumerate(counts):
        if n:
            buckets[i].inc(n)


class MessageLags:
    """The event lags of the message being processed, by label, observed in one go once it is done."""

    def __init__(self, histogram: Any, labels: Iterable[str]) -> None:
        self._children = {label: histogram.labels(label) for label in labels}
        self._lags: dict[str, list[float]] = {}

    def of(self, label: str) -> list[float]:
        """Return the list to append this message's lags of `label` to."""
        return self._lags.setdefault(label, [])

    def observe(self) -> None:
        """Observe every lag collected since the last call (a repartition pack carries several inputs' events)."""
        if self._lags:
            lags, self._lags = self._lags, {}
            for label, values in lags.items():
                observe_all(self._children[label], values)
