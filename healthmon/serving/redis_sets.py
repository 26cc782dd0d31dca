"""Which of the view's sorted sets an account's snapshot belongs in, and whether a snapshot changed."""

from __future__ import annotations

from typing import Any

import orjson

from healthmon.core.vocabulary import BANDS
from healthmon.serving.metrics import TIER_LABELS, UNKNOWN_TIER

__all__ = ["NO_DROP_RANK", "drop_7d", "drop_rank", "snapshot_fingerprint", "sorted_set_place"]

#: the drop set's rank of an account whose score 7 days ago is unknown: after every known drop or rise
NO_DROP_RANK = 1000.0


def snapshot_fingerprint(snapshot: dict[str, Any], progress: int = 0) -> bytes:
    """Return the bytes that decide whether a snapshot changed: all of it, `as_of` included, and its progress.

    A snapshot is a function of the saved state (`healthmon.core.saved_view`), so an unchanged state
    gives the same bytes, and any change users could read (its `as_of` too) is written.
    """
    return orjson.dumps([snapshot, progress], option=orjson.OPT_SORT_KEYS)


def sorted_set_place(snapshot: dict[str, Any]) -> tuple[str, str] | None:
    """Return the (band, tier) sorted sets an account belongs in, or None when it has no score."""
    if snapshot.get("score") is None or snapshot.get("band") not in BANDS:
        return None
    tier = snapshot.get("tier")
    return snapshot["band"], tier if tier in TIER_LABELS else UNKNOWN_TIER


def drop_7d(snapshot: dict[str, Any]) -> float | None:
    """Return how many points the score fell in 7 days (negative: it rose; None: unknown)."""
    before, now = snapshot.get("score_7d_ago"), snapshot.get("score")
    return None if before is None or now is None else round(before - now, 1)


def drop_rank(snapshot: dict[str, Any]) -> float:
    """Return the account's rank in the drop set: the biggest drop lowest, unknown drops last."""
    drop = drop_7d(snapshot)
    return NO_DROP_RANK if drop is None else -drop
