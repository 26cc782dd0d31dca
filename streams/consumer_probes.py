"""What the worker asks Faust's consumer: backlogs, positions, who reports stalls; pausing and resuming.

Faust keeps some of this private (the read offsets, the Kafka client's position); the reads of its
private fields are here and nowhere else, each returning None or a safe answer when the field is gone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import faust
from aiokafka.errors import IllegalStateError
from aiokafka.structs import TopicPartition
from faust.types import TP

from streams.alignment import Backlog
from streams.settings import Settings

__all__ = ["alignment_backlog_probe", "kafka_client", "pause_partition", "read_position", "resume_partition",
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
        if position is None or position < highwater:
            return Backlog.ON_BROKER
        # Read by the consumer past `received`. Records in the client's buffer are on their way; else the
        # offsets left hold no message for us (transaction markers, or everything before the committed
        # offset this consumer started from), or are about to show up: nothing more is on the broker.
        # (Faust's own read offset cannot tell: after an assignment it starts at the committed offset,
        # past anything this process received.)
        if client_buffers(consumer, tp):
            return Backlog.QUEUED
        return Backlog.IN_FLIGHT

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


def client_buffers(consumer: Any, tp: TP) -> bool:
    """Return whether the Kafka client holds fetched records of `tp` not yet handed to Faust."""
    client = getattr(getattr(consumer, "_thread", None), "_consumer", None)
    records = getattr(getattr(client, "_fetcher", None), "_records", None)
    try:
        return bool(records) and tp in records  # type: ignore[operator]
    except TypeError:
        return False


def kafka_client(app: faust.App) -> Any:
    """Return the Kafka client under Faust's consumer (None before it starts)."""
    return getattr(getattr(app.consumer, "_thread", None), "_consumer", None)


def pause_partition(app: faust.App) -> Callable[[str, int], None]:
    """Return a function that stops fetching a topic-partition that runs ahead of its partition's inputs.

    The pause is the Kafka client's own, not Faust's: the client drops what it had fetched for the
    partition *without* moving its position past it, so fetching resumes right after the last record it
    handed to Faust. Faust's own pause skips the rest of a batch it is delivering while the client's
    position has already passed it (those records are never delivered), and its gap tracking may then
    count them as processed.
    """

    def pause(topic: str, partition: int) -> None:
        client = kafka_client(app)
        if client is None:
            return
        log.info("alignment: pausing %s[%d] while the other inputs of its partition catch up", topic, partition)
        try:
            client.pause(TopicPartition(topic, partition))
        except IllegalStateError:  # no longer assigned: nothing to pause
            pass

    return pause


def resume_partition(app: faust.App) -> Callable[[str, int, int], bool]:
    """Return a function fetching a paused topic-partition again (from where the client stopped)."""

    def resume(topic: str, partition: int, next_offset: int) -> bool:
        client = kafka_client(app)
        if client is not None:
            try:
                client.resume(TopicPartition(topic, partition))
                log.info("alignment: resumed %s[%d] (next offset %d)", topic, partition, next_offset)
            except IllegalStateError:  # revoked meanwhile: a new assignment starts unpaused
                pass
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
