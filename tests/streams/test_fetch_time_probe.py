"""The fetch-time probe reads, from the real Kafka client, when the broker last answered a fetch of a partition."""

from __future__ import annotations

import time
from types import SimpleNamespace

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from streams.consumer_probes import fetch_time_probe
from tests.fixtures import unique_id


async def test_a_caught_up_partition_gets_a_newer_answer_at_the_next_fetch(topic_io):
    # The aligner releases a message ahead of a caught-up input only on an answer newer than the message:
    # that needs the client to keep fetching an empty partition, and the probe to read when it last did.
    bootstrap = topic_io.bootstrap
    topic = unique_id("fetch-time-")
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 2, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False, acks=1)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"usage", partition=0)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest",
                                fetch_max_wait_ms=20)
    await consumer.start()
    app = SimpleNamespace(consumer=SimpleNamespace(_thread=SimpleNamespace(_consumer=consumer)))
    fetched_ms = fetch_time_probe(app)  # type: ignore[arg-type]
    try:
        assert fetched_ms(topic, 1) is None  # not assigned: not known
        consumer.assign([TopicPartition(topic, 0), TopicPartition(topic, 1)])
        got = []
        deadline = time.monotonic() + 30
        while not got:
            assert time.monotonic() < deadline, "the record was not fetched"
            got = [r for rs in (await consumer.getmany(timeout_ms=200)).values() for r in rs]
        arrived_ms = int(time.time() * 1000)  # as the input agent stamps a message
        first = fetched_ms(topic, 1)
        assert first is not None and first <= arrived_ms
        while (answer := fetched_ms(topic, 1)) is None or answer <= arrived_ms:
            assert time.monotonic() < deadline, f"no answer for the empty partition since {arrived_ms}: {answer}"
            await consumer.getmany(timeout_ms=50)
    finally:
        await consumer.stop()
