"""What the aligner queues and what it knows of an input it has nothing queued of (healthmon.pipeline.alignment)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Backlog", "NO_EVENT_TIME", "Pending"]

#: The merge key of a message that carries no event time (a profile, a message with no valid event):
#: nothing is older, so it never waits, and it goes ahead of the events queued with it.
NO_EVENT_TIME = -1


class Backlog(enum.IntEnum):
    """What a topic-partition with no queued message may still deliver."""

    #: everything on the broker has been received
    NONE = 0
    #: the consumer has read up to the high watermark, and none of what it read is seen on its way: the
    #: offsets left hold no message for us (transaction markers), or the messages are about to show up
    IN_FLIGHT = 1
    #: the broker holds messages the consumer has not read yet (or nothing is known yet)
    ON_BROKER = 2
    #: messages the consumer read are in the Kafka client's buffer, on their way to the agent: they come
    #: however long the consumer is held up (a commit that waits on a paused broker)
    QUEUED = 3
    #: everything the broker announced has been received, but its last answer for this topic-partition
    #: came before the waiting message arrived: a record older than that message may have reached the
    #: broker since (inputs written by separate producers, or by one producer's separate requests)
    UNCONFIRMED = 4


@dataclass(slots=True)
class Pending:
    """A message waiting for its turn; `event_time` is its merge key (epoch ms)."""

    topic: str
    partition: int
    offset: int
    event_time: int
    arrived_ms: int
    payload: Any = field(default=None, repr=False)
