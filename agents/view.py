"""The view timer: push changed snapshots to Redis and refresh the gauges."""

from __future__ import annotations

import logging

import faust

from healthmon.ingest import partition_for
from streams.processor import Processor

__all__ = ["register_view_timer", "mark_local_accounts_dirty"]

log = logging.getLogger(__name__)


def mark_local_accounts_dirty(app: faust.App, processor: Processor) -> int:
    """Mark every account of this worker's active partitions dirty; return how many."""
    inputs = set(processor.topics.kind_by_name)
    active = {tp.partition for tp in app.assignor.assigned_actives() if tp.topic in inputs}
    marked = 0
    for raw_key in list(processor.table.keys()):
        account_id = raw_key.decode()
        if partition_for(account_id, processor.partitions) in active:
            processor.dirty[account_id] = None
            marked += 1
    return marked


def register_view_timer(app: faust.App, processor: Processor, interval_s: float) -> None:
    """Register a timer that refreshes the Redis view and gauges every `interval_s` seconds."""

    max_accounts = max(1, int(processor.settings.view_accounts_per_second * interval_s))

    @app.timer(interval_s, name="healthmon.view")
    async def refresh_view() -> None:
        try:
            await processor.refresh_view(max_accounts)
            view = processor.view
            # Redis may have lost what it had: put every local account again, once the table is complete.
            if view.resync_requested and app.tables.recovery.completed.is_set() and not app.rebalancing:
                view.resync_started()
                log.info("Redis view resync: %d local accounts", mark_local_accounts_dirty(app, processor))
        except Exception:  # noqa: BLE001 - a view problem must never stop the stream
            log.exception("refreshing the health view failed")
