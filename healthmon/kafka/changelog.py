"""Read the account-state changelog as table recovery does: every record from the start, each account's most
advanced state kept (`healthmon.core.saved_view.saved_behind`; a tombstone removes the account)."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

from healthmon.core.saved_view import saved_behind
from healthmon.kafka.offsets import verified_end_offsets

__all__ = ["changelog_topic", "read_saved_states"]


def changelog_topic(app_id: str) -> str:
    """Return the changelog topic of the account-state table of the worker group `app_id`."""
    return f"{app_id}-account-state-changelog"


async def read_saved_states(bootstrap: str, topic: str, security: dict[str, Any] | None = None) -> dict[str, bytes]:
    """Return account id -> its most advanced state bytes in its changelog (a tombstone removes the account).

    A record older than the state read before it for its account (a frozen former owner's) is left out, as
    table recovery does (`streams.tables.AccountStateTable`).

    Reads each partition from its start to the end offset it had when the read began, with no consumer
    group, so it disturbs nothing; what is written meanwhile is left for the next read.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                max_partition_fetch_bytes=8 * 1024 * 1024, **(security or {}))
    await consumer.start()
    try:
        partitions = sorted(consumer.partitions_for_topic(topic) or ())
        if not partitions:
            await consumer._client.force_metadata_update()  # a topic this client has not asked about yet
            partitions = sorted(consumer.partitions_for_topic(topic) or ())
        if not partitions:
            raise LookupError(f"no changelog topic {topic!r} on the broker (wrong HEALTHMON_APP_ID?)")
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        # Tansu's ListOffsets can be short of the last batch (see `healthmon.kafka.offsets`).
        listed = await consumer.end_offsets(tps)
        verified = await verified_end_offsets(bootstrap, listed, **(security or {}))
        ends = {tp: int(end or 0) for tp, end in verified.items()}
        states: dict[str, bytes] = {}
        left = {tp for tp in tps if ends[tp] > 0}
        while left:
            batch = await consumer.getmany(*left, timeout_ms=1000)
            for tp, records in batch.items():
                for record in records:
                    if record.offset >= ends[tp]:
                        continue
                    key = record.key.decode()
                    if record.value is None:
                        states.pop(key, None)
                    elif not saved_behind(record.value, states.get(key)):
                        states[key] = record.value
                if records and records[-1].offset >= ends[tp] - 1:
                    left.discard(tp)
            # The client's position runs ahead of what it has handed out (fetched, still buffered): only a
            # round that returned nothing for a partition proves its position is what was read.
            for tp in [tp for tp in left if tp not in batch]:
                if await consumer.position(tp) >= ends[tp]:
                    left.discard(tp)
        return states
    finally:
        await consumer.stop()
