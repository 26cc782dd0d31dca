"""Tell every worker how far each partition of the paced inputs has come: the progress topic.

Each worker publishes, for each partition it owns of each paced topic, its `Progress` (the aligner's
lower bound of what it can still deliver, and whether it is caught up) when it changes, at most every
tick, and again every `heartbeat_s` as a heartbeat. Every worker reads the whole topic (compacted,
`<app_id>-input-progress`) from its beginning with a plain Kafka consumer outside the group, keeping the
latest progress per partition, which the pace takes as the other partitions' (`Pace.remote`). A partition
whose owner died keeps its last entry until its new owner publishes, right after the rebalance.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import faust
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.structs import TopicPartition

from healthmon.pipeline import Aligner, Pace, Progress

__all__ = ["PaceExchange", "decode_entry", "encode_entry", "register_pace_exchange"]

log = logging.getLogger(__name__)


def encode_entry(topic: str, partition: int, progress: Progress) -> tuple[bytes, bytes]:
    """Return the key and value of one partition's progress on the progress topic."""
    return (f"{topic}:{partition}".encode(),
            orjson.dumps({"event_time": progress.event_time, "caught_up": progress.caught_up}))


def decode_entry(key: bytes | None, value: bytes | None) -> tuple[tuple[str, int], Progress] | None:
    """Return the partition and progress of one message of the progress topic (None: not one)."""
    try:
        topic, _, partition = (key or b"").decode().rpartition(":")
        data = orjson.loads(value or b"")
        return (topic, int(partition)), Progress(int(data["event_time"]), bool(data["caught_up"]))
    except (ValueError, TypeError, KeyError, UnicodeDecodeError, orjson.JSONDecodeError):
        return None


class PaceExchange:
    """Publish this worker's paced partitions' progress and read everyone's into `pace.remote`."""

    def __init__(self, app: faust.App, aligner: Aligner, pace: Pace, topic: str, bootstrap: str, partitions: int,
                 client_kwargs: dict[str, Any], heartbeat_s: float = 1.0) -> None:
        self.app, self.aligner, self.pace, self.topic = app, aligner, pace, topic
        self.bootstrap, self.partitions, self._kwargs = bootstrap, partitions, client_kwargs
        self.heartbeat_s = heartbeat_s
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None
        #: (topic, partition) -> (progress, when) last published
        self._sent: dict[tuple[str, int], tuple[Progress, float]] = {}

    async def tick(self) -> None:
        """Read what the others published, then publish what changed here (or is due as a heartbeat)."""
        try:
            await self._start()
            await self._read()
            await self._publish()
        except Exception as exc:  # noqa: BLE001 - the pace then holds on what it knows; retried next tick
            log.warning("pace: progress topic %s unavailable (%s); retrying", self.topic, exc)
            await self.close()

    async def _start(self) -> None:
        if self._consumer is not None:
            return
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, **self._kwargs)
        await admin.start()
        try:
            if self.topic not in set(await admin.list_topics()):
                await admin.create_topics([NewTopic(self.topic, self.partitions, 1,
                                                    topic_configs={"cleanup.policy": "compact"})])
        except TopicAlreadyExistsError:
            pass
        finally:
            await admin.close()
        self._producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, linger_ms=0, **self._kwargs)
        await self._producer.start()
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False, group_id=None,
                                    auto_offset_reset="earliest", fetch_max_wait_ms=50, **self._kwargs)
        await consumer.start()
        consumer.assign([TopicPartition(self.topic, p) for p in range(self.partitions)])
        await consumer.seek_to_beginning()
        self._consumer = consumer
        self._sent.clear()

    async def _read(self) -> None:
        assert self._consumer is not None
        batches = await self._consumer.getmany(timeout_ms=0, max_records=10_000)
        for records in batches.values():
            for record in records:
                entry = decode_entry(record.key, record.value)
                if entry is not None and entry[0][0] in self.pace.partitions:
                    self.pace.remote[entry[0]] = entry[1]

    async def _publish(self) -> None:
        assert self._producer is not None
        now = time.monotonic()
        for tp in list(self.app.consumer.assignment()):
            if tp.topic not in self.pace.partitions:
                continue
            progress = self.aligner.progress(tp.topic, tp.partition)
            key = (tp.topic, tp.partition)
            sent = self._sent.get(key)
            if progress is None or (sent is not None and sent[0] == progress and now - sent[1] < self.heartbeat_s):
                continue
            self._sent[key] = (progress, now)
            entry_key, value = encode_entry(tp.topic, tp.partition, progress)
            await self._producer.send(self.topic, value=value, key=entry_key)

    async def close(self) -> None:
        """Stop the clients (the next tick starts them again)."""
        producer, consumer, self._producer, self._consumer = self._producer, self._consumer, None, None
        for client in (producer, consumer):
            if client is not None:
                try:
                    await client.stop()
                except Exception:  # noqa: BLE001
                    pass


def register_pace_exchange(app: faust.App, exchange: PaceExchange, gave_up: Callable[[str], None],
                           interval_s: float = 0.1) -> None:
    """Run the exchange every `interval_s` seconds (the pace's view of the others is at most that old), and log
    and count (`gave_up(topic)`) each partition the pace stopped waiting for."""

    @app.timer(interval_s, name="healthmon.pace")
    async def exchange_progress() -> None:
        await exchange.tick()
        for (topic, partition), waited in exchange.pace.gave_up.items():
            log.warning("pace: no worker published the progress of %s[%d] within %d ms; going on without it",
                        topic, partition, waited)
            gave_up(topic)
        exchange.pace.gave_up.clear()

    @app.on_before_shutdown.connect
    async def close_exchange(app: faust.App, **kwargs: object) -> None:
        await exchange.close()
