"""Produce the standard workload once as single-event messages and once as batch envelopes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import orjson
from aiokafka import AIOKafkaProducer

from healthmon.generator import Record, standard_workload, to_batches
from healthmon.ingest import partition_for
from streams.kafka_security import aiokafka_kwargs
from streams.settings import Settings

__all__ = ["Produced", "envelope_messages", "produce_messages", "single_messages", "workload_records"]

#: How long (event time) a batching producer holds events back before it sends a short envelope.
ENVELOPE_WINDOW_MS = 3_600_000

#: (input kind, message key or None, partition or None, JSON body, events in the body)
Message = tuple[str, bytes | None, int | None, bytes, int]


@dataclass
class Produced:
    """What one topic set holds."""

    events: int = 0
    messages: int = 0
    seconds: float = 0.0


def workload_records(events: int, accounts: int, seed: int) -> Iterator[Record]:
    """Yield the standard workload: one profile per account, then `events` events."""
    return standard_workload(events=events, accounts=accounts, seed=seed).records()


def single_messages(records: Iterable[Record]) -> Iterator[Message]:
    """Yield one message per event, keyed by account_id (the default partitioner places it)."""
    for rec in records:
        yield rec.kind, rec.key.encode(), None, orjson.dumps(rec.value), 1


def envelope_messages(records: Iterable[Record], partitions: int, size: int) -> Iterator[Message]:
    """Yield `{"events": [...]}` envelopes of up to `size` events of one kind and one partition.

    Per-account envelopes of 100 cannot be formed from this workload (about 3 events per account
    per day), so the envelopes are what an ingestion gateway batching by murmur2(account_id) sends:
    every event of an envelope belongs to the partition it is sent to, so none is repartitioned.
    """
    by_partition = (Record(r.kind, str(partition_for(r.key, partitions)), r.value, r.occurred_at) for r in records)
    for kind, key, values in to_batches(by_partition, size, window_ms=ENVELOPE_WINDOW_MS):
        yield kind, None, int(key), orjson.dumps({"events": values}), len(values)


async def produce_messages(bootstrap: str, topics: dict[str, str], messages: Iterable[Message]) -> Produced:
    """Send `messages` to the topic of their kind as fast as the broker takes them."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=1024 * 1024,
                                max_request_size=8 * 1024 * 1024, enable_idempotence=False, acks=1,
                                **aiokafka_kwargs(Settings()))
    await producer.start()
    out = Produced()
    started = time.monotonic()
    try:
        pending = []
        for kind, key, partition, body, n in messages:
            pending.append(await producer.send(topics[kind], body, key=key, partition=partition))
            out.events += n
            out.messages += 1
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
        if pending:
            await asyncio.gather(*pending)
        await producer.flush()
    finally:
        await producer.stop()
    out.seconds = time.monotonic() - started
    return out
