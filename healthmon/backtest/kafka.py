"""Read the input topics' retained history for a backtest: no consumer group, nothing written."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from healthmon.backtest.inputs import Sorter
from healthmon.kafka.connect import bootstrap_of
from healthmon.kafka.offsets import verified_end_offsets

__all__ = ["read_history"]


async def read_history(broker_url: str, topic: str, sorter: Sorter, security: dict[str, Any] | None = None) -> int:
    """Add every message `topic` holds now (from its earliest offset) to `sorter`; return how many.

    The consumer is assigned the partitions by hand with no group id, so it joins no consumer group,
    commits nothing and cannot disturb the workers' offsets. A tombstone goes to `sorter` with its key and
    time, to be mapped as the worker maps it (a Debezium tombstone removes its key's account).
    """
    security = security or {}  # SASL and TLS options (`healthmon.kafka.security.aiokafka_kwargs`)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_of(broker_url), group_id=None,
                                enable_auto_commit=False, auto_offset_reset="earliest", **security)
    await consumer.start()
    count = 0
    try:
        partitions = await consumer._client.fetch_all_metadata()  # noqa: SLF001 - no public metadata refresh
        ids = partitions.partitions_for_topic(topic) or set()
        assigned = [TopicPartition(topic, p) for p in sorted(ids)]
        if not assigned:
            return 0
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        # The history is what the topic holds now; the embedded broker's listed end offsets run short.
        end = await verified_end_offsets(bootstrap_of(broker_url), await consumer.end_offsets(assigned), **security)
        remaining = {tp for tp in assigned if (end[tp] or 0) > await consumer.position(tp)}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=500)
            for tp, records in batch.items():
                for record in records:
                    if record.offset >= (end[tp] or 0):
                        break
                    sorter.add(record.value, record.key if record.value is None else None, record.timestamp)
                    count += 1
                if await consumer.position(tp) >= (end[tp] or 0):
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    return count
