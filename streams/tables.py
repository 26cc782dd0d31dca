"""The per-account state table: one compact state blob per account, recovered from its changelog."""

from __future__ import annotations

import faust

from healthmon.config import TopicSettings

__all__ = ["account_state_table"]


def account_state_table(app: faust.App, topics: TopicSettings) -> faust.Table:
    """Declare the account-state table (key: account_id bytes, value: state bytes).

    `use_partitioner=True` sends each changelog record to murmur2(account_id): the engine only
    processes an account on the partition murmur2 gives it (other events are repartitioned first),
    so the changelog partition always matches the input partition, and the tick sweep may write
    any local account, not only the one of the current event.
    """
    return app.Table(
        "account-state",
        default=None,
        key_type=bytes,
        value_type=bytes,
        partitions=topics.partitions,
        use_partitioner=True,
        help="Compact per-account health state.",
    )
