"""Each Faust patch holds its invariant once `install()` ran (each test fails if its patch is not installed)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from faust.tables.recovery import Recovery
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.transport.producer import ProducerBuffer
from faust.types import TP
from yarl import URL

from healthmon.kafka.offsets import verified_end_offsets
from streams import faust_patches


@pytest.fixture(autouse=True)
def _installed() -> None:
    faust_patches.install(verified_end_offsets)


def test_install_puts_every_patch_in_place_and_is_idempotent():
    faust_patches.install(verified_end_offsets)
    assert faust_patches.installed()
    for cls, name, replacement in faust_patches.PATCHES:
        assert getattr(cls, name) is replacement, f"{cls.__name__}.{name}"


class SlowChannel:
    """Publishes each message after a delay, like a producer waiting on metadata or a full batch."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.published: list[int] = []

    async def publish_message(self, fut: SimpleNamespace, wait: bool = False) -> None:
        await asyncio.sleep(self.delay_s)
        self.published.append(fut.n)


def _message(channel: SlowChannel, n: int) -> SimpleNamespace:
    return SimpleNamespace(n=n, message=SimpleNamespace(channel=channel))


async def test_flush_returns_only_once_every_buffered_message_is_published_including_the_one_in_flight():
    buffer = ProducerBuffer()
    buffer.app = SimpleNamespace(conf=SimpleNamespace(producer_threaded=False))
    channel = SlowChannel(delay_s=0.05)
    await buffer.start()
    try:
        for n in range(5):
            buffer.put(_message(channel, n))
        await buffer.flush()
        # The buffer's task takes a message off the queue before publishing it: a flush that only
        # watched the queue returned with the last message still unpublished.
        assert channel.published == [0, 1, 2, 3, 4]
        assert buffer.size == 0
    finally:
        await buffer.stop()


async def test_flush_of_an_empty_buffer_returns_at_once():
    buffer = ProducerBuffer()
    buffer.app = SimpleNamespace(conf=SimpleNamespace(producer_threaded=False))
    await buffer.start()
    try:
        await asyncio.wait_for(buffer.flush(), timeout=5)
        assert buffer.size == 0 and buffer.in_flight == 0
    finally:
        await buffer.stop()


async def test_table_recovery_reads_up_to_the_end_offsets_a_fetch_confirms(monkeypatch):
    tp = TP("healthmon-account-state-changelog", 0)
    asked: list[Any] = []

    async def listed(self: Any, partitions: list[TP]) -> dict[TP, int]:
        return {tp: 5}  # what ListOffsets said: short of the last batch's tail

    async def verify(bootstrap: str, listed_ends: dict[TP, int], **auth: Any) -> dict[TP, int]:
        asked.append((bootstrap, listed_ends))
        return {tp: 7}

    monkeypatch.setattr(faust_patches, "_listed_highwaters", listed)
    faust_patches.install(verify)
    thread = SimpleNamespace(consumer=SimpleNamespace(in_transaction=False),
                             transport=SimpleNamespace(url=[URL("kafka://broker:9093")], default_port=9092),
                             app=SimpleNamespace(conf=SimpleNamespace(broker_credentials=None, ssl_context=None)))
    assert await AIOKafkaConsumerThread._highwaters(thread, [tp]) == {tp: 7}
    assert asked == [("broker:9093", {tp: 5})]


def test_the_worker_consumer_waits_at_most_the_short_fetch_wait(monkeypatch):
    monkeypatch.setattr(faust_patches, "_create_worker_consumer",
                        lambda self, transport: SimpleNamespace(_fetch_max_wait_ms=1500))
    consumer = AIOKafkaConsumerThread._create_worker_consumer(SimpleNamespace(), SimpleNamespace())
    assert consumer._fetch_max_wait_ms == faust_patches.FETCH_MAX_WAIT_MS <= 100


class _Consumer:
    def __init__(self, log: list[Any], assignment: set[TP]) -> None:
        self.log, self._assignment = log, assignment

    def resume_partitions(self, partitions: set[TP]) -> None:
        self.log.append(("resumed", frozenset(partitions)))

    def assignment(self) -> set[TP]:
        return self._assignment


@pytest.mark.parametrize("generation_at_end", [1, 2], ids=["same generation", "rebalanced meanwhile"])
async def test_stream_partitions_resume_only_after_recovery_has_completed(monkeypatch, generation_at_end):
    stream, gone = TP("product-usage", 0), TP("product-usage", 1)
    log: list[Any] = []
    app = SimpleNamespace(consumer=_Consumer(log, {stream}), consumer_generation_id=1)

    async def faust_recovery_end(self: Any, generation_id: int = 0) -> None:
        self.app.consumer.resume_partitions({stream, gone})  # Faust resumes here, before the queues are cleared
        log.append("flow control resumed: stream queues cleared")
        self.app.consumer_generation_id = generation_at_end

    monkeypatch.setattr(faust_patches, "_on_recovery_completed", faust_recovery_end)
    await Recovery.on_recovery_completed(SimpleNamespace(app=app), 1)
    if generation_at_end == 1:
        assert log == ["flow control resumed: stream queues cleared", ("resumed", frozenset({stream}))]
    else:
        assert log == ["flow control resumed: stream queues cleared"]  # the next recovery resumes them
    assert "resume_partitions" not in vars(app.consumer)  # the consumer's own method is back


async def test_a_revoke_or_stop_waits_only_for_the_messages_not_let_go():
    held, processed = object(), object()
    waited_for: list[set[object]] = []

    async def faust_wait_empty(consumer: Any, logger: Any) -> None:
        waited_for.append(set(consumer._unacked_messages))

    consumer = SimpleNamespace(_unacked_messages={held, processed})
    app = SimpleNamespace(_consumer_wait_empty=faust_wait_empty, consumer=consumer)
    faust_patches.let_go_before_wait_empty(app, lambda: [held])
    await app._consumer_wait_empty(consumer, None)
    assert waited_for == [{processed}]


def test_a_message_that_will_not_be_processed_leaves_the_unacked_set_unacked():
    message = object()
    app = SimpleNamespace(consumer=SimpleNamespace(_unacked_messages={message}))
    faust_patches.forget_unacked(app, message)
    assert app.consumer._unacked_messages == set()


async def test_the_consumer_fetches_only_active_partitions_and_nothing_while_none_is_active(topic_io):
    from aiokafka import AIOKafkaConsumer
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.structs import TopicPartition
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    from tests.fixtures import unique_id

    topic = unique_id("fetch")
    admin = AIOKafkaAdminClient(bootstrap_servers=topic_io.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
    finally:
        await admin.close()
    for partition in (0, 1):
        await topic_io.send(topic, [b"x"] * 5, partition=partition)
    p0, p1 = TopicPartition(topic, 0), TopicPartition(topic, 1)
    consumer = AIOKafkaConsumer(bootstrap_servers=topic_io.bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        consumer.assign([p0, p1])
        await consumer.seek_to_beginning(p0, p1)
        thread = SimpleNamespace(consumer=SimpleNamespace(flow_active=True))
        fetch = AIOKafkaConsumerThread._fetch_records
        # Faust's active set is briefly empty during a rebalance; the client reads an empty set as "all".
        for _ in range(3):
            assert await fetch(thread, consumer, set(), timeout=0.5) == {}
        assert await consumer.position(p0) == 0 and await consumer.position(p1) == 0
        got: dict = {}
        for _ in range(20):
            for tp, records in (await fetch(thread, consumer, {p0}, timeout=0.5)).items():
                got.setdefault(tp, []).extend(records)
            if len(got.get(p0, [])) == 5:
                break
        assert list(got) == [p0] and len(got[p0]) == 5
        assert await consumer.position(p1) == 0  # never handed over, so never skipped
    finally:
        await consumer.stop()


def test_the_rocksdb_store_files_a_key_under_its_changelog_partition_outside_any_event():
    from aiokafka.partitioner import DefaultPartitioner
    from faust.stores.rocksdb import Store as RocksDBStore

    dbs: dict[int, dict[bytes, bytes]] = {}

    class _DB(dict):
        def put(self, key: bytes, value: bytes) -> None:
            self[key] = value

    store = SimpleNamespace(table=SimpleNamespace(use_partitioner=True, partitions=4), _key_index={},
                            _db_for_partition=lambda p: dbs.setdefault(p, _DB()))
    for n in range(40):  # the worker saves states at commits, where Faust's store asserted an event
        key = f"acc-{n:05d}".encode()
        RocksDBStore._set(store, key, b"state")
        partition = DefaultPartitioner()(key, [0, 1, 2, 3], [0, 1, 2, 3])
        assert dbs[partition][key] == b"state" and store._key_index[key] == partition
    assert len(dbs) == 4
