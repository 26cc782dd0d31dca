"""What a worker sends: alerts (to their topic and the view), health scores, dead letters, repartitioned events."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import orjson

from healthmon.config import IngestSettings
from healthmon.core.alerts import PIPELINE
from healthmon.core.records import AlertRecord, ScoreRecord
from healthmon.ingest import Rejection, dead_letter_record
from healthmon.ingest.deadletter import max_record_bytes
from healthmon.ingest.repartition import Source, encode_repartitioned
from healthmon.pipeline.deadletters import deliver_dead_letter
from healthmon.pipeline.packs import RepartitionPacks
from healthmon.serving.metrics import Metrics
from healthmon.serving.redis_view import RedisView

__all__ = ["PIPELINE_ALERT_KEY", "OutputSender", "OutputTopics", "max_output_bytes"]

log = logging.getLogger(__name__)

#: The Kafka key of pipeline alerts (`ingest_stalled`), which belong to no account.
PIPELINE_ALERT_KEY = PIPELINE.encode()


def max_output_bytes(ingest: IngestSettings) -> int:
    """Return the largest record a worker sends: room for any dead letter and any repartitioned message.

    A repartition message re-encodes up to one input message's events (at most `max_message_bytes`
    of input, somewhat more once re-encoded); a dead letter is bounded by `max_record_bytes`. The
    producer's request limit, and the broker's own (`message.max.bytes`), must allow as much.
    """
    return max(1_048_576, 2 * ingest.max_message_bytes, max_record_bytes(ingest.deadletter_max_raw_bytes))


class OutputTopics(Protocol):
    """The topics a worker writes (`streams.topics.Topics`, or stand-ins in the backtest and tests)."""

    @property
    def repartition(self) -> Any: ...
    @property
    def alerts(self) -> Any: ...
    @property
    def deadletter(self) -> Any: ...
    @property
    def scores(self) -> Any: ...


class OutputSender:
    """Send alerts, dead letters and repartitioned events, and count them."""

    def __init__(self, topics: OutputTopics, metrics: Metrics, view: RedisView, deadletter_max_raw_bytes: int,
                 packs: RepartitionPacks | None = None) -> None:
        self.topics = topics
        self.metrics = metrics
        self.view = view
        self.deadletter_max_raw_bytes = deadletter_max_raw_bytes
        #: entries waiting to go out packed per partition (None: each goes out at once, alone)
        self.packs = packs
        #: told (partition, earliest event time) of each account's events moved to another partition (the pace)
        self.on_moved: Callable[[int, int], None] | None = None
        #: sends one health-scores record (key, value) straight to the producer, placed as the topic's `send` would
        #: (`streams.topics.direct_send`); None: through the topic's `send`
        self.send_score: Callable[[bytes, bytes], Awaitable[object]] | None = None

    async def alerts(self, alerts: list[AlertRecord]) -> None:
        """Send each alert keyed by its account, count it, show it in the view."""
        for alert in alerts:
            account_id = alert.get("account_id")
            key = account_id.encode() if account_id else PIPELINE_ALERT_KEY
            await self.topics.alerts.send(key=key, value=orjson.dumps(alert))
            self.metrics.alerts.labels(alert["kind"], alert["severity"], alert["status"]).inc()
            self.view.add_alert(alert)

    async def scores(self, records: list[ScoreRecord]) -> None:
        """Send each health-scores record keyed by its account (nothing when the scores topic is off)."""
        topic = self.topics.scores
        if topic is None:
            return
        send = self.send_score
        for record in records:
            if send is not None:
                await send(record["account_id"].encode(), orjson.dumps(record))
            else:
                await topic.send(key=record["account_id"].encode(), value=orjson.dumps(record))

    async def repartition(self, account_id: str, kind: str, items: list[tuple[int | None, Any]],
                          source: Source, partition: int, replaces: bool = False) -> None:
        """Send one account's events of an input message (or its `Removal`) to the account's partition (packed,
        if packing)."""
        entry = encode_repartitioned(kind, source, items, replaces)
        if self.on_moved is not None:
            times = [t for t in (getattr(e, "occurred_at", None) for _, e in items) if t is not None]
            if times:
                self.on_moved(partition, min(times))
        if self.packs is None:
            await self.topics.repartition.send(key=account_id.encode(), value=entry, partition=partition)
            return
        for to, body in self.packs.add(partition, entry, len(items)):
            await self.topics.repartition.send(key=None, value=body, partition=to)

    async def flush_repartition(self) -> None:
        """Send every pack not sent yet."""
        if self.packs is not None:
            for to, body in self.packs.take(int(time.time() * 1000)):
                await self.topics.repartition.send(key=None, value=body, partition=to)

    async def dead_letter(self, source: Source, key: bytes | None, rejection: Rejection, received_at_ms: int) -> None:
        """Send a dead letter naming the input message at `source`, and count it by reason."""
        topic, partition, offset = source
        record = dead_letter_record(topic=topic, partition=partition, offset=offset, reason=rejection.reason,
                                    error=rejection.error, raw=rejection.raw, key=key,
                                    received_at_ms=received_at_ms, batch_index=rejection.index,
                                    max_raw_bytes=self.deadletter_max_raw_bytes)
        await deliver_dead_letter(self.topics.deadletter, key, record, where=f"{topic}[{partition}]@{offset}")
        self.metrics.dead_letters.labels(rejection.reason.value).inc()
        log.info("dead-lettered %s[%d]@%d #%s: %s: %.300s", topic, partition, offset, rejection.index,
                 rejection.reason.value, rejection.error)
