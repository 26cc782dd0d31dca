"""The broker watch timer: log each change of the broker's reachability once, keep the broker gauges current."""

from __future__ import annotations

import logging
import time

import faust

from healthmon.serving.metrics import Metrics
from streams.brokerlog import BrokerErrorLimiter, attach
from streams.reachability import BrokerContact

__all__ = ["register_broker_watch"]

log = logging.getLogger(__name__)


def register_broker_watch(app: faust.App, contact: BrokerContact, metrics: Metrics,
                          limiter: BrokerErrorLimiter, interval_s: float = 1.0) -> None:
    """Log each change of the broker's reachability once and keep the broker gauges current."""
    limiter = attach(limiter)
    metrics.broker_unreachable.set_function(lambda: 0.0 if contact.status().reachable else 1.0)
    metrics.broker_last_contact.set_function(lambda: contact.status().last_contact_unix or 0.0)
    since: list[float] = []  # monotonic start of the outage being reported, if any

    @app.timer(interval_s, name="healthmon.broker_watch")
    async def watch_broker() -> None:
        status = contact.status()
        if not status.reachable and not since:
            since.append(time.monotonic())
            log.warning("healthmon: not ready: %s; the Kafka clients keep retrying", status.reason)
        elif status.reachable and status.answered_since_failure:
            outage = limiter.recovered()
            if since:
                log.warning("healthmon: Kafka broker answers again after %.0f s; ready%s",
                            time.monotonic() - since.pop(), f" ({outage})" if outage else "")
            elif outage:
                log.warning("healthmon: %s", outage)
