"""The producer-buffer flush that the commit path relies on (patched in `streams.app`)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from faust.transport.producer import ProducerBuffer

import streams.app  # noqa: F401 - installs the patched flush


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


def test_the_producer_takes_the_largest_dead_letter_and_a_repartitioned_batch():
    import pytest
    from pydantic import ValidationError

    from healthmon.ingest.deadletter import MAX_RAW_BYTES_LIMIT, max_record_bytes
    from streams.app import create_app, producer_max_request_bytes
    from streams.settings import Settings

    with pytest.raises(ValidationError):
        Settings(deadletter_max_raw_bytes=MAX_RAW_BYTES_LIMIT + 1)
    largest = Settings(deadletter_max_raw_bytes=MAX_RAW_BYTES_LIMIT, max_message_bytes=3_000_000)
    assert producer_max_request_bytes(largest) >= max(max_record_bytes(MAX_RAW_BYTES_LIMIT), 6_000_000)
    assert max_record_bytes(MAX_RAW_BYTES_LIMIT) < 1_000_000  # fits a broker left at Kafka's default limit
    default = Settings()
    assert producer_max_request_bytes(default) >= 2 * default.max_message_bytes
    app = create_app(default, "kafka://127.0.0.1:9")
    assert app.conf.producer_max_request_size == producer_max_request_bytes(default)


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
