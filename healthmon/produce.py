"""Send generated traffic to Kafka at a steady rate (single events or batch envelopes)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Iterable

import orjson
from aiokafka import AIOKafkaProducer

from healthmon.connect import bootstrap_of
from healthmon.generator import Record, to_batches
from streams.kafka_security import aiokafka_kwargs
from streams.settings import Settings

__all__ = ["ProduceStats", "produce"]


@dataclass
class ProduceStats:
    """What `produce` sent."""

    events: int = 0
    messages: int = 0
    seconds: float = 0.0


async def produce(settings: Settings, broker_url: str, records: Iterable[Record], *, rate: float = 0.0,
                  batch_size: int = 1, stop: asyncio.Event | None = None) -> ProduceStats:
    """Send `records` to the input topics, at most `rate` events/s (0: as fast as possible)."""
    topics = settings.input_topics
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_of(broker_url), linger_ms=5,
                                max_batch_size=512 * 1024, enable_idempotence=False, acks=1,
                                **aiokafka_kwargs(settings))
    await producer.start()
    stats = ProduceStats()
    started = time.monotonic()
    try:
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
        await producer.stop()
    stats.seconds = time.monotonic() - started
    return stats
