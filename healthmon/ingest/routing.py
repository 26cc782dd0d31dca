"""Which partition owns an account: the same murmur2 partitioner Kafka's Java client and aiokafka use."""

from __future__ import annotations

from functools import lru_cache

from aiokafka.partitioner import murmur2

__all__ = ["partition_for"]


@lru_cache(maxsize=262_144)
def partition_for(account_id: str, partitions: int) -> int:
    """Return the partition of `account_id` among `partitions` (murmur2, positive, modulo)."""
    return (murmur2(account_id.encode()) & 0x7FFFFFFF) % partitions
