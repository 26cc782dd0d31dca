"""Send generated traffic to Kafka at a steady rate (single events or batch envelopes)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from healthmon.config import Settings
from healthmon.generator import Record, to_batches
from healthmon.kafka.connect import bootstrap_of
from healthmon.kafka.security import aiokafka_kwargs

__all__ = ["ProduceStats", "STOP_TIMEOUT_S", "produce", "produce_messages"]

#: Longest stopping the producer may take (it flushes what is still queued).
STOP_TIMEOUT_S = 3.0


@dataclass
class ProduceStats:
    """What `produce` sent."""

    events: int = 0
    messages: int = 0
    seconds: float = 0.0


async def produce(settings: Settings, broker_url: str, records: Iterable[Record], *, rate: float = 0.0,
                  batch_size: int = 1, stop: asyncio.Event | None = None,
                  stats: ProduceStats | None = None) -> ProduceStats:
    """Send `records` to the input topics, at most `rate` events/s (0: as fast as possible).

    `stats`, if given, is updated as messages are handed to the producer (it survives a cancel).
    """
    topics = settings.topics.input_names
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_of(broker_url), linger_ms=5,
                                max_batch_size=512 * 1024, enable_idempotence=False, acks=1,
                                **aiokafka_kwargs(settings.kafka))
    stats = stats if stats is not None else ProduceStats()
    started = time.monotonic()
    try:
        await producer.start()  # inside the try: a cancelled start still closes the producer
        groups = ((r.kind, r.key, [r.value]) for r in records) if batch_size <= 1 else to_batches(records,
                                                                                                 batch_size)
        pending = []
        for kind, key, values in groups:
            if stop is not None and stop.is_set():
                break
            body = orjson.dumps(values[0]) if batch_size <= 1 else orjson.dumps({"events": values})
            pending.append(await producer.send(topics[kind], body, key=key.encode()))
            stats.events += len(values)
            stats.messages += 1
            if len(pending) >= 2000:
                await asyncio.gather(*pending)
                pending.clear()
            if rate > 0:
                ahead = stats.events / rate - (time.monotonic() - started)
                if ahead > 0.005:
                    await asyncio.sleep(ahead)
        if pending:
            await asyncio.gather(*pending)
        await producer.flush()
    finally:
        # A producer's stop flushes, which waits on the broker: bounded, so a cancel cannot hang.
        await asyncio.wait({asyncio.ensure_future(producer.stop())}, timeout=STOP_TIMEOUT_S)
        stats.seconds = time.monotonic() - started
    stats.seconds = time.monotonic() - started
    return stats


async def produce_messages(settings: Settings, broker_url: str, messages: Iterable[Any], *, rate: float = 0.0,
                           stats: ProduceStats | None = None) -> ProduceStats:
    """Send messages already shaped (`healthmon.generator.formats.Message`: topic, key, value, headers) as they
    come, at most `rate` messages/s (0: as fast as possible)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_of(broker_url), linger_ms=5,
                                max_batch_size=512 * 1024, enable_idempotence=False, acks=1,
                                **aiokafka_kwargs(settings.kafka))
    stats = stats if stats is not None else ProduceStats()
    started = time.monotonic()
    try:
        await producer.start()
        pending = []
        for message in messages:
            pending.append(await producer.send(message.topic, message.value, key=message.key,
                                               headers=list(message.headers) or None))
            stats.events += 1
            stats.messages += 1
            if len(pending) >= 2000:
                await asyncio.gather(*pending)
                pending.clear()
            if rate > 0:
                ahead = stats.messages / rate - (time.monotonic() - started)
                if ahead > 0.005:
                    await asyncio.sleep(ahead)
        if pending:
            await asyncio.gather(*pending)
        await producer.flush()
    finally:
        await asyncio.wait({asyncio.ensure_future(producer.stop())}, timeout=STOP_TIMEOUT_S)
        stats.seconds = time.monotonic() - started
    return stats
