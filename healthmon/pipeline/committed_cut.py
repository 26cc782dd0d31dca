"""Which saved states hold input past the group's committed offsets, so that a restart resumes from the commit.

The worker saves every changed state just before it commits offsets (`LiveStates.flush`), one changelog
record per account, and a SIGKILL can land while those records are on their way: some accounts are then
saved as of the commit being made, the others as of the commit before, which is where the input is read
again from. A state that has applied a message at or past its partition's committed offset is *ahead*:
its own messages are read again and found duplicates (`Engine.apply`'s positions), but its `clock_ms`
is not the stream time the other accounts of its partition resume at. Their ticks must meet the input
read again at the instants an uninterrupted run met it, so a partition's stream time resumes from the
states that are not ahead (`TickSchedule.resume`); the messages read again bring it forward.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from healthmon.core import AccountState
from healthmon.ingest import partition_for

__all__ = ["Committed", "ahead_of_commit"]

#: (topic, partition) -> the group's committed offset there, the next one it reads (None: nothing committed)
Committed = Callable[[str, int], "int | None"]


def ahead_of_commit(committed: Committed, topic_of: Mapping[str, str],
                    partitions: int) -> Callable[[str, AccountState], bool]:
    """Return whether an account's saved state has applied a message at or past its partition's committed offset.

    `topic_of` maps each key of `AccountState.positions` to the topic it counts offsets of; keys it does
    not name are left out.
    """
    def ahead(account_id: str, state: AccountState) -> bool:
        partition = partition_for(account_id, partitions)
        for key, offset in state.positions.items():
            topic = topic_of.get(key)
            if topic is None:
                continue
            done = committed(topic, partition)
            if done is None or offset >= done:
                return True
        return False

    return ahead
