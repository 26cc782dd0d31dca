"""Read the first messages of a topic for `healthmon inputs check --sample`: no consumer group, nothing written."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, NamedTuple

from aiokafka import AIOKafkaConsumer, TopicPartition

from healthmon.kafka.connect import bootstrap_of
from healthmon.kafka.offsets import verified_end_offsets

__all__ = ["SampledMessage", "read_sample"]


class SampledMessage(NamedTuple):
    """One message read: where it was, its key, value and headers."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


async def read_sample(broker_url: str, topic: str, limit: int,
                      security: dict[str, Any] | None = None) -> AsyncIterator[SampledMessage]:
    """Yield up to `limit` messages of `topic` from its earliest offsets, partition by partition in turn.

    The consumer is assigned the partitions by hand with no group id: it joins no consumer group, commits
    nothing and cannot disturb the workers' offsets. It stops at the end offsets it found on starting.
    """
    security = security or {}  # SASL and TLS options (`healthmon.kafka.security.aiokafka_kwargs`)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_of(broker_url), group_id=None,
                                enable_auto_commit=False, auto_offset_reset="earliest", **security)
    await consumer.start()
    try:
        metadata = await consumer._client.fetch_all_metadata()  # noqa: SLF001 - no public metadata refresh
        ids = metadata.partitions_for_topic(topic)
        if ids is None:
            raise LookupError(f"topic {topic!r} does not exist on {broker_url}")
        assigned = [TopicPartition(topic, p) for p in sorted(ids)]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        end = await verified_end_offsets(bootstrap_of(broker_url), await consumer.end_offsets(assigned), **security)
        remaining = {tp for tp in assigned if (end[tp] or 0) > await consumer.position(tp)}
        read = 0
        while remaining and read < limit:
            batch = await consumer.getmany(*remaining, timeout_ms=500, max_records=min(500, limit - read))
            for tp, records in batch.items():
                for record in records:
                    if record.offset >= (end[tp] or 0) or read >= limit:
                        break
                    read += 1
                    yield SampledMessage(tp.partition, record.offset, record.key, record.value,
                                         [(name, value) for name, value in (record.headers or ())])
                if await consumer.position(tp) >= (end[tp] or 0):
                    remaining.discard(tp)
    finally:
        await consumer.stop()
