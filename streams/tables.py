"""The per-account state table: one compact state blob per account, recovered from its changelog."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from typing import Any

import faust
from faust.stores.memory import Store as MemoryStore

from healthmon.config import TopicSettings

__all__ = ["AccountStateTable", "SensorFreeReads", "account_state_table", "global_tables"]

log = logging.getLogger(__name__)

#: (a changelog record's state bytes, the state held for its account or None) -> whether the record is older
Behind = Callable[[bytes, bytes | None], bool]


class AccountStateTable(faust.Table):
    """The account-state table, whose recovery keeps each account's most advanced state, not its last record.

    A worker frozen past its session keeps its partitions in its own eyes: woken up after another worker
    took them over and saved newer states, it can append its older ones before it learns that it lost
    them, and the last changelog record of an account is then an older state. Recovery (active and
    standby alike) therefore applies a record only if `behind` does not find it older than what is held.
    """

    def __init__(self, *args: Any, behind: Behind, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.behind = behind
        #: changelog records refused as older than the state held for their account, since the start
        self.refused = 0

    def apply_changelog_batch(self, batch: Iterable[Any]) -> None:
        """Apply changelog records to the store, leaving out each state older than its account's held one."""
        held: dict[Any, bytes | None] = {}
        kept = []
        for event in batch:
            key, value = event.key, event.message.value
            before = held[key] if key in held else self.data.get(key)
            if value is not None and self.behind(value, before):
                self.refused += 1
                log.warning("account-state changelog: %s at %s[%s]@%s is older than the state held; kept that",
                            key, event.message.topic, event.message.partition, event.message.offset)
                continue
            held[key] = value
            kept.append(event)
        self.data.apply_changelog_batch(kept, to_key=self._to_key, to_value=self._to_value)


def account_state_table(app: faust.App, topics: TopicSettings, behind: Behind) -> AccountStateTable:
    """Declare the account-state table (key: account_id bytes, value: state bytes).

    `use_partitioner=True` sends each changelog record to murmur2(account_id): the engine only
    processes an account on the partition murmur2 gives it (other events are repartitioned first),
    so the changelog partition always matches the input partition, and the tick sweep may write
    any local account, not only the one of the current event. `behind` orders two states of an
    account (`healthmon.core.saved_view.saved_behind`): see `AccountStateTable`.
    """
    table = AccountStateTable(
        app,
        name="account-state",
        default=None,
        beacon=app.tables.beacon,
        key_type=bytes,
        value_type=bytes,
        partitions=topics.partitions,
        use_partitioner=True,
        help="Compact per-account health state.",
        behind=behind,
    )
    app.tables.add(table)
    return table


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


class SensorFreeReads(MutableMapping[bytes, bytes]):
    """A global table whose `get` reads the in-memory store's dict itself; every other call goes to the table.

    A table's read runs Faust's `on_table_get` sensors (Faust's own counts, which healthmon does not export)
    through several frames: about 1 µs, more than the rest of resolving a Segment track's user link. Writes
    and deletes still go through the table (its changelog); the memory store keeps one dict for its life (it
    clears it in place), so reading it sees every write and every record recovered from the changelog.
    """

    def __init__(self, table: faust.GlobalTable) -> None:
        self.table = table

    def get(self, key: bytes, default: Any = None) -> Any:
        """Return the value of `key`, or `default`; the first call binds the fastest reader of the store."""
        store = self.table.data
        data = store.data if type(store) is MemoryStore else None
        reader = data.get if type(data) is dict else self.table.get
        self.get = reader  # type: ignore[method-assign, assignment]
        return reader(key, default)

    def __getitem__(self, key: bytes) -> bytes:
        return self.table[key]  # type: ignore[no-any-return]

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.table[key] = value

    def __delitem__(self, key: bytes) -> None:
        del self.table[key]

    def __contains__(self, key: object) -> bool:
        return key in self.table

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.table)

    def __len__(self) -> int:
        return len(self.table)
