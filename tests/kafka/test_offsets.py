"""End offsets checked against a fetch, on the real broker the suite runs on."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from healthmon.kafka.offsets import verified_end_offsets
from tests.fixtures import unique_id


async def _topic(bootstrap: str, partitions: int) -> str:
    name = unique_id("offsets-")
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        await admin.close()
    return name


async def test_end_offsets_count_every_record_of_multi_record_batches(topic_io):
    bootstrap = topic_io.bootstrap
    topic = await _topic(bootstrap, 3)
    tps = [TopicPartition(topic, p) for p in range(3)]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks=-1, linger_ms=50)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await producer.start()
    await consumer.start()
    try:
        expected = {tp: 0 for tp in tps}
        # Several records per produce request and partition: one batch each (partition 2 stays empty).
        for sizes in ((1, 2), (5, 1), (3, 7)):
            futures = [await producer.send(topic, b"x", partition=p) for p, n in enumerate(sizes) for _ in range(n)]
            await producer.flush()
            for fut in futures:
                meta = await fut
                tp = TopicPartition(topic, meta.partition)
                expected[tp] = max(expected[tp], meta.offset + 1)
            listed = await consumer.end_offsets(tps)
            verified = await verified_end_offsets(bootstrap, listed)
            assert verified == expected, (listed, verified, expected)
    finally:
        await producer.stop()
        await consumer.stop()


async def test_empty_partitions_need_no_fetch_and_keep_their_listed_end(topic_io):
    tp = TopicPartition(await _topic(topic_io.bootstrap, 1), 0)
    assert await verified_end_offsets(topic_io.bootstrap, {tp: 0}) == {tp: 0}
    assert await verified_end_offsets(topic_io.bootstrap, {tp: None}) == {tp: None}
