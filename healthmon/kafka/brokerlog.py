"""Keep a broker outage to a few log lines: aiokafka logs every failed retry, about 24 lines a second.

The first connection error of an outage is logged, then one summary line per interval with the count
of errors since; the end of the outage gets one line. aiokafka's own retry and backoff stay as they
are: only what reaches the log changes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

__all__ = ["BrokerErrorLimiter", "CONNECTION_ERROR_MARKERS", "attach"]

#: Substrings of the aiokafka (and Faust) records that only repeat that the broker cannot be reached.
CONNECTION_ERROR_MARKERS = (
    "Unable connect to", "Unable to update metadata", "Unable to request metadata",
    "Group Coordinator Request failed", "Failed fetch messages from", "Heartbeat session expired",
    "Heartbeat send request failed", "coordinator dead",
    "NodeNotReadyError", "KafkaConnectionError", "RequestTimedOutError", "GroupCoordinatorNotAvailable",
    "Connect call failed", "Connection at", "Error sending", "Got error produce response",
    "KafkaTimeoutError", "NotCoordinatorForGroup", "CoordinatorNotAvailable", "Unable to send",
)
_LOGGER_PREFIXES = ("aiokafka", "faust")


class BrokerErrorLimiter(logging.Filter):
    """Let the first connection error of an outage through, then one summary line per interval."""

    def __init__(self, interval_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.interval_s = interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._since: float | None = None  # start of the current outage, as logged
        self._last_line = 0.0
        self._suppressed = 0
        self._total = 0

    @staticmethod
    def is_connection_error(record: logging.LogRecord) -> bool:
        """Return whether `record` only repeats that the broker cannot be reached."""
        if record.levelno < logging.WARNING or not record.name.startswith(_LOGGER_PREFIXES):
            return False
        message = record.getMessage()
        return any(marker in message for marker in CONNECTION_ERROR_MARKERS)

    def filter(self, record: logging.LogRecord) -> bool:
        """Return whether to log `record`; rewrite it into the outage's first or summary line."""
        if not self.is_connection_error(record):
            return True
        with self._lock:
            now = self._clock()
            self._total += 1
            if self._since is None:
                self._since, self._last_line, self._suppressed = now, now, 0
                text = (f"Kafka broker unreachable: {record.getMessage()} (retrying; repeats are counted and "
                        f"logged once every {self.interval_s:.0f} s)")
            elif now - self._last_line >= self.interval_s:
                text = (f"Kafka broker still unreachable after {now - self._since:.0f} s: "
                        f"{self._suppressed + 1} connection errors in the last {now - self._last_line:.0f} s; "
                        f"latest: {record.getMessage()}")
                self._last_line, self._suppressed = now, 0
            else:
                self._suppressed += 1
                return False
        record.msg, record.args, record.exc_info, record.exc_text = text, (), None, None
        return True

    def recovered(self) -> str | None:
        """Close the current outage; return the line to log about it, or None if none was open."""
        with self._lock:
            if self._since is None:
                return None
            line = (f"Kafka broker reachable again after {self._clock() - self._since:.0f} s "
                    f"({self._total} connection errors in all)")
            self._since, self._total = None, 0
            return line


def attach(limiter: BrokerErrorLimiter) -> BrokerErrorLimiter:
    """Install `limiter` on every aiokafka and Faust logger that exists now (filters do not propagate).

    Return the limiter in charge: one already attached by an earlier call keeps its place, so records
    are never counted twice.
    """
    names = [name for name, logger in logging.Logger.manager.loggerDict.items()
             if isinstance(logger, logging.Logger) and name.startswith(_LOGGER_PREFIXES)]
    for existing in logging.getLogger(_LOGGER_PREFIXES[0]).filters:
        if isinstance(existing, BrokerErrorLimiter):
            limiter = existing
    for name in {*names, *_LOGGER_PREFIXES}:
        logger = logging.getLogger(name)
        if limiter not in logger.filters:
            logger.addFilter(limiter)
    return limiter
