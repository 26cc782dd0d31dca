"""Keep the Redis view and the health gauges current: score changed accounts, a bounded number at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from itertools import islice
from typing import Any

from healthmon.core import PipelineClock
from healthmon.core.vocabulary import BANDS
from healthmon.serving.metrics import TOPIC_LABELS, UNKNOWN_TIER, Metrics
from healthmon.serving.redis_view import RedisView

__all__ = ["ViewRefresh"]


class ViewRefresh:
    """The accounts whose snapshot is out of date, in the order they changed, and how to refresh them."""

    def __init__(self, metrics: Metrics, view: RedisView, clock: PipelineClock,
                 saved_view: Callable[[str], tuple[dict[str, Any], int, bytes] | None],
                 stream_time: Callable[[str], int]) -> None:
        self.metrics = metrics
        self.view = view
        self.clock = clock
        #: account -> (snapshot, progress, score history) of its current state (`healthmon.core.saved_view`),
        #: None if unknown
        self._saved_view = saved_view
        #: account -> its partition's stream time (per-account series expire by it)
        self._stream_time = stream_time
        #: accounts whose state changed, to score into the view in the order they changed (an ordered set)
        self.outdated: dict[str, None] = {}
        #: accounts to push again whether or not they changed (after an assignment, a stale view found by the
        #: check), in the order they were queued: they yield to changed accounts, within a reserved share
        self.resync: dict[str, None] = {}
        #: account -> the (band, tier) the `healthmon_accounts` gauge counts it under
        self._band_tier: dict[str, tuple[str, str]] = {}

    def mark(self, account_id: str) -> None:
        """Queue the account for the next refresh (its place in the queue is kept if already queued)."""
        self.outdated[account_id] = None

    def mark_all(self, account_ids: Iterable[str]) -> int:
        """Queue every one of `account_ids` to be pushed again, behind the accounts that changed; return how many."""
        marked = 0
        for account_id in account_ids:
            self.resync[account_id] = None
            marked += 1
        return marked

    def queued(self, account_id: str) -> bool:
        """Return whether the account waits for a refresh."""
        return account_id in self.outdated or account_id in self.resync

    def _next_batch(self, max_accounts: int | None) -> list[str]:
        """Take the accounts of the next refresh out of the queues: changed ones first, resync within its share.

        After a takeover the new owner queues every account it gained (tens of thousands) for one push
        each; the accounts changing meanwhile must not wait behind them, nor may a long backfill starve the
        push: the resync gets a quarter of the budget whenever it has accounts queued.
        """
        outdated, resync = self.outdated, self.resync
        if max_accounts is None:
            batch = list(outdated) + [a for a in resync if a not in outdated]
            outdated.clear()
            resync.clear()
            return batch
        reserve = min(len(resync), max(1, max_accounts // 4))
        batch = list(islice(outdated, max(0, max_accounts - reserve)))
        for account_id in batch:
            del outdated[account_id]
            resync.pop(account_id, None)
        while len(batch) < max_accounts and resync:
            batch.append(account_id := next(iter(resync)))
            del resync[account_id]
            outdated.pop(account_id, None)
        return batch

    def remove(self, account_id: str, as_of: int, progress: int) -> None:
        """Take an account its source removed out of the gauges, its series and the view (its last state's version)."""
        self.outdated.pop(account_id, None)
        self.resync.pop(account_id, None)
        previous = self._band_tier.pop(account_id, None)
        if previous is not None:
            self.metrics.accounts.labels(*previous).dec()
        self.metrics.account_series.forget(account_id)
        self.view.remove_account(account_id, as_of, progress)

    def retain(self, keep: Callable[[str], bool]) -> int:
        """Forget the accounts `keep` refuses (after a rebalance: those another worker owns now); count them.

        They leave the `healthmon_accounts` gauge, their per-account series and the queues: their new
        owner counts them and pushes them again after its assignment, from the states saved at the revoke.
        """
        gone = [account_id for account_id in self._band_tier if not keep(account_id)]
        for account_id in gone:
            self.metrics.accounts.labels(*self._band_tier.pop(account_id)).dec()
        for queue in (self.outdated, self.resync):
            for account_id in [a for a in queue if not keep(a)]:
                del queue[account_id]
        self.metrics.account_series.retain(keep)
        return len(gone)

    async def refresh(self, max_accounts: int | None = None) -> None:
        """Score queued accounts (at most `max_accounts`, each queue longest-waiting first) into the view; flush."""
        # In a backfill every account changes every second; scoring them all would take the worker's
        # time from the stream. The rest stay queued, in order, for the next refresh.
        account_series = self.metrics.account_series
        for n, account_id in enumerate(self._next_batch(max_accounts)):
            if n % 256 == 255:
                await asyncio.sleep(0)
            found = self._saved_view(account_id)
            if found is None:
                continue
            snapshot, progress, history = found
            band, tier = snapshot.get("band") or BANDS[0], snapshot.get("tier") or UNKNOWN_TIER
            previous = self._band_tier.get(account_id)
            if previous != (band, tier):
                if previous is not None:
                    self.metrics.accounts.labels(*previous).dec()
                self.metrics.accounts.labels(band, tier).inc()
                self._band_tier[account_id] = (band, tier)
            if snapshot.get("score") is not None:
                self.metrics.health_score.observe(snapshot["score"])
            account_series.observe(account_id, snapshot, tier)
            self.view.put_snapshot(account_id, snapshot, progress)
            self.view.put_history(account_id, history)
        account_series.expire(self._stream_time)
        clock = self.clock
        for kind, label in TOPIC_LABELS.items():
            wm = clock.source_watermark_ms(kind)
            if wm:
                self.metrics.watermark.labels(label).set(wm / 1000)
            self.metrics.staleness.labels(label).set(clock.staleness_seconds(kind))
            self.metrics.stale.labels(label).set(1 if kind in clock.stale_sources() else 0)
        await self.view.flush()
