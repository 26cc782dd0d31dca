"""End offsets that hold on every broker we run on, including the embedded Tansu.

Kafka's ListOffsets(latest) returns the log end offset: the last record's offset + 1. Tansu 0.6's
memory engine (the embedded broker) returns the *last batch's base offset* + 1 instead, so after a
produce request that carried several records in one batch it reports an end that is short by up to
the batch's size. The high watermark in a Fetch response is right on both.

Faust's table recovery reads a changelog partition up to its ListOffsets end and stops there, so on
Tansu it missed the tail of the last batch: the states saved by the last commit before a restart
were lost while their input offsets stayed committed (issue #3). `verified_end_offsets` fixes the
figure by fetching the last listed batch and taking the Fetch response's high watermark; on a broker
whose ListOffsets is right it costs one small fetch per partition and changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

__all__ = ["verified_end_offsets"]


async def verified_end_offsets(bootstrap: str, listed: Mapping[TopicPartition, int | None], *,
                               timeout_s: float = 10.0, **security: Any) -> dict[TopicPartition, int | None]:
    """Return the true end offset of each partition, given what ListOffsets(latest) said (`listed`).

    A partition's end is the larger of its listed end and the high watermark of a fetch from the
    listed end - 1. Partitions listed as empty (0 or None) are returned as listed. If the broker does
    not answer a fetch within `timeout_s`, the listed value stands for that partition. `security` holds
    the client's TLS/SASL arguments (`healthmon.kafka.security.aiokafka_kwargs`).
    """
    out: dict[TopicPartition, int | None] = dict(listed)
    probe = {TopicPartition(tp.topic, tp.partition): tp for tp, end in listed.items() if end}
    if not probe:
        return out
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=50,
                                max_partition_fetch_bytes=1024 * 1024, **security)
    await consumer.start()
    try:
        consumer.assign(list(probe))
        for tp, key in probe.items():
            consumer.seek(tp, int(listed[key]) - 1)  # type: ignore[arg-type]
        pending = set(probe)
        deadline = time.monotonic() + timeout_s
        while pending and time.monotonic() < deadline:
            await consumer.getmany(*pending, timeout_ms=100, max_records=1)
            for tp in list(pending):
                highwater = consumer.highwater(tp)
                if highwater is not None:
                    key = probe[tp]
                    out[key] = max(int(listed[key]), highwater)  # type: ignore[arg-type]
                    pending.discard(tp)
                    consumer.pause(tp)
        return out
    finally:
        await consumer.stop()
