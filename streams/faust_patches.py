"""Patches to faust-streaming 0.15 that the worker's guarantees rest on, applied by an explicit `install()`.

Each patch replaces one Faust method; its docstring states the invariant it restores. The composition
root (`healthmon.worker.build_worker`) calls `install()` before it builds the app; installing twice is
harmless. Why each was needed is in the git history of this file and of `streams/app.py`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from faust.tables.recovery import Recovery
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread, credentials_to_aiokafka_auth, server_list
from faust.transport.producer import ProducerBuffer
from faust.types import TP

from streams.offsets import verified_end_offsets

__all__ = ["FETCH_MAX_WAIT_MS", "PATCHES", "install", "installed"]

#: Longest a fetch waits on the broker for new data (Faust hard-codes 1.5 s, which a broker that answers
#: a waiting fetch only when it expires, as the embedded Tansu does, adds to every event's latency).
FETCH_MAX_WAIT_MS = 20

_publish = ProducerBuffer._send_pending
_listed_highwaters = AIOKafkaConsumerThread._highwaters
_create_worker_consumer = AIOKafkaConsumerThread._create_worker_consumer
_on_recovery_completed = Recovery.on_recovery_completed


async def send_pending_counted(self: ProducerBuffer, fut: Any) -> None:
    """Count a buffered message as in flight from the moment it leaves the queue until the producer holds it."""
    self.in_flight += 1
    try:
        await _publish(self, fut)
    finally:
        self.in_flight -= 1


async def flush_until_empty(self: ProducerBuffer) -> None:
    """Return only once every buffered message, the one being published included, is with the producer.

    The commit path trusts this flush before it commits offsets, so a state saved just before a commit
    is never behind it (Faust's own flush gives up after 0.1 s idle and ignores the message in flight).
    """
    while self.size or self.in_flight:
        if self.state != "running":
            raise RuntimeError("Cannot flush: producer buffer not running")
        self.message_sent.clear()  # the buffer's task sets it after each publish
        try:
            await asyncio.wait_for(self.message_sent.wait(), timeout=1.0)
        except asyncio.TimeoutError:
            continue


async def verified_highwaters(self: AIOKafkaConsumerThread, partitions: list[TP]) -> Any:
    """Return end offsets checked against a fetch (`streams.offsets`), so table recovery reads every record."""
    listed = await _listed_highwaters(self, partitions)
    if self.consumer.in_transaction:
        return listed
    transport = self.transport
    conf = self.app.conf
    auth = credentials_to_aiokafka_auth(conf.broker_credentials, conf.ssl_context)  # as Faust's own clients
    verified = await verified_end_offsets(",".join(server_list(transport.url, transport.default_port)), listed,
                                          **auth)
    return {TP(tp.topic, tp.partition): end for tp, end in verified.items()}


def short_fetch_wait(self: AIOKafkaConsumerThread, transport: Any) -> Any:
    """Create Faust's consumer as usual, waiting at most `FETCH_MAX_WAIT_MS` per fetch instead of 1.5 s."""
    consumer = _create_worker_consumer(self, transport)
    consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
    return consumer


async def resume_streams_last(self: Recovery, generation_id: int = 0) -> None:
    """Resume the stream partitions only after recovery has completed, so no fetched message is cleared unread.

    Faust resumes them before it resumes flow control, which clears every stream queue: messages fetched
    in between were dropped unacked and pinned the partition's commit.
    """
    consumer = self.app.consumer
    held: set[TP] = set()
    consumer.resume_partitions = held.update  # recorded, applied below
    try:
        await _on_recovery_completed(self, generation_id)
    finally:
        del consumer.resume_partitions
    if held and self.app.consumer_generation_id == generation_id:
        consumer.resume_partitions(held & consumer.assignment())


#: (class, attribute, replacement) of every patch
PATCHES: tuple[tuple[type, str, Any], ...] = (
    (ProducerBuffer, "_send_pending", send_pending_counted),
    (ProducerBuffer, "flush", flush_until_empty),
    (AIOKafkaConsumerThread, "_highwaters", verified_highwaters),
    (AIOKafkaConsumerThread, "_create_worker_consumer", short_fetch_wait),
    (Recovery, "on_recovery_completed", resume_streams_last),
)


def install() -> None:
    """Apply every patch in `PATCHES` (idempotent)."""
    if not hasattr(ProducerBuffer, "in_flight"):
        ProducerBuffer.in_flight = 0  # type: ignore[attr-defined]  # taken off the queue, not yet published
    for cls, name, replacement in PATCHES:
        setattr(cls, name, replacement)


def installed() -> bool:
    """Return whether every patch is in place."""
    return all(getattr(cls, name) is replacement for cls, name, replacement in PATCHES)
