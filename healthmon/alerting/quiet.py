"""Say a repeated failure once, then at most once a minute with a count: a dead peer must not flood the log."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

__all__ = ["RepeatLog", "QuietFilter"]

INTERVAL_S = 60.0


class RepeatLog:
    """Log the first failure of an ongoing problem, then a reminder with a count at most every `interval_s`."""

    def __init__(self, log: logging.Logger, what: str, interval_s: float = INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.log, self.what, self.interval_s, self.clock = log, what, interval_s, clock
        self.failures = 0
        self._last = 0.0

    def failure(self, detail: object) -> None:
        """Record one failure; log it if it is the first or the last log is old enough."""
        self.failures += 1
        now = self.clock()
        if self.failures == 1:
            self.log.warning("%s: %s (retrying; further failures are logged once a minute)", self.what, detail)
            self._last = now
        elif now - self._last >= self.interval_s:
            self.log.warning("%s: still failing after %d attempts: %s", self.what, self.failures, detail)
            self._last = now

    def success(self) -> None:
        """Record that the problem is over; say so if it had been reported."""
        if self.failures:
            self.log.warning("%s: recovered after %d failed attempts", self.what, self.failures)
        self.failures = 0


class QuietFilter(logging.Filter):
    """Let through one record per (logger, message template) a minute from the noisy libraries, with a count."""

    def __init__(self, prefixes: tuple[str, ...] = ("aiokafka", "kafka"), interval_s: float = INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.prefixes, self.interval_s, self.clock = prefixes, interval_s, clock
        self._seen: dict[tuple[str, str], list[float]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        """Drop repeats of a library message within the interval; count them into the next one let through."""
        if not record.name.startswith(self.prefixes):
            return True
        key = (record.name, str(record.msg))
        now = self.clock()
        seen = self._seen.get(key)
        if seen is None:
            self._seen[key] = [now, 0]
            return True
        if now - seen[0] < self.interval_s:
            seen[1] += 1
            return False
        if seen[1]:
            record.msg = f"{record.msg} ({int(seen[1])} similar messages in the last {now - seen[0]:.0f} s)"
        self._seen[key] = [now, 0]
        return True
