"""Compare the Redis view with the saved states it should show, and rewrite what is stale.

The view converges by itself (`healthmon.serving.redis_put`, the resync after every assignment); this
is the operator's check that it did (`healthmon view check [--repair]`), and the worker's own periodic
check (`healthmon_view_stale_accounts`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from healthmon.serving.redis_view import RedisView

__all__ = ["ViewDifference", "compare_view", "repair_view"]

#: An account's expected snapshot and its state's input progress (see `healthmon.core.saved_view`).
Expected = Mapping[str, tuple[dict[str, Any], int]]


@dataclass(frozen=True)
class ViewDifference:
    """One account whose view is not its saved state's snapshot."""

    account_id: str
    #: the snapshot fields users read otherwise (("missing",) when the view has no entry)
    fields: tuple[str, ...]
    #: the view holds a more advanced state than the saved one: an owner's live state ahead of its last
    #: commit (input is flowing), not a stale view
    ahead: bool
    #: what the view holds (None: nothing)
    held: dict[str, Any] | None = None

    @property
    def stale(self) -> bool:
        """Return whether the view is behind (or beside) the saved state: what a repair rewrites."""
        return not self.ahead


async def compare_view(view: RedisView, expected: Expected, batch: int = 500) -> list[ViewDifference]:
    """Return the accounts of `expected` whose view differs from their expected snapshot, in account order."""
    assert view.reader is not None, "no Redis configured (HEALTHMON_REDIS_URL)"
    accounts = sorted(expected)
    out: list[ViewDifference] = []
    for start in range(0, len(accounts), batch):
        chunk = accounts[start:start + batch]
        pipe = view.reader.pipeline(transaction=False)
        for account_id in chunk:
            pipe.hmget(view.account_key(account_id), "snapshot", "as_of", "progress")
        for account_id, (raw, as_of, progress) in zip(chunk, await pipe.execute()):
            want, want_progress = expected[account_id]
            if raw is None:
                out.append(ViewDifference(account_id, ("missing",), ahead=False))
                continue
            held = orjson.loads(raw)
            if held == want:
                continue
            fields = tuple(sorted(k for k in want.keys() | held.keys() if held.get(k) != want.get(k)))
            version = (int(as_of or 0), int(progress or 0))
            ahead = version > (int(want.get("as_of") or 0), want_progress)
            out.append(ViewDifference(account_id, fields, ahead=ahead, held=held))
    return out


async def repair_view(view: RedisView, expected: Expected, differences: list[ViewDifference]) -> int:
    """Rewrite the stale accounts among `differences` from `expected`; return how many were written."""
    stale = [d.account_id for d in differences if d.stale]
    view.forget_written(stale)
    for account_id in stale:
        snapshot, progress = expected[account_id]
        view.put_snapshot(account_id, snapshot, progress)
    if not await view.flush():
        raise ConnectionError("Redis refused the repair writes (see the log)")
    return len(stale)
