"""Read a run's account-state changelog: how many messages it holds and how big the states are."""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

from healthmon.config import Settings
from healthmon.kafka.offsets import verified_end_offsets
from healthmon.kafka.security import aiokafka_kwargs

__all__ = ["ChangelogStats", "changelog_stats", "changelog_topic"]


def changelog_topic(app_id: str) -> str:
    """Return the changelog topic of the account-state table of app `app_id`."""
    return f"{app_id}-account-state-changelog"


@dataclass
class ChangelogStats:
    """Messages in the changelog and, when read, the latest state of every account."""

    messages: int
    accounts: int = 0
    state_bytes_total: int = 0
    state_bytes_max: int = 0

    @property
    def state_bytes_per_account(self) -> float:
        """Return the mean size of an account's latest state."""
        return self.state_bytes_total / self.accounts if self.accounts else 0.0


async def changelog_stats(bootstrap: str, app_id: str, *, read_states: bool) -> ChangelogStats:
    """Count the changelog's messages; with `read_states`, size the latest value of every key."""
    topic = changelog_topic(app_id)
    security = aiokafka_kwargs(Settings().kafka)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest", max_partition_fetch_bytes=8 * 1024 * 1024, **security)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return ChangelogStats(0)
        start = await consumer.beginning_offsets(tps)
        end = await verified_end_offsets(bootstrap, await consumer.end_offsets(tps), **security)
        stats = ChangelogStats(sum(end[tp] - start[tp] for tp in tps))
        if not read_states or not stats.messages:
            return stats
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        latest: dict[bytes, int] = {}
        remaining = {tp for tp in tps if end[tp] > start[tp]}
        while remaining:
            batch = await consumer.getmany(timeout_ms=1000)
            for tp, records in batch.items():
                for record in records:
                    latest[record.key] = len(record.value) if record.value is not None else 0
                if records and records[-1].offset + 1 >= end[tp]:
                    remaining.discard(tp)
        sizes = [v for v in latest.values() if v]
        stats.accounts = len(sizes)
        stats.state_bytes_total = sum(sizes)
        stats.state_bytes_max = max(sizes, default=0)
        return stats
    finally:
        await consumer.stop()
