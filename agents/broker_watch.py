"""The broker watch timer: log each change of the broker's reachability once, keep the broker gauges current."""

from __future__ import annotations

import logging

import faust

from healthmon.kafka.broker_watch import BrokerWatch
from healthmon.serving.metrics import Metrics

__all__ = ["register_broker_watch"]

log = logging.getLogger(__name__)


def register_broker_watch(app: faust.App, watch: BrokerWatch, metrics: Metrics, interval_s: float = 1.0) -> None:
    """Log each change of the broker's reachability once and keep the broker gauges current."""
    metrics.broker_unreachable.set_function(lambda: 0.0 if watch.status().reachable else 1.0)
    metrics.broker_last_contact.set_function(lambda: watch.status().last_contact_unix or 0.0)

    @app.timer(interval_s, name="healthmon.broker_watch")
    async def report_broker() -> None:
        for line in watch.changes():
            log.warning("%s", line)
