"""The view timer: push changed snapshots to Redis and refresh the gauges."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

import faust

from healthmon.ingest import partition_for
from healthmon.serving.view_refresh import ViewRefresh

__all__ = ["register_view_timer", "local_accounts"]

log = logging.getLogger(__name__)


def local_accounts(app: faust.App, inputs: set[str], saved_accounts: Iterable[str], partitions: int) -> list[str]:
    """Return the saved accounts that belong to this worker's active partitions of the `inputs` topics."""
    active = {tp.partition for tp in app.assignor.assigned_actives() if tp.topic in inputs}
    return [a for a in saved_accounts if partition_for(a, partitions) in active]


def register_view_timer(app: faust.App, refresh: ViewRefresh, saved_accounts: Callable[[], Iterable[str]],
                        inputs: set[str], partitions: int, max_accounts: int, interval_s: float) -> None:
    """Register a timer that refreshes the Redis view and gauges every `interval_s` seconds.

    Each run scores at most `max_accounts` of the accounts that changed; when Redis may have lost what
    it held, every local account is queued again, once the table is complete.
    """

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
                # Per-account series of accounts another worker owns now would show them twice, and
                # frozen; the accounts this worker gained are scored again to get theirs.
                owned = active
                refresh.metrics.account_series.retain(lambda account: partition_for(account, partitions) in active)
                refresh.mark_all(local_accounts(app, inputs, saved_accounts(), partitions))
        except Exception:  # noqa: BLE001 - a view problem must never stop the stream
            log.exception("refreshing the health view failed")
