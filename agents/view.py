"""The view timer: push changed snapshots to Redis and refresh the gauges."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import faust

from healthmon.ingest import partition_for
from healthmon.serving.metrics import Metrics
from healthmon.serving.view_check import compare_view
from healthmon.serving.view_refresh import ViewRefresh

__all__ = ["ViewCheck", "register_view_timer", "local_accounts"]

log = logging.getLogger(__name__)


def local_accounts(app: faust.App, inputs: set[str], saved_accounts: Iterable[str], partitions: int) -> list[str]:
    """Return the saved accounts that belong to this worker's active partitions of the `inputs` topics."""
    active = {tp.partition for tp in app.assignor.assigned_actives() if tp.topic in inputs}
    return [a for a in saved_accounts if partition_for(a, partitions) in active]


@dataclass
class ViewCheck:
    """The worker's periodic check that the view of its accounts is what their states say."""

    interval_s: float
    #: account -> (snapshot, progress, score history) of its current state, None if it has none
    saved_view: Callable[[str], tuple[dict[str, Any], int, bytes] | None]
    metrics: Metrics

    async def run(self, refresh: ViewRefresh, accounts: list[str]) -> int:
        """Compare the view of `accounts` (those not queued for a refresh); push the stale again; return how many."""
        expected = {a: found[:2] for a in accounts if not refresh.queued(a) and (found := self.saved_view(a))}
        stale = [d.account_id for d in await compare_view(refresh.view, expected)
                 if d.stale and not refresh.queued(d.account_id)]
        self.metrics.view_stale.set(len(stale))
        if stale:
            log.warning("Redis view check: %d of %d accounts stale (e.g. %s); pushing them again",
                        len(stale), len(expected), stale[0])
            refresh.view.forget_written(stale)
            refresh.mark_all(stale)
        return len(stale)


def register_view_timer(app: faust.App, refresh: ViewRefresh, saved_accounts: Callable[[], Iterable[str]],
                        inputs: set[str], partitions: int, max_accounts: int, interval_s: float,
                        check: ViewCheck | None = None) -> None:
    """Register a timer that refreshes the Redis view and gauges every `interval_s` seconds.

    Each run scores at most `max_accounts` of the accounts that changed. Every local account is queued
    again, once the table is recovered, when Redis may have lost what it held and after every partition
    assignment: a new owner cannot know what the last one pushed before it died or was fenced (an
    evaluation saved at a commit, its view update still queued), and the view refuses older states,
    so pushing again is always safe. With `check`, every `check.interval_s` the local accounts' view is
    compared with their states (`ViewCheck.run`).
    """
    next_check = [time.monotonic() + check.interval_s] if check is not None and check.interval_s else None

    @app.on_partitions_assigned.connect
    async def resync_after_assignment(app: faust.App, assigned: Any, **kwargs: Any) -> None:
        refresh.view.request_resync(f"{len(assigned)} partitions assigned")

    owned: set[int] = set()

    @app.timer(interval_s, name="healthmon.view")
    async def refresh_view() -> None:
        nonlocal owned
        try:
            await refresh.refresh(max_accounts)
            view = refresh.view
            settled = app.tables.recovery.completed.is_set() and not app.rebalancing
            if view.resync_requested and settled:
                view.resync_started()
                marked = refresh.mark_all(local_accounts(app, inputs, saved_accounts(), partitions))
                log.info("Redis view resync: %d local accounts", marked)
            active = {tp.partition for tp in app.assignor.assigned_actives() if tp.topic in inputs}
            if settled and active != owned:
                # The gauges and per-account series of accounts another worker owns now would count them
                # twice, and frozen; the accounts this worker gained are scored again to get theirs.
                owned = active
                refresh.retain(lambda account: partition_for(account, partitions) in active)
                refresh.mark_all(local_accounts(app, inputs, saved_accounts(), partitions))
            if (check is not None and next_check is not None and time.monotonic() >= next_check[0]
                    and app.tables.recovery.completed.is_set() and not app.rebalancing and not view.backlog):
                next_check[0] = time.monotonic() + check.interval_s
                await check.run(refresh, local_accounts(app, inputs, saved_accounts(), partitions))
        except Exception:  # noqa: BLE001 - a view problem must never stop the stream
            log.exception("refreshing the health view failed")
