"""Wire one Kafka message through the named parts: decode, route, apply, tick, send.

The agent calls `Processor.decode` once per Kafka message as it arrives (the aligner orders messages by
the event time it names), then `Processor.process` in that order. For each message the processor
dead-letters what decoding rejected, sends the events of accounts another partition owns to the
repartition topic, applies the rest to their accounts' live states with the core `Engine`, and ticks
the accounts of the partition that the message's event time made due. A repartition pack is applied the
same way, each entry as coming from its input position. It decides nothing itself; its parts:

- `healthmon.ingest` decodes and judges input; `healthmon.core.Engine` decides everything else;
- `healthmon.pipeline.live_states.LiveStates`: the decoded states between messages, saved to the table at commits;
- `healthmon.pipeline.tick_schedule.TickSchedule`: partition watermarks and when each account is due a tick;
- `healthmon.pipeline.outputs.OutputSender`: alerts, dead letters and repartitioned events out;
- `healthmon.serving.view_refresh.ViewRefresh`: the Redis view and gauges of the accounts that changed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from healthmon.config import Settings
from healthmon.core import AccountState, Engine, PipelineClock
from healthmon.core.saved_view import saved_snapshot, view_version
from healthmon.core.vocabulary import DEAD_LETTER, OK, OUTCOMES, TOO_LATE
from healthmon.ingest import Decoded, Rejection, decode_message, partition_for
from healthmon.ingest.formats import Mapped
from healthmon.ingest.formats.preset import Headers
from healthmon.ingest.formats.spec import InputsFile, default_inputs
from healthmon.ingest.repartition import TRAITS, Mark, Repartitioned, Source, decode_pack_marks
from healthmon.pipeline.alignment import NO_EVENT_TIME
from healthmon.pipeline.live_states import LiveStates
from healthmon.pipeline.mapped_inputs import MappedInputs
from healthmon.pipeline.mapped_inputs import event_time as mapped_event_time
from healthmon.pipeline.mapped_routing import MappedRouting
from healthmon.pipeline.moved_apply import MovedApply
from healthmon.pipeline.moved_apply import earliest_event_time as _event_time
from healthmon.pipeline.outputs import OutputSender, OutputTopics
from healthmon.pipeline.packs import RepartitionPacks
from healthmon.pipeline.tick_schedule import TickSchedule
from healthmon.serving.histograms import MessageLags
from healthmon.serving.metrics import TOPIC_LABELS, Metrics
from healthmon.serving.redis_view import RedisView
from healthmon.serving.view_refresh import ViewRefresh
from schemas.deadletter import DeadLetterReason

__all__ = ["Inbound", "Processor"]


class InputTopics(OutputTopics, Protocol):
    """The topics a processor reads and writes: `kind_by_name` maps a topic name to its input kind."""

    @property
    def kind_by_name(self) -> dict[str, str]: ...


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
    #: a repartition message's entries: each an input kind, source position and (batch index, event) pairs
    repartitioned: list[Repartitioned] | None = None
    marks: list[Mark] | None = None  # a repartition message's marks (`healthmon.pipeline.moved_merge`)
    #: the merge key: its earliest event time
    event_time: int = NO_EVENT_TIME
    #: how many of its events wait for their account link: it is acked (`Processor.on_done`) when none does
    holds: int = 0
    #: what the consumer acks it by (the worker's Faust event)
    ack_token: Any = None


class Processor(MovedApply, MappedRouting):
    """Per-worker wiring of one message: its account's live state, the engine, the tick schedule, the outputs."""

    def __init__(self, settings: Settings, engine: Engine, table: MutableMapping[bytes, bytes], topics: InputTopics,
                 metrics: Metrics, view: RedisView, clock: PipelineClock, tick_interval_ms: int,
                 wall_ms: Callable[[], int] = lambda: int(time.time() * 1000),
                 reports_stalls: Callable[[], bool] = lambda: True, inputs: InputsFile | None = None,
                 links: MutableMapping[bytes, bytes] | None = None,
                 traits: MutableMapping[bytes, bytes] | None = None,
                 packs: RepartitionPacks | None = None) -> None:
        self.settings = settings
        self.engine = engine
        self.topics = topics
        self.metrics = metrics
        self.clock = clock
        #: whether this worker announces `ingest_stalled` (one of the group does: `consumer_probes.stall_reporter`)
        self.reports_stalls = reports_stalls
        self.wall_ms = wall_ms
        self.partitions = settings.topics.partitions
        self.min_occurred_at_ms = settings.ingest.min_occurred_at_ms
        self._too_late = f"occurred_at is more than {settings.engine.lateness_seconds} s behind the stream time"
        given = inputs is not None and inputs.source != "defaults"
        self.mapped = MappedInputs(inputs or default_inputs(settings.topics.input_names),
                                   links if links is not None else {}, traits if traits is not None else {},
                                   wait_ms=int(settings.ingest.link_wait_seconds * 1000))
        #: the redelivery check's source of a topic: the topic with an inputs file, else the kind (as saved so far)
        self.position_key: dict[str, str] = {spec.topic: spec.topic if given else spec.kind
                                             for spec in self.mapped.inputs.inputs}
        self.states = LiveStates(table, engine.new_state)
        self.ticks = TickSchedule(engine.next_tick_ms, self.partitions, tick_interval_ms)
        #: with `packs`, moved events wait in packs per partition until `flush_repartition` (on a timer, at commits)
        self.outputs = OutputSender(topics, metrics, view, settings.ingest.deadletter_max_raw_bytes, packs)
        self.view_refresh = ViewRefresh(metrics, view, clock, self.saved_view, self.ticks.stream_time)
        self._ev: dict[tuple[str, str], Any] = {
            (label, outcome): metrics.events.labels(label, outcome)
            for label in TOPIC_LABELS.values() for outcome in OUTCOMES}
        self._lags = MessageLags(metrics.event_lag, TOPIC_LABELS.values())
        self._messages = {label: metrics.messages.labels(label) for label in TOPIC_LABELS.values()}

    def state_of(self, account_id: str) -> AccountState | None:
        """Return the account's current state (live, else from the table), or None if it has none."""
        return self.states.read(account_id)

    def saved_view(self, account_id: str) -> tuple[dict[str, Any], int, bytes] | None:
        """Return what the view shows of the account's state, its progress and score history (None: unknown)."""
        state = self.states.read(account_id)
        if state is None:
            return None
        return saved_snapshot(self.engine, state), view_version(state).progress, state.history

    def stream_time(self, account_id: str) -> int:
        """Return the watermark of the account's partition: the instant its snapshot is taken at."""
        return self.ticks.stream_time(account_id)

    def flush_states(self) -> int:
        """Write every changed live state to the table; return how many (the agent calls it at commits)."""
        return self.states.flush()

    def catch_up_states(self) -> None:
        """Roll every quiet live account's windows to its partition's stream time (for a final read of them)."""
        for account_id, state in self.states.live.items():
            self.engine.catch_up(state, self.ticks.boundary(partition_for(account_id, self.partitions)))

    def forget_states(self) -> None:
        """Save and drop every live state, and schedule from the table again (after a rebalance)."""
        self.states.forget()
        self.ticks.resumed = False  # newly assigned partitions bring accounts of their own

    async def refresh_view(self, max_accounts: int | None = None) -> None:
        """Refresh the view and gauges of at most `max_accounts` changed accounts (see `ViewRefresh`)."""
        await self.view_refresh.refresh(max_accounts)

    def decode(self, topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None,
               headers: Headers | None = None) -> Inbound:
        """Decode one Kafka message of an input or the repartition topic; name its event time."""
        kind = self.topics.kind_by_name[topic]
        now_ms = self.wall_ms()
        inbound = Inbound(topic, partition, offset, key, value, kind, now_ms)
        if kind == "repartition":
            inbound.repartitioned, inbound.marks = decode_pack_marks(value)
            inbound.event_time = _event_time(e for r in inbound.repartitioned if r.kind != TRAITS for _, e in r.items)
            return inbound
        ingest = self.settings.ingest
        mapped = self.mapped.map(topic, value, key, headers, now_ms=now_ms, max_bytes=ingest.max_message_bytes,
                                 max_future_skew_ms=ingest.max_future_skew_seconds * 1000,
                                 min_occurred_at_ms=self.min_occurred_at_ms)
        if mapped is not None:
            inbound.decoded = mapped
            inbound.event_time = mapped_event_time(mapped)
            return inbound
        if kind == "account" and value is None:
            return inbound  # a compaction tombstone: the profile is gone, nothing to score
        inbound.decoded = decode_message(kind, value, now_ms=now_ms, max_bytes=ingest.max_message_bytes,
                                         max_future_skew_ms=ingest.max_future_skew_seconds * 1000,
                                         min_occurred_at_ms=self.min_occurred_at_ms)
        inbound.event_time = _event_time(e for _, e in inbound.decoded.events)
        return inbound

    async def on_message(self, topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None) -> None:
        """Decode and process one Kafka message (see `decode` and `process`)."""
        await self.process(self.decode(topic, partition, offset, key, value))

    async def process(self, inbound: Inbound) -> None:
        """Handle one decoded message: dead-letter its rejections, apply its events, tick its partition."""
        try:
            await self._process(inbound)
        finally:
            self._lags.observe()  # once per message, as many `observe` calls would

    async def _process(self, inbound: Inbound) -> None:
        self._resume_ticks()
        partition, now_ms = inbound.partition, inbound.now_ms
        if inbound.repartitioned is not None:
            await self._apply_pack(inbound.repartitioned, inbound.offset, partition, now_ms)
            await self._advance(partition)
            return
        kind = inbound.kind
        label = TOPIC_LABELS[kind]
        self._messages[label].inc()
        decoded = inbound.decoded
        if decoded is None:
            return
        source = Source(inbound.topic, partition, inbound.offset)
        key, value = inbound.key, inbound.value
        for rejection in decoded.rejections:
            await self.outputs.dead_letter(source, key, rejection, now_ms)
            self._ev[(label, DEAD_LETTER)].inc()
        position = (self.position_key.get(inbound.topic, kind), inbound.offset)
        if isinstance(decoded, Mapped):
            await self._take_mapped(inbound, decoded, source, position)
        elif decoded.events:
            await self._route(kind, decoded.events, source, key, value, now_ms, position, partition)
        else:
            return
        await self._advance(partition)

    async def _apply(self, account_id: str, kind: str, items: list[tuple[int | None, Any]],
                     source: Source | list[Source], key: bytes | None, value: bytes | None, now_ms: int,
                     position: tuple[str, int] | None, home: int, replaces: bool = False) -> None:
        """Apply one message's events of one account; `source` names the input message they came from (for a
        repartition pack, a list: the input message of each item).

        `home` is the account's own partition (that of the repartition topic for repartitioned events):
        its watermark and tick schedule are the ones that move. `replaces`: later answers (see `Engine.apply`).
        """
        label = TOPIC_LABELS[kind]
        events = [e for _, e in items]
        state = self.states.load(account_id)
        self.engine.catch_up(state, self.ticks.boundary(home))  # a quiet account meets its events at stream time
        wm = self.ticks.watermark.get(home, 0)
        lags = self._lags.of(label)
        for event in events:
            occurred_at = getattr(event, "occurred_at", None)
            if occurred_at is not None:
                self.clock.observe(kind, occurred_at)
                if occurred_at > wm:
                    wm = occurred_at
                lags.append(max(0.0, (now_ms - occurred_at) / 1000))
        topic = (source[0] if isinstance(source, list) else source).topic
        result = self.engine.apply(state, events, stream_time_ms=wm,
                                   held_back=self.clock.held_back_sources(), position=position,
                                   keep_answers=topic in self.mapped.answer_topics, replaces=replaces)
        self.ticks.watermark[home] = wm
        ok = 0
        for n, ((index, event), outcome) in enumerate(zip(items, result.outcomes)):
            if outcome == OK:
                ok += 1
                continue
            self._ev[(label, outcome)].inc()
            if outcome == TOO_LATE:
                raw = value if index is None and value is not None else orjson.dumps(event.model_dump(mode="json"))
                late = Rejection(index, DeadLetterReason.TOO_LATE, self._too_late, raw)
                await self.outputs.dead_letter(source[n] if isinstance(source, list) else source, key, late, now_ms)
        if ok:
            self._ev[(label, OK)].inc(ok)
        if result.changed:
            self._changed(account_id)
        self.ticks.schedule(home, account_id, result.state)
        await self.outputs.alerts(result.alerts)
        await self.outputs.scores(result.scores)
        source_alerts = self.clock.update()  # every worker holds back its own accounts' alerts
        if source_alerts and self.reports_stalls():
            await self.outputs.alerts(source_alerts)

    def _changed(self, account_id: str) -> None:
        self.states.changed(account_id)
        self.view_refresh.mark(account_id)

    async def _advance(self, partition: int) -> None:
        """Tick the accounts of `partition` at every instant they are due that its watermark has passed."""
        for at in self.ticks.instants(partition):
            await self._tick(partition, at)

    async def _tick(self, partition: int, now_ms: int) -> None:
        ready = self.ticks.pop_due(partition, now_ms)
        held_back = self.clock.held_back_sources()
        for n, account_id in enumerate(ready):
            state = self.states.get(account_id)
            if state is None:
                continue
            evaluated = state.last_eval_ms
            result = self.engine.tick(state, now_ms=now_ms, held_back=held_back)
            # An evaluation that only moved `last_eval_ms` is saved and shown too (the view: `core.saved_view`).
            if result.changed or state.last_eval_ms != evaluated:
                self._changed(account_id)
            self.ticks.schedule(partition, account_id, state)
            await self.outputs.alerts(result.alerts)
            await self.outputs.scores(result.scores)
            if n % 256 == 255:
                await asyncio.sleep(0)
