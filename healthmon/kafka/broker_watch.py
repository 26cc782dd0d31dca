"""One watch of the broker per process: whether its Kafka clients reach it, and their error lines kept few.

The worker's broker-watch timer (`agents.broker_watch`) and the command-line clients (`clientguard`)
both start it with `watch_broker`; the worker also logs what `changes` returns, once per change.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from healthmon.kafka.brokerlog import BrokerErrorLimiter, attach
from healthmon.kafka.reachability import BrokerContact, ContactStatus, install

__all__ = ["BrokerWatch", "watch_broker"]


class BrokerWatch:
    """This process's broker contact and connection-error limiter, and the outage being reported."""

    def __init__(self, contact: BrokerContact, limiter: BrokerErrorLimiter,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.contact = contact
        self.limiter = limiter
        self._clock = clock
        self._since: float | None = None  # start of the outage being reported, if any

    def status(self) -> ContactStatus:
        """Return whether the broker is reachable now, and why not."""
        return self.contact.status()

    def changes(self) -> list[str]:
        """Return the lines worth logging since the last call: an outage starts, or the broker answers again."""
        status = self.contact.status()
        if not status.reachable and self._since is None:
            self._since = self._clock()
            return [f"healthmon: not ready: {status.reason}; the Kafka clients keep retrying"]
        if not (status.reachable and status.answered_since_failure):
            return []
        outage = self.limiter.recovered()
        if self._since is not None:
            lasted, self._since = self._clock() - self._since, None
            return [f"healthmon: Kafka broker answers again after {lasted:.0f} s; ready"
                    + (f" ({outage})" if outage else "")]
        return [f"healthmon: {outage}"] if outage else []


def watch_broker(timeout_s: float, log_interval_s: float) -> BrokerWatch:
    """Track this process's Kafka clients and keep their connection errors to a few log lines (first call wins)."""
    limiter = attach(BrokerErrorLimiter(log_interval_s))
    return BrokerWatch(install(BrokerContact(timeout_s)), limiter)
