"""Read the input topics' retained history for a backtest: no consumer group, nothing written."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition

from healthmon.backtest.inputs import Sorter
from healthmon.connect import bootstrap_of

__all__ = ["read_history"]

QUIET_POLL_MS = 250
#: empty polls in a row (with every partition past its start-time end offset) that end the read
QUIET_POLLS = 4


async def read_history(broker_url: str, topic: str, sorter: Sorter) -> int:
    """Add every message `topic` holds now (from its earliest offset) to `sorter`; return how many.

    The consumer is assigned the partitions by hand with no group id, so it joins no consumer group,
    commits nothing and cannot disturb the workers' offsets. Tombstones (compacted-away profiles) are
    skipped.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_of(broker_url), group_id=None,
                                enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    count = 0
    try:
        partitions = await consumer._client.fetch_all_metadata()  # noqa: SLF001 - no public metadata refresh
        ids = partitions.partitions_for_topic(topic) or set()
        assigned = [TopicPartition(topic, p) for p in sorted(ids)]
        if not assigned:
            return 0
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        end = await consumer.end_offsets(assigned)
        quiet = 0
        # Read until every partition is at least at the end offset it had at the start, and a whole
        # second passes with nothing more: some brokers (the embedded Tansu) report an end offset that
        # lags what a fetch returns, and a record beyond it is still history, not something to drop.
        while True:
            batch = await consumer.getmany(timeout_ms=QUIET_POLL_MS)
            got = 0
            for records in batch.values():
                for record in records:
                    if record.value is not None:
                        sorter.add(record.value)
                        count += 1
                got += len(records)
            quiet = 0 if got else quiet + 1
            if quiet >= QUIET_POLLS and all([await consumer.position(tp) >= end[tp] for tp in assigned]):
                break
    finally:
        await consumer.stop()
    return count
