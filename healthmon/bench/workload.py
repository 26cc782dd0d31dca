"""The bench's workloads, produced once as single-event messages and once as batch envelopes.

- `sparse`: the standard workload: many small accounts, a 30-day backlog, about 3 events per account per day.
- `dense`: a B2B product's clickstream: a few hundred accounts of tens to hundreds of seats, over 2 days,
  the same number of events, so every account-hour with data holds tens of usage events.
- `dormant` (in-process and backtest only): purchase-like history, 3 purchases per single-seat account over
  18 months (`healthmon.generator.dormant`), scored by the purchases example policy.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
from aiokafka import AIOKafkaProducer

from healthmon.config import DEFAULT_POLICY_FILE, Settings
from healthmon.generator import Record, standard_workload, to_batches
from healthmon.generator.dormant import DORMANT_EVENTS_PER_ACCOUNT, dormant_records
from healthmon.generator.workload import DENSE_SEATS_RANGE
from healthmon.ingest import partition_for
from healthmon.kafka.security import aiokafka_kwargs

__all__ = [
    "DENSE_DAYS",
    "DORMANT",
    "DORMANT_ACCOUNTS",
    "PURCHASES_POLICY_FILE",
    "Produced",
    "WORKLOADS",
    "dense_accounts",
    "envelope_messages",
    "produce_messages",
    "single_messages",
    "usage_per_account_hour",
    "workload_policy",
    "workload_records",
]

#: the bench's workloads, in the order they run
WORKLOADS = ("sparse", "dense")
#: the purchase-like workload of idle accounts, run in process and as a backtest only
DORMANT = "dormant"
#: accounts of the bench's dormant workload: about the CDNOW-like history of issue #25
DORMANT_ACCOUNTS = 21_000
DENSE_DAYS = 2
#: events per account of the dense workload (about 120 usage events per account-hour with data)
DENSE_EVENTS_PER_ACCOUNT = 3_000
DENSE_MAX_ACCOUNTS = 300

PURCHASES_POLICY_FILE = DEFAULT_POLICY_FILE.parent / "examples" / "purchases.yaml"

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


def dense_accounts(events: int) -> int:
    """Return the accounts of the dense workload of `events` events: 300 at a million, fewer below."""
    return max(1, min(DENSE_MAX_ACCOUNTS, events // DENSE_EVENTS_PER_ACCOUNT))


def workload_records(events: int, accounts: int, seed: int, workload: str = "sparse") -> Iterator[Record]:
    """Yield a workload: one profile per account, then `events` events (`accounts` as given, but dormant's)."""
    if workload == DORMANT:
        return dormant_records(max(1, events // DORMANT_EVENTS_PER_ACCOUNT), seed)
    if workload == "sparse":
        return standard_workload(events=events, accounts=accounts, seed=seed).records()
    if workload == "dense":
        return standard_workload(events=events, accounts=accounts, seed=seed, days=DENSE_DAYS,
                                 seats_range=DENSE_SEATS_RANGE).records()
    raise ValueError(f"unknown workload {workload!r} (known: {', '.join(WORKLOADS)})")


def workload_policy(workload: str) -> Path:
    """Return the policy file a workload is scored by: the purchases example for `dormant`, else the default."""
    return PURCHASES_POLICY_FILE if workload == DORMANT else DEFAULT_POLICY_FILE


def usage_per_account_hour(records: Iterable[Record]) -> float:
    """Return the mean usage events per account-hour that has any usage (the workload's density)."""
    hours: dict[tuple[str, int], int] = {}
    for rec in records:
        if rec.kind == "usage":
            slot = (rec.key, rec.occurred_at // 3_600_000)
            hours[slot] = hours.get(slot, 0) + 1
    return sum(hours.values()) / len(hours) if hours else 0.0


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
                                **aiokafka_kwargs(Settings().kafka))
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
