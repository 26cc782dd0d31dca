"""What the worker asks Faust's consumer: backlogs, positions, who reports stalls; pausing and resuming.

Faust keeps some of this private (the read offsets, the Kafka client's position); the reads of its
private fields are here and nowhere else, each returning None or a safe answer when the field is gone.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

import faust
from faust.types import TP

from streams.alignment import Backlog
from streams.settings import Settings

__all__ = ["alignment_backlog_probe", "pause_partition", "read_position", "resume_unless_rebalancing",
           "source_backlog_probe", "stall_reporter"]

log = logging.getLogger(__name__)


def alignment_backlog_probe(app: faust.App) -> Callable[[str, int, int], Backlog]:
    """Return a function telling what the broker still holds of a topic-partition past an offset."""

    def backlog(topic: str, partition: int, received: int) -> Backlog:
        tp = TP(topic, partition)
        consumer = app.consumer
        highwater = consumer.highwater(tp)
        if highwater is None:
            return Backlog.ON_BROKER  # not fetched yet (just started or assigned): it may hold older records
        if received >= highwater - 1:
            return Backlog.NONE
        position = read_position(consumer, tp)
        # Past `received` but read by the consumer: on its way to the agent, or offsets that hold no
        # message for us (transaction markers); either way nothing more is on the broker.
        return Backlog.ON_BROKER if position is None or position < highwater else Backlog.IN_FLIGHT

    return backlog


def read_position(consumer: Any, tp: TP) -> int | None:
    """Return the offset the Kafka client will hand out next for `tp` (None: not known)."""
    client = getattr(getattr(consumer, "_thread", None), "_consumer", None)  # Faust exposes no sync position
    if client is None:
        return None
    try:
        state = client._subscription.subscription.assignment.state_value(tp)
    except (AttributeError, KeyError, TypeError):
        return None
    if state is None or not state.has_valid_position:
        return None
    return int(state.position)


def pause_partition(app: faust.App) -> Callable[[str, int], None]:
    """Return a function that stops fetching a topic-partition that runs ahead of its partition's inputs."""

    def pause(topic: str, partition: int) -> None:
        log.info("alignment: pausing %s[%d] while the other inputs of its partition catch up", topic, partition)
        app.consumer.pause_partitions({TP(topic, partition)})

    return pause


def resume_unless_rebalancing(app: faust.App) -> Callable[[str, int, int], bool]:
    """Return a function fetching a paused topic-partition again from an offset, unless a rebalance runs."""

    def resume(topic: str, partition: int, next_offset: int) -> bool:
        tp = TP(topic, partition)
        consumer = app.consumer
        # During a rebalance Faust pauses and resumes partitions itself (table recovery): try again later.
        if app.rebalancing:
            log.info("alignment: not resuming %s[%d] during a rebalance", topic, partition)
            return False
        if tp not in consumer.assignment():
            return True

        async def seek_then_resume() -> None:
            # Faust drops the records it had fetched for a partition once it is paused, and the client's
            # position is already past them: without the seek they would never be delivered.
            await consumer.seek(tp, next_offset)
            consumer.resume_partitions({tp})
            log.info("alignment: resumed %s[%d] from offset %d", topic, partition, next_offset)

        asyncio.ensure_future(seek_then_resume())
        return True

    return resume


def stall_reporter(app: faust.App, settings: Settings) -> Callable[[], bool]:
    """Return a function telling whether this worker announces stalls: the owner of usage partition 0.

    A stall of a whole input is seen by every worker, each with its own watermarks, so each would
    announce it under its own episode id. One owner at a time announces it; the others still hold back
    their accounts' activity alerts and export `healthmon_source_stale`.
    """
    reporter = TP(settings.input_topics["usage"], 0)

    def reports() -> bool:
        return reporter in app.consumer.assignment()

    return reports


def source_backlog_probe(app: faust.App, settings: Settings) -> Callable[[str], bool]:
    """Return a function telling whether an input source still has unread messages on this worker."""
    topics = settings.input_topics

    def has_backlog(source: str) -> bool:
        consumer = app.consumer
        name = topics[source]
        for tp in consumer.assignment():
            if tp.topic != name:
                continue
            highwater = consumer.highwater(tp)
            read = consumer._read_offset.get(tp)  # Faust keeps no public read position
            if highwater and (read is None or read < highwater - 1):
                return True
        return False

    return has_backlog
