"""Patches to faust-streaming 0.15 that the worker's guarantees rest on, applied by an explicit `install()`.

Each patch replaces one Faust method; its docstring states the invariant it restores (`deliver_eagerly`
restores none: it keeps Faust's behaviour and drops its per-message tasks). The composition
root (`healthmon.worker.build_worker`) calls `install(end_offsets)` before it builds the app, handing in
the Kafka package's verified end offsets; installing twice is harmless. `let_go_before_wait_empty` and
`forget_unacked` reach into one app's consumer instead, for the input agent. Why each was needed is in
the git history of this file and of `streams/app.py`.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Generator, Mapping
from typing import Any

from aiokafka.partitioner import murmur2
from faust.stores.rocksdb import Store as RocksDBStore
from faust.tables.recovery import Recovery
from faust.transport.consumer import Consumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread, credentials_to_aiokafka_auth, server_list
from faust.transport.producer import ProducerBuffer
from faust.types import TP
from mode.services import WaitResults

__all__ = ["FETCH_MAX_WAIT_MS", "PATCHES", "forget_unacked", "install", "installed", "let_go_before_wait_empty"]

#: Longest a fetch waits on the broker for new data (Faust hard-codes 1.5 s, which a broker that answers
#: a waiting fetch only when it expires, as the embedded Tansu does, adds to every event's latency).
FETCH_MAX_WAIT_MS = 20

_publish = ProducerBuffer._send_pending
_listed_highwaters = AIOKafkaConsumerThread._highwaters
_create_worker_consumer = AIOKafkaConsumerThread._create_worker_consumer
_on_recovery_completed = Recovery.on_recovery_completed
_fetch_records = AIOKafkaConsumerThread._fetch_records
_rocksdb_set = RocksDBStore._set
_wait_first = Consumer.wait_first

#: `healthmon.kafka.offsets.verified_end_offsets`: (bootstrap, listed ends, **security) -> true ends
EndOffsets = Callable[..., Awaitable[Mapping[Any, int | None]]]
_end_offsets: list[EndOffsets] = []  # set by `install`


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
        except TimeoutError:
            continue


async def verified_highwaters(self: AIOKafkaConsumerThread, partitions: list[TP]) -> Any:
    """Return end offsets checked by the `end_offsets` given to `install`, so table recovery reads every record."""
    listed = await _listed_highwaters(self, partitions)
    if self.consumer.in_transaction:
        return listed
    transport = self.transport
    conf = self.app.conf
    auth = credentials_to_aiokafka_auth(conf.broker_credentials, conf.ssl_context)  # as Faust's own clients
    verified = await _end_offsets[0](",".join(server_list(transport.url, transport.default_port)), listed,
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


async def fetch_active_only(self: AIOKafkaConsumerThread, consumer: Any, active_partitions: set[TP],
                            timeout: float | None = None, max_records: int | None = None) -> Any:
    """Fetch records of the partitions active right now and of no other, and nothing while none is active.

    The Kafka client reads an empty set as "every assigned partition": during a rebalance it handed over
    the paused partitions' records, its position passed them, and Faust dropped them as not active.
    """
    partitions = set(active_partitions)
    if not partitions:
        await asyncio.sleep(min(timeout or 0.0, 0.05))
        return {}
    return await _fetch_records(self, consumer, partitions, timeout=timeout, max_records=max_records)


def let_go_before_wait_empty(app: Any, let_go: Callable[[], list[Any]]) -> None:
    """Make a revoke or a stop stop waiting for the messages `let_go()` names: they stay unacked and uncommitted.

    Faust waits for every message it delivered to be acked before a revoke or a stop completes; messages
    held back for a partition that is paused now would be waited for forever. Their partition's next
    owner reads them again. (A patch of one app, installed by the agent that holds messages back.)
    """
    wait_empty = app._consumer_wait_empty

    async def let_go_then_wait_empty(consumer: Any, logger: Any) -> None:
        for message in let_go():
            consumer._unacked_messages.discard(message)
        await wait_empty(consumer, logger)

    app._consumer_wait_empty = let_go_then_wait_empty


def forget_unacked(app: Any, message: Any) -> None:
    """Drop a delivered message that will not be processed from Faust's unacked set: its offset stays uncommitted."""
    app.consumer._unacked_messages.discard(message)


class _Started:
    """A coroutine already run to its first suspension, awaitable again: resumed as a task would resume it."""

    def __init__(self, coro: Any, yielded: Any) -> None:
        self.coro, self.yielded = coro, yielded

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, yielded = self.coro, self.yielded
        while True:
            try:
                sent = yield yielded
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # noqa: BLE001 - a cancellation or an error meant for the coroutine
                try:
                    yielded = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    yielded = coro.send(sent)
                except StopIteration as stop:
                    return stop.value


async def deliver_eagerly(self: Consumer, *coros: Any, timeout: Any = None) -> WaitResults:
    """Run the fetcher's delivery of one message at once, and race it against a flow stop only if it waits.

    Faust's consumer calls `wait_first` in one place: its fetcher delivers each message as
    `wait_first(callback(message), suspend_flow.wait())`, four tasks and a pass of the event loop per
    message, though the delivery almost never waits (only on a full stream buffer or producer buffer).
    Run in place, a fetched batch reaches the stream's buffer in one go; a delivery that does wait is
    raced against the same events as before, and so is every delivery while the flow is suspended.
    """
    first, *others = coros
    if (not inspect.iscoroutine(first) or self._stopped.is_set() or self._crashed.is_set()
            or self.suspend_flow.is_set()):
        return await _wait_first(self, *coros, timeout=timeout)
    try:
        yielded = first.send(None)
    except BaseException as exc:
        for other in others:
            if inspect.iscoroutine(other):
                other.close()  # never started: nothing to wait for
        if isinstance(exc, StopIteration):
            return WaitResults([first], [exc.value], False)
        raise
    return await _wait_first(self, _Started(first, yielded), *others, timeout=timeout)


def set_in_key_partition(self: RocksDBStore, key: bytes, value: bytes | None) -> None:
    """File a key under the partition its changelog record goes to, inside an event or not.

    A table with `use_partitioner` sends each changelog record to murmur2(key), and the worker saves
    states at commits, outside any event. Faust's RocksDB store asserts an event and would file the key
    under that event's partition: the local database and its changelog offsets would disagree.
    """
    if not self.table.use_partitioner:
        return _rocksdb_set(self, key, value)
    partition = (murmur2(key) & 0x7FFFFFFF) % self.table.partitions
    self._key_index[key] = partition
    self._db_for_partition(partition).put(key, value)
    return None


#: (class, attribute, replacement) of every patch
PATCHES: tuple[tuple[type, str, Any], ...] = (
    (ProducerBuffer, "_send_pending", send_pending_counted),
    (ProducerBuffer, "flush", flush_until_empty),
    (AIOKafkaConsumerThread, "_highwaters", verified_highwaters),
    (AIOKafkaConsumerThread, "_create_worker_consumer", short_fetch_wait),
    (Recovery, "on_recovery_completed", resume_streams_last),
    (AIOKafkaConsumerThread, "_fetch_records", fetch_active_only),
    (RocksDBStore, "_set", set_in_key_partition),
    (Consumer, "wait_first", deliver_eagerly),
)


def install(end_offsets: EndOffsets) -> None:
    """Apply every patch in `PATCHES` (idempotent); table recovery checks listed end offsets with `end_offsets`."""
    _end_offsets[:] = [end_offsets]
    if not hasattr(ProducerBuffer, "in_flight"):
        ProducerBuffer.in_flight = 0  # type: ignore[attr-defined]  # taken off the queue, not yet published
    for cls, name, replacement in PATCHES:
        setattr(cls, name, replacement)


def installed() -> bool:
    """Return whether every patch is in place."""
    return bool(_end_offsets) and all(getattr(cls, name) is replacement for cls, name, replacement in PATCHES)
