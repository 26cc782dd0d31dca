"""Glue between Faust and the pure core: decode, route, apply, tick, write the table, send.

The agent calls `Processor.decode` once per Kafka message as it arrives (the aligner orders messages by
the event time it names), then `Processor.process` in that order. Everything that decides anything
lives in `healthmon.ingest` and `healthmon.core`; this class only moves bytes and state around.

Live `AccountState` objects stay in memory between messages, so a state is decoded once, not once
per message. Changed states are written to the table (one changelog message per account) by
`flush_states`, which the agent's commit hook calls before Faust commits any offset: the changelog
is never behind a committed offset, and a crash only replays input whose effects were not saved.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections import defaultdict
from itertools import islice
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import orjson

from healthmon.core import AccountState, Engine, PipelineClock, state_from_bytes, state_to_bytes
from healthmon.ingest import Decoded, Rejection, dead_letter_record, decode_message, partition_for
from healthmon.ingest.repartition import repartition_source
from healthmon.serving.metrics import TOPIC_LABELS, Metrics
from healthmon.serving.redis_view import RedisView
from schemas.deadletter import DeadLetterReason
from schemas.events import EVENT_MODELS
from streams.alignment import NO_EVENT_TIME
from streams.deadletters import deliver_dead_letter
from streams.settings import Settings
from streams.topics import Topics

__all__ = ["Inbound", "Processor"]

log = logging.getLogger(__name__)

PIPELINE_KEY = b"__pipeline__"
#: Live states kept in memory; beyond it, saved ones are dropped (the table still holds them).
MAX_LIVE_STATES = 200_000
#: How many tick intervals behind its partition's watermark an account is evaluated from, at most.
CATCH_UP_TICKS = 48


def _event_time(events: Iterable[Any]) -> int:
    """Return the earliest `occurred_at` of `events` (`NO_EVENT_TIME` when none has one, as profiles)."""
    times = [t for t in (getattr(e, "occurred_at", None) for e in events) if t is not None]
    return min(times) if times else NO_EVENT_TIME


@dataclass(slots=True)
class Inbound:
    """One decoded Kafka message on its way from the consumer to `Processor.process`."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    kind: str
    #: wall clock when it was decoded (dead letters' `received_at`, future-skew checks)
    now_ms: int
    decoded: Decoded | None = None
    #: a repartition message's (input kind, [(batch index, event)]) and its source (topic, partition, offset)
    repartitioned: tuple[str, list[tuple[int | None, Any]]] | None = None
    source: tuple[str, int, int] | None = None
    #: the merge key: its earliest event time
    event_time: int = NO_EVENT_TIME


class Processor:
    """Per-worker glue state: partition watermarks, the local account index, pending snapshots."""

    def __init__(self, settings: Settings, engine: Engine, table: Any, topics: Topics, metrics: Metrics,
                 view: RedisView, clock: PipelineClock, tick_interval_ms: int,
                 wall_ms: Callable[[], int] = lambda: int(time.time() * 1000),
                 reports_pipeline: Callable[[], bool] = lambda: True) -> None:
        self.settings = settings
        self.engine = engine
        self.table = table
        self.topics = topics
        self.metrics = metrics
        self.view = view
        self.clock = clock
        #: whether this worker announces `ingest_stalled` alerts (one worker of the group does; see runtime)
        self.reports_pipeline = reports_pipeline
        self.tick_interval_ms = tick_interval_ms
        self.wall_ms = wall_ms
        self.partitions = settings.partitions
        #: per partition: the latest event time applied (its stream time)
        self.watermark: dict[int, int] = {}
        #: per partition, a heap of (next tick instant, account): only accounts a tick may change are ticked
        self.tick_heap: dict[int, list[tuple[int, str]]] = defaultdict(list)
        self.tick_due: dict[str, int] = {}
        self._indexed = False
        #: accounts to score into the view, in the order they changed (a dict used as an ordered set)
        self.dirty: dict[str, None] = {}
        self.band_tier: dict[str, tuple[str, str]] = {}
        #: account -> live state (the table holds the same, or an older one for `unsaved` accounts)
        self.states: dict[str, AccountState] = {}
        #: accounts whose live state has changed since it was last written to the table
        self.unsaved: set[str] = set()
        self._ev = {(label, outcome): metrics.events.labels(label, outcome)
                    for label in TOPIC_LABELS.values() for outcome in ("ok", "dead_letter", "duplicate", "too_late")}
        self._lag = {label: metrics.event_lag.labels(label) for label in TOPIC_LABELS.values()}
        self._messages = {label: metrics.messages.labels(label) for label in TOPIC_LABELS.values()}

    # -- messages ---------------------------------------------------------------------------------------

    def decode(self, topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None) -> Inbound:
        """Decode one Kafka message of an input or the repartition topic; name its event time."""
        kind = self.topics.kind_by_name[topic]
        now_ms = self.wall_ms()
        inbound = Inbound(topic, partition, offset, key, value, kind, now_ms)
        if kind == "repartition":
            doc = orjson.loads(value or b"{}")
            inbound.source = tuple(doc["source"])
            model = EVENT_MODELS[doc["kind"]]
            inbound.repartitioned = (doc["kind"], [(i, model.model_validate(e)) for i, e in doc["events"]])
            inbound.event_time = _event_time(e for _, e in inbound.repartitioned[1])
            return inbound
        if kind == "account" and value is None:
            return inbound  # a compaction tombstone: the profile is gone, nothing to score
        inbound.decoded = decode_message(kind, value, now_ms=now_ms, max_bytes=self.settings.max_message_bytes,
                                         max_future_skew_ms=self.settings.max_future_skew_seconds * 1000)
        inbound.event_time = _event_time(e for _, e in inbound.decoded.events)
        return inbound

    async def on_message(self, topic: str, partition: int, offset: int, key: bytes | None,
                         value: bytes | None) -> None:
        """Decode and process one Kafka message (see `decode` and `process`)."""
        await self.process(self.decode(topic, partition, offset, key, value))

    async def process(self, inbound: Inbound) -> None:
        """Handle one decoded message: dead-letter its rejections, apply its events, tick its partition."""
        if not self._indexed:
            self._index_table()  # first, so that it sees the saved states only
        kind, partition, now_ms = inbound.kind, inbound.partition, inbound.now_ms
        if inbound.repartitioned is not None:
            await self._on_repartitioned(inbound)
            return
        label = TOPIC_LABELS[kind]
        self._messages[label].inc()
        decoded = inbound.decoded
        if decoded is None:
            return
        topic, offset, key, value = inbound.topic, inbound.offset, inbound.key, inbound.value
        for rejection in decoded.rejections:
            await self._dead_letter(topic, partition, offset, key, rejection, now_ms, label)
        if not decoded.events:
            return
        groups: dict[str, list[tuple[int | None, Any]]] = {}
        for index, event in decoded.events:
            groups.setdefault(event.account_id, []).append((index, event))
        for account_id, items in groups.items():
            if partition_for(account_id, self.partitions) == partition:
                await self._apply(account_id, kind, items, topic, partition, offset, key, value, now_ms,
                                  position=(kind, offset))
            else:
                await self._repartition(account_id, kind, items, topic, partition, offset)
        await self._advance(partition)

    async def _repartition(self, account_id: str, kind: str, items: list[tuple[int | None, Any]],
                           topic: str, partition: int, offset: int) -> None:
        body = orjson.dumps({"kind": kind, "source": [topic, partition, offset],
                             "events": [[i, e.model_dump(mode="json")] for i, e in items]})
        await self.topics.repartition.send(key=account_id.encode(), value=body)

    async def _on_repartitioned(self, inbound: Inbound) -> None:
        assert inbound.repartitioned is not None and inbound.source is not None
        kind, items = inbound.repartitioned
        topic, src_partition, src_offset = inbound.source
        account_id = items[0][1].account_id
        await self._apply(account_id, kind, items, topic, src_partition, src_offset, account_id.encode(), None,
                          inbound.now_ms, position=("repartition", inbound.offset), home=inbound.partition)
        await self._advance(inbound.partition)

    # -- state ------------------------------------------------------------------------------------------

    def _load(self, account_id: str) -> AccountState:
        state = self.states.get(account_id)
        if state is None:
            state = self.state_of(account_id) or self.engine.new_state(account_id)
            self._keep(account_id, state)
        return state

    def state_of(self, account_id: str) -> AccountState | None:
        """Return the account's current state (live, else from the table), or None if it has none."""
        state = self.states.get(account_id)
        if state is not None:
            return state
        raw = self.table.get(account_id.encode())
        if not raw:
            return None
        state = state_from_bytes(raw)
        self._keep(account_id, state)
        return state

    def stream_time(self, account_id: str) -> int:
        """Return the watermark of the account's partition: the instant its snapshot is taken at."""
        return self.watermark.get(partition_for(account_id, self.partitions), 0)

    def _keep(self, account_id: str, state: AccountState) -> None:
        if len(self.states) >= MAX_LIVE_STATES:
            for saved in [a for a in self.states if a not in self.unsaved][:MAX_LIVE_STATES // 2]:
                del self.states[saved]
        self.states[account_id] = state

    def _changed(self, account_id: str) -> None:
        self.unsaved.add(account_id)
        self.dirty[account_id] = None

    def flush_states(self) -> int:
        """Write every changed live state to the table (one changelog message each); return how many."""
        unsaved, self.unsaved = self.unsaved, set()
        table, states = self.table, self.states
        for account_id in unsaved:
            table[account_id.encode()] = state_to_bytes(states[account_id])
        return len(unsaved)

    def forget_states(self) -> None:
        """Save and drop every live state (after a rebalance the table is the truth again)."""
        self.flush_states()
        self.states.clear()
        self._indexed = False  # newly assigned partitions bring accounts of their own

    def _schedule(self, partition: int, account_id: str, state: AccountState) -> None:
        due = self.engine.next_tick_ms(state)
        if due is None:
            self.tick_due.pop(account_id, None)
        elif self.tick_due.get(account_id) != due:
            self.tick_due[account_id] = due
            heapq.heappush(self.tick_heap[partition], (due, account_id))

    async def _apply(self, account_id: str, kind: str, items: list[tuple[int | None, Any]], topic: str,
                     partition: int, offset: int, key: bytes | None, value: bytes | None, now_ms: int,
                     position: tuple[str, int] | None = None, home: int | None = None) -> None:
        """Apply one message's events of one account; `topic`/`partition`/`offset` name the source message.

        `home` is the account's own partition (that of the repartition topic for repartitioned events;
        by default the source partition): its watermark and tick schedule are the ones that move.
        """
        label = TOPIC_LABELS[kind]
        events = [e for _, e in items]
        home = partition if home is None else home
        wm = self.watermark.get(home, 0)
        for event in events:
            occurred_at = getattr(event, "occurred_at", None)
            if occurred_at is not None:
                self.clock.observe(kind, occurred_at)
                if occurred_at > wm:
                    wm = occurred_at
                self._lag[label].observe(max(0.0, (now_ms - occurred_at) / 1000))
        result = self.engine.apply(self._load(account_id), events, stream_time_ms=wm,
                                   held_back=self.clock.held_back_sources(), position=position)
        self.watermark[home] = wm
        ok = 0
        for (index, event), outcome in zip(items, result.outcomes):
            if outcome == "ok":
                ok += 1
                continue
            self._ev[(label, outcome)].inc()
            if outcome == "too_late":
                raw = value if index is None and value is not None else orjson.dumps(event.model_dump(mode="json"))
                await self._dead_letter(topic, partition, offset, key, Rejection(
                    index, DeadLetterReason.TOO_LATE,
                    f"occurred_at is more than {self.settings.lateness_seconds} s behind the stream time", raw),
                    now_ms, label, count_event=False)
        if ok:
            self._ev[(label, "ok")].inc(ok)
        if result.changed:
            self._changed(account_id)
        self._schedule(home, account_id, result.state)
        await self._send_alerts(result.alerts, now_ms)
        pipeline_alerts = self.clock.update()  # every worker holds back its own accounts' alerts
        if pipeline_alerts and self.reports_pipeline():
            await self._send_alerts(pipeline_alerts, now_ms)

    async def _advance(self, partition: int) -> None:
        """Tick each account of `partition` at every instant it is due that the watermark has passed.

        An account is due at the tick boundary `Engine.next_tick_ms` names from its own state (the ticks
        it skips could only have moved its evaluation clock within a day), and it is ticked at that very
        instant, however far the watermark has moved since, but never more than `CATCH_UP_TICKS`
        intervals back (a profile that never had an event is due at the epoch). So the instants depend on
        the account's state, the watermark and the order of the input only: a replay, or a worker
        restarted from its saved table, ticks at the same instants as an uninterrupted run.
        """
        wm = self.watermark.get(partition)
        if wm is None:
            return
        boundary = wm - wm % self.tick_interval_ms
        earliest = boundary - CATCH_UP_TICKS * self.tick_interval_ms
        heap = self.tick_heap[partition]
        while heap and heap[0][0] <= boundary:
            await self._tick_partition(partition, max(heap[0][0], earliest))

    def _index_table(self) -> None:
        """Schedule every account in the table, and resume each partition's stream time from it.

        Called before the first message after a start or a rebalance. A restarted worker must tick its
        accounts at the very instants an uninterrupted one would have, or an alert's decision time (and
        with it its `alert_id`) would depend on when the worker last restarted. Both come from the saved
        states: an account's next tick from its own state, and a partition's watermark from the latest
        event any of its accounts accepted (a flush saves every account a message changed).
        """
        self.tick_heap.clear()
        self.tick_due.clear()
        resumed: dict[int, int] = {}
        for raw_key in list(self.table.keys()):
            account_id = raw_key.decode()
            state = self.state_of(account_id)
            if state is None:
                continue
            partition = partition_for(account_id, self.partitions)
            if state.clock_ms > resumed.get(partition, 0):
                resumed[partition] = state.clock_ms
            self._schedule(partition, account_id, state)
        for partition, wm in resumed.items():
            if wm > self.watermark.get(partition, 0):
                self.watermark[partition] = wm
        self._indexed = True

    async def _tick_partition(self, partition: int, now_ms: int) -> None:
        heap, due = self.tick_heap[partition], self.tick_due
        ready = []
        while heap and heap[0][0] <= now_ms:
            at, account_id = heapq.heappop(heap)
            if due.get(account_id) == at:  # else a stale entry: the account was rescheduled
                del due[account_id]
                ready.append(account_id)
        ready.sort()
        held_back = self.clock.held_back_sources()
        wall = self.wall_ms()
        for n, account_id in enumerate(ready):
            state = self.state_of(account_id)
            if state is None:
                continue
            result = self.engine.tick(state, now_ms=now_ms, held_back=held_back)
            if result.changed:
                self._changed(account_id)
            self._schedule(partition, account_id, state)
            await self._send_alerts(result.alerts, wall)
            if n % 256 == 255:
                await asyncio.sleep(0)

    # -- outputs ----------------------------------------------------------------------------------------

    async def _send_alerts(self, alerts: list[dict[str, Any]], now_ms: int) -> None:
        for alert in alerts:
            alert["processed_at"] = now_ms
            account_id = alert.get("account_id")
            key = account_id.encode() if account_id else PIPELINE_KEY
            await self.topics.alerts.send(key=key, value=orjson.dumps(alert))
            self.metrics.alerts.labels(alert["kind"], alert["severity"], alert["status"]).inc()
            self.view.add_alert(alert)

    async def _dead_letter(self, topic: str, partition: int, offset: int, key: bytes | None,
                           rejection: Rejection, now_ms: int, label: str, count_event: bool = True) -> None:
        record = dead_letter_record(topic=topic, partition=partition, offset=offset, reason=rejection.reason,
                                    error=rejection.error, raw=rejection.raw, key=key, received_at_ms=now_ms,
                                    batch_index=rejection.index,
                                    max_raw_bytes=self.settings.deadletter_max_raw_bytes)
        await deliver_dead_letter(self.topics.deadletter, key, record, where=f"{topic}[{partition}]@{offset}")
        self.metrics.dead_letters.labels(rejection.reason.value).inc()
        if count_event:
            self._ev[(label, "dead_letter")].inc()
        log.info("dead-lettered %s[%d]@%d #%s: %s: %.300s", topic, partition, offset, rejection.index,
                 rejection.reason.value, rejection.error)

    async def dead_letter_crash(self, topic: str, partition: int, offset: int, key: bytes | None,
                                value: bytes | None, exc: BaseException) -> None:
        """Dead-letter a message whose processing raised, so that it is never lost silently."""
        kind = self.topics.kind_by_name.get(topic, "repartition")
        source = repartition_source(value) if kind == "repartition" else None
        if source is not None:  # report the input message the events came from, not the internal topic
            topic, partition, offset = source
            kind = self.topics.kind_by_name.get(topic, kind)
        label = TOPIC_LABELS.get(kind, "product-usage")
        await self._dead_letter(topic, partition, offset, key, Rejection(
            None, DeadLetterReason.PROCESSING_ERROR, f"{type(exc).__name__}: {exc}", value or b""),
            self.wall_ms(), label)

    # -- periodic ---------------------------------------------------------------------------------------

    async def refresh_view(self, max_accounts: int | None = None) -> None:
        """Score dirty accounts (at most `max_accounts`, longest-waiting first) into the view and gauges; flush."""
        # In a backfill every account changes every second; scoring them all would take the worker's
        # time from the stream. The rest stay dirty, in order, for the next refresh.
        dirty = self.dirty
        batch = list(dirty) if max_accounts is None else list(islice(dirty, max_accounts))
        for n, account_id in enumerate(batch):
            del dirty[account_id]
            if n % 256 == 255:
                await asyncio.sleep(0)
            state = self.state_of(account_id)
            if state is None:
                continue
            snapshot = self.engine.snapshot(state, self.stream_time(account_id))
            band, tier = snapshot.get("band") or "green", snapshot.get("tier") or "unknown"
            previous = self.band_tier.get(account_id)
            if previous != (band, tier):
                if previous is not None:
                    self.metrics.accounts.labels(*previous).dec()
                self.metrics.accounts.labels(band, tier).inc()
                self.band_tier[account_id] = (band, tier)
            if snapshot.get("score") is not None:
                self.metrics.health_score.observe(snapshot["score"])
            self.view.put_snapshot(account_id, snapshot)
        for kind, label in TOPIC_LABELS.items():
            wm = self.clock.source_watermark_ms(kind)
            if wm:
                self.metrics.watermark.labels(label).set(wm / 1000)
            self.metrics.staleness.labels(label).set(self.clock.staleness_seconds(kind))
            self.metrics.stale.labels(label).set(1 if kind in self.clock.stale_sources() else 0)
        await self.view.flush()
