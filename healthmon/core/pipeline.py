"""Stream time per input source, source staleness, and the single `ingest_stalled` pipeline alert."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from healthmon.core.alerts import pipeline_alert
from healthmon.core.policy import Policy
from healthmon.core.records import AlertRecord
from healthmon.core.vocabulary import FIRING, RESOLVED, AlertStatus

__all__ = ["PipelineClock"]


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


class PipelineClock:
    """Watermarks (max event time) per source and overall; a watched source lagging too far is stale.

    A source is stale when the overall watermark is more than its `stale_after_seconds` ahead of the
    source's own watermark. A source never observed is not stale: nothing distinguishes "not deployed"
    from "quiet" then. When every source stops, the watermark stops too, and nothing is stale.
    After a stall resolves, the source stays *held back* for `hold_after_seconds` of stream time: the
    events lost in the gap still depress the 7-day windows, and that is not the customers' doing.

    A lag alone is not a stall either: a consumer's fetches hold seconds of one topic before another, which
    in a fast replay is days of event time. A source is stale only once it has also gone
    `stall_idle_seconds` of processing time (the injected clock) without a single event while other
    sources flowed: pipeline silence is silence of the pipeline. A gap in which no source delivered
    anything (a paused broker, a rebalance) counts at most half of `stall_idle_seconds`.
    `backlog(source)` tells whether the source still has unread input. A consumer reads topics at
    different speeds, so during a catch-up a busy source lags a sparse one in event time although
    nothing is missing; a source with a backlog is therefore never stale. A real stall has none.
    """

    def __init__(self, policy: Policy, config: Any = None, *, clock: Callable[[], int] = _wall_ms,
                 backlog: Callable[[str], bool] | None = None) -> None:
        self.policy = policy
        self._stale_after_ms = {s: v * 1000 for s, v in policy.stale_after_seconds.items()}
        self._hold_after_ms = {s: v * 1000 for s, v in policy.hold_after_seconds.items()}
        self._recovering: dict[str, int] = {}  # resumed source -> stream time its hold-back ends
        self._clock = clock
        self._backlog = backlog
        self._idle_ms = int(getattr(config, "stall_idle_seconds", 0) * 1000)
        #: the most of one gap in which no source delivered anything that counts as idle time
        self._max_gap_ms = max(1, self._idle_ms // 2)
        #: processing time during which the pipeline flowed (see `_flow_now`)
        self._flow_ms = 0
        self._last_any_ms: int | None = None
        self._seen_flow_ms: dict[str, int] = {}
        self._source_ms: dict[str, int] = {}
        self._watermark_ms = 0
        self._reported: dict[str, int] = {}  # stale source -> episode start (its watermark when it stalled)

    def observe(self, source: str, occurred_at_ms: int) -> None:
        """Record that an event of `source` occurred at `occurred_at_ms`."""
        if self._idle_ms:
            # `_flow_now` with one clock reading, not two: this runs for every event.
            now = self._clock()
            last = self._last_any_ms
            flow = self._flow_ms if last is None else self._flow_ms + min(max(0, now - last), self._max_gap_ms)
            self._flow_ms = flow
            self._last_any_ms = now
            self._seen_flow_ms[source] = flow
        if occurred_at_ms > self._source_ms.get(source, 0):
            self._source_ms[source] = occurred_at_ms
            if occurred_at_ms > self._watermark_ms:
                self._watermark_ms = occurred_at_ms

    def _flow_now(self) -> int:
        """Return the processing time the pipeline has flowed: a gap with no event at all counts half an idle.

        A paused broker, a rebalance or a stopped worker silences every source at once, which says
        nothing about any one of them; a source is idle only while others deliver without it.
        """
        if self._last_any_ms is None:
            return self._flow_ms
        return self._flow_ms + min(max(0, self._clock() - self._last_any_ms), self._max_gap_ms)

    @property
    def watermark_ms(self) -> int:
        """Return the overall stream time: the latest event time of any source (0 before any event)."""
        return self._watermark_ms

    def source_watermark_ms(self, source: str) -> int | None:
        """Return a source's own watermark, or None if it has never been observed."""
        return self._source_ms.get(source)

    def staleness_seconds(self, source: str) -> float:
        """Return how far a source lags the overall stream time, in seconds (0 if never observed)."""
        own = self._source_ms.get(source)
        return 0.0 if own is None else (self._watermark_ms - own) / 1000

    def stale_sources(self) -> frozenset[str]:
        """Return the watched sources that are stale now."""
        wm = self._watermark_ms
        lagging = [s for s, limit in self._stale_after_ms.items()
                   if s in self._source_ms and wm - self._source_ms[s] > limit]
        if lagging and self._idle_ms:
            flow = self._flow_now()
            lagging = [s for s in lagging if flow - self._seen_flow_ms.get(s, 0) >= self._idle_ms]
        if lagging and self._backlog is not None:
            lagging = [s for s in lagging if not self._backlog(s)]
        return frozenset(lagging)

    def held_back_sources(self) -> frozenset[str]:
        """Return the sources whose activity alerts are held back: stale, or resumed too recently."""
        wm = self._watermark_ms
        recovering = {s for s, until in self._recovering.items() if wm < until}
        return self.stale_sources() | recovering

    def update(self) -> list[AlertRecord]:
        """Return the pipeline alerts to send: one firing per new stall, one resolved per recovery."""
        stale = self.stale_sources()
        alerts = []
        for source in sorted(stale.difference(self._reported)):
            self._reported[source] = self._source_ms[source]
            alerts.append(self._alert(source, FIRING))
        for source in sorted(self._reported.keys() - stale):
            alerts.append(self._alert(source, RESOLVED))
            del self._reported[source]
            self._recovering[source] = self._watermark_ms + self._hold_after_ms.get(source, 0)
        return alerts

    def _alert(self, source: str, status: AlertStatus) -> AlertRecord:
        return pipeline_alert(
            source, status, episode_start=self._reported[source], at_ms=self._watermark_ms,
            staleness_seconds=self.staleness_seconds(source),
            stale_after_seconds=self._stale_after_ms[source] // 1000,
            hold_after_seconds=self._hold_after_ms.get(source, 0) // 1000, severity=self.policy.pipeline_severity,
            policy_version=self.policy.version, processed_at=self._clock(),
        )
