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
        #: accounts to score into the view, in the order they changed (a dict used as an ordered set)
        self.outdated: dict[str, None] = {}
        #: account -> the (band, tier) the `healthmon_accounts` gauge counts it under
        self._band_tier: dict[str, tuple[str, str]] = {}

    def mark(self, account_id: str) -> None:
        """Queue the account for the next refresh (its place in the queue is kept if already queued)."""
        self.outdated[account_id] = None

    def mark_all(self, account_ids: Iterable[str]) -> int:
        """Queue every one of `account_ids`; return how many."""
        marked = 0
        for account_id in account_ids:
            self.outdated[account_id] = None
            marked += 1
        return marked

    def remove(self, account_id: str, as_of: int, progress: int) -> None:
        """Take an account its source removed out of the gauges, its series and the view (its last state's version)."""
        self.outdated.pop(account_id, None)
        previous = self._band_tier.pop(account_id, None)
        if previous is not None:
            self.metrics.accounts.labels(*previous).dec()
        self.metrics.account_series.forget(account_id)
        self.view.remove_account(account_id, as_of, progress)

    async def refresh(self, max_accounts: int | None = None) -> None:
        """Score queued accounts (at most `max_accounts`, longest-waiting first) into the view and gauges; flush."""
        # In a backfill every account changes every second; scoring them all would take the worker's
        # time from the stream. The rest stay queued, in order, for the next refresh.
        outdated = self.outdated
        account_series = self.metrics.account_series
        batch = list(outdated) if max_accounts is None else list(islice(outdated, max_accounts))
        for n, account_id in enumerate(batch):
            del outdated[account_id]
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
