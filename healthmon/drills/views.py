"""What users read at the end of a run: every account's view over HTTP, once it has settled.

A run's view is compared with its own saved states (the changelog, read as recovery does) and with the
clean run's view, field by field, `as_of` included. The view is read only once the input is committed,
and given time to settle: a worker pushes a bounded number of accounts a second, and a new owner
re-pushes its accounts after each assignment.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson

from healthmon.core import Engine, state_from_bytes
from healthmon.core.saved_view import saved_snapshot

__all__ = ["SettledView", "diff_views", "read_views", "settled_view"]

#: account -> what /accounts/{id} answered from Redis (None: not found there)
Views = dict[str, dict[str, Any] | None]


class SettledView:
    """A run's view as users read it, and the snapshots of its saved states."""

    def __init__(self, views: Views, saved: dict[str, dict[str, Any]], waited_s: float) -> None:
        self.views = views
        self.saved = saved
        self.waited_s = waited_s

    @property
    def unlike_saved(self) -> list[str]:
        """Return the accounts whose view is not their saved state's snapshot."""
        return diff_views(self.saved, self.views)


    def describe(self, account: str) -> str:
        """Name how an account's view differs from its saved state, for a failure message."""
        got, want = self.views.get(account), self.saved.get(account)
        if got is None or want is None:
            sides = ("absent" if got is None else "present", "absent" if want is None else "present")
            return f"{account}: view {sides[0]}, saved {sides[1]}"
        return f"{account}: " + ", ".join(f"{k} {got.get(k)!r:.60} != {want.get(k)!r:.60}"
                                          for k in sorted(want.keys() | got.keys()) if got.get(k) != want.get(k))


def diff_views(want: dict[str, Any], got: dict[str, Any]) -> list[str]:
    """Return the accounts whose view differs (any field, `as_of` included), or is missing on one side."""
    return sorted(a for a in want.keys() | got.keys() if want.get(a) is None or want.get(a) != got.get(a))


def read_views(worker: Any, accounts: list[str]) -> Views:
    """Read every account's view over HTTP from `worker`, as a user would (`source: redis` only)."""
    views: Views = {}
    for account in accounts:
        status, body = worker.get(f"/accounts/{account}")
        found = orjson.loads(body) if status == 200 else None
        views[account] = found["account"] if found and found.get("source") == "redis" else None
    return views


async def settled_view(run: Any, engine: Engine, timeout_s: float = 90.0) -> SettledView:
    """Wait until a live worker of `run` serves every saved account as saved (or the timeout); return it."""
    began = time.monotonic()
    while True:
        states = await run.saved_states()
        saved = {a: saved_snapshot(engine, state_from_bytes(raw)) for a, raw in states.items()}
        worker = next((w for w in run.workers if w.alive()), None)
        views = await asyncio.to_thread(read_views, worker, sorted(saved)) if worker else {}
        settled = SettledView(views, saved, time.monotonic() - began)
        if not settled.unlike_saved or time.monotonic() - began > timeout_s:
            return settled
        await asyncio.sleep(2.0)
