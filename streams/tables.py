"""The per-account state table: one compact state blob per account, recovered from its changelog."""

from __future__ import annotations

import faust

from healthmon.config import TopicSettings

__all__ = ["account_state_table", "global_tables"]


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


def global_tables(app: faust.App, topics: TopicSettings) -> tuple[faust.GlobalTable, faust.GlobalTable]:
    """Declare the link table and the traits table, which every worker reads whole (keys and values are bytes).

    Their changelogs are `<app_id>-links-changelog` and `<app_id>-traits-changelog`: named by the application,
    so that two deployments on one cluster keep their own. `use_partitioner=True` lets any worker write
    any key, from a timer as well as from a message. With `use_partitioner`, Faust makes every changelog
    partition both active and standby on every worker, and applies what it reads of an active one in
    batches of `recovery_buffer_size` (1,000 by default): another worker's link stayed unknown here until
    999 more had been written. `recovery_buffer_size=1` applies each as it is read.
    """
    links = app.GlobalTable("links", default=None, key_type=bytes, value_type=bytes, partitions=topics.partitions,
                            use_partitioner=True, recovery_buffer_size=1,
                            help="Account links: link name and key -> account id.")
    traits = app.GlobalTable("traits", default=None, key_type=bytes, value_type=bytes, partitions=topics.partitions,
                             use_partitioner=True, recovery_buffer_size=1,
                             help="Each account's merged profile traits (partial updates).")
    return links, traits
