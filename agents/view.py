"""The view timer: push changed snapshots to Redis and refresh the gauges."""

from __future__ import annotations

import logging

import faust

from streams.processor import Processor

__all__ = ["register_view_timer"]

log = logging.getLogger(__name__)


def register_view_timer(app: faust.App, processor: Processor, interval_s: float) -> None:
    """Register a timer that refreshes the Redis view and gauges every `interval_s` seconds."""

    @app.timer(interval_s, name="healthmon.view")
    async def refresh_view() -> None:
        try:
            await processor.refresh_view()
        except Exception:  # noqa: BLE001 - a view problem must never stop the stream
            log.exception("refreshing the health view failed")
