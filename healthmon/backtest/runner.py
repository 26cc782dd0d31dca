"""Run the worker's own processor over a history in one process: no broker, no Redis, no wall clock.

The processor is `healthmon.pipeline.Processor`, as in `healthmon.bench.inprocess`: a dict for the
table, topics that collect instead of sending. Each line is fed as one message to the partition
`partition_for(account_id)` names, in the merged event-time order of `healthmon.backtest.inputs`, so
the per-partition watermarks, tick instants and therefore alert ids are those of a worker that
consumed the same input merged the same way. Processing time is frozen at the start of the run.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import orjson

from healthmon.backtest.inputs import NO_TIME, Line
from healthmon.backtest.report import DAY_MS, Inactivity
from healthmon.config import Settings
from healthmon.core import Engine, EngineConfig, PipelineClock, Policy
from healthmon.ingest import partition_for
from healthmon.ingest.inputs import InputsFile, inputs_or_default
from healthmon.serving.metrics import Metrics
from healthmon.serving.redis_view import RedisView
from schemas.events import FLOOR_PHRASE

if TYPE_CHECKING:
    from healthmon.pipeline import Inbound

__all__ = ["Replay", "ReplayStats", "replay"]

REPARTITION_TOPIC = "__backtest_repartition__"


@dataclass
class _Collect:
    """A topic stand-in that hands each record to a callback."""

    on_send: Callable[[bytes | None, bytes], None]

    async def send(self, key: bytes | None = None, value: bytes | None = None, partition: int | None = None) -> None:
        self.on_send(key, value or b"")


@dataclass
class _Topics:
    kind_by_name: dict[str, str]
    repartition: _Collect
    alerts: _Collect
    deadletter: _Collect
    scores: _Collect | None


class Replay:
    """One policy's processor, fed line by line; it collects alerts (and health scores) and counts dead letters."""

    def __init__(self, settings: Settings, policy: Policy, *, processing_ms: int,
                 on_alert: Callable[[dict[str, Any]], None], inputs: InputsFile | None = None,
                 on_score: Callable[[bytes], None] | None = None) -> None:
        from healthmon.pipeline import Processor

        if inputs is None:  # the inputs file's topics, or today's four
            inputs = inputs_or_default(settings.ingest.inputs_file, settings.topics.input_names)
        # Quiet days are skipped (same alerts, `core.quiet`) unless health-scores records are written: those
        # come day by day in the worker, so they must here too.
        config = replace(EngineConfig.from_settings(settings.engine, score_records=on_score is not None),
                         skip_quiet=on_score is None)
        # Processing time stands still, so no source is ever idle long enough to count as stalled: a
        # replay, like a worker's catch-up, never reports an ingest stall or holds alerts back for one.
        frozen = lambda: processing_ms  # noqa: E731 - the one processing time of the whole run
        self.engine = Engine(policy, config, clock=frozen)
        self.policy = policy
        self.dead_letters: Counter[str] = Counter()
        #: events dead-lettered for an `occurred_at` under `HEALTHMON_MIN_OCCURRED_AT`
        self.under_floor = 0
        self.min_occurred_at = settings.ingest.min_occurred_at
        self._rerouted: list[tuple[bytes, bytes]] = []
        self.topics = _Topics({spec.topic: spec.kind for spec in inputs.inputs} | {REPARTITION_TOPIC: "repartition"},
                              repartition=_Collect(lambda k, v: self._rerouted.append((k or b"", v))),
                              alerts=_Collect(lambda k, v: on_alert(orjson.loads(v))),
                              deadletter=_Collect(self._dead_letter),
                              scores=None if on_score is None else _Collect(lambda k, v: on_score(v)))
        metrics = Metrics()
        self.clock = PipelineClock(policy, config, clock=frozen, backlog=lambda source: False)
        self.processor = Processor(settings, self.engine, {}, self.topics, metrics, RedisView("", "", metrics),
                                   self.clock, tick_interval_ms=self.engine.tick_interval_ms, wall_ms=frozen,
                                   inputs=inputs, links={}, traits={})
        self.partitions = settings.topics.partitions
        self._offsets: dict[tuple[str, int], int] = {}
        #: the announced band of each live account at the last `band_counts`, and how many are in each
        self._bands: dict[str, str] = {}
        self._band_counts: Counter[str] = Counter()

    def _dead_letter(self, key: bytes | None, value: bytes) -> None:
        letter = orjson.loads(value)
        self.dead_letters[letter["reason"]] += 1
        if FLOOR_PHRASE in letter["error"]:
            self.under_floor += 1

    def _offset(self, topic: str, partition: int) -> int:
        offset = self._offsets.get((topic, partition), 0)
        self._offsets[(topic, partition)] = offset + 1
        return offset

    def decode(self, topic: str, account: str | None, raw: bytes | None, key: bytes | None = None) -> Inbound:
        """Decode one line of `topic` as a message to its account's partition, keyed by it unless `key` is given."""
        partition = partition_for(account, self.partitions) if account else 0
        if key is None:
            key = account.encode() if account else None
        return self.processor.decode(topic, partition, self._offset(topic, partition), key, raw)

    async def feed(self, topic: str, account: str | None, raw: bytes | None) -> None:
        """Process one line of `topic` as a message to its account's partition."""
        await self.take(self.decode(topic, account, raw))

    async def take(self, inbound: Inbound) -> None:
        """Process a decoded line (any run's `decode` of it: decoding does not depend on the policy)."""
        await self.processor.process(inbound)
        while self._rerouted:  # a batch of several accounts: the worker repartitions the others
            rerouted, self._rerouted = self._rerouted, []
            for k, v in rerouted:
                p = partition_for(k.decode(), self.partitions)
                await self.processor.on_message(REPARTITION_TOPIC, p, self._offset(REPARTITION_TOPIC, p), k, v)

    def band_counts(self) -> Counter[str]:
        """Return how many live accounts are in each announced band now ("none": no score yet).

        A band moves only where the processor notes a change, so only the accounts touched since the last
        call are read again: sampling every midnight of a long, quiet history does not walk every account.
        """
        states = self.processor.states
        counts, bands = self._band_counts, self._bands
        for account_id in states.take_touched():
            old = bands.pop(account_id, None)
            if old is not None:
                counts[old] -= 1
            state = states.live.get(account_id)
            if state is not None:
                band = bands[account_id] = state.life.health.band or "none"
                counts[band] += 1
        return +counts


@dataclass
class ReplayStats:
    """What a replay read."""

    lines: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    start_ms: int = 0
    end_ms: int = 0
    seconds: float = 0.0
    #: account -> csm, from the latest profile line
    accounts: dict[str, str | None] = field(default_factory=dict)
    #: account-days in each announced band, sampled at every UTC midnight of event time
    band_days: list[Counter[str]] = field(default_factory=list)


async def replay(lines: Iterable[Line], runs: list[Replay], topic_names: dict[str, str],
                 *, progress: Callable[[ReplayStats], None] | None = None,
                 inactivity: Inactivity | None = None,
                 on_day: Callable[[int], None] | None = None, kinds: dict[str, str] | None = None) -> ReplayStats:
    """Feed merged `lines` to every run (one per policy); return what was read.

    `topic_names` maps each line's input (`Line.kind`) to its topic, `kinds` to its input kind (the same name
    without an inputs file). Events still waiting for an account link when the input ends are dead-lettered.
    """
    kinds = kinds or {}
    stats = ReplayStats(band_days=[Counter() for _ in runs])
    started = time.perf_counter()
    next_day = None
    last_progress = 0
    for line in lines:
        account = line.account or None
        t = line.occurred_at
        if t != NO_TIME:
            if next_day is None:
                stats.start_ms, next_day = t, t - t % DAY_MS + DAY_MS
            while t >= next_day:
                # Sample the announced bands at each midnight the stream passes (before its events).
                for run, days in zip(runs, stats.band_days):
                    days.update(run.band_counts())
                if on_day is not None:
                    on_day(next_day)
                next_day += DAY_MS
            stats.end_ms = max(stats.end_ms, t)
        kind = kinds.get(line.kind, line.kind)
        if account is not None:
            if kind == "account":
                csm = _csm_of(line.raw)
                if csm is not None or account not in stats.accounts:
                    stats.accounts[account] = csm
            else:
                stats.accounts.setdefault(account, None)
            if inactivity is not None:
                inactivity.seen(account)
                if kind == "usage" and t != NO_TIME:
                    inactivity.usage(account, t)
        if runs:
            # One decode for every policy: it depends on the line and the frozen processing time only.
            inbound = runs[0].decode(topic_names[line.kind], account, line.raw, line.key)
            for run in runs:
                await run.take(inbound)
        stats.lines += 1
        stats.by_kind[kind] += 1
        if progress is not None and stats.lines - last_progress >= 5000:
            last_progress = stats.lines
            stats.seconds = time.perf_counter() - started
            progress(stats)
    for run in runs:
        await run.processor.end_link_waits()
    stats.seconds = time.perf_counter() - started
    return stats


def _csm_of(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    csm = doc.get("csm") if isinstance(doc, dict) else None
    return csm if isinstance(csm, str) and csm else None
