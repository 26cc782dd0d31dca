"""What the worker asks Faust's consumer (backlogs, positions, partition progress); pausing and resuming.

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

from healthmon.pipeline import Backlog, PartitionProgress

__all__ = ["alignment_backlog_probe", "describe", "fetch_time_probe", "kafka_client", "partition_progress",
           "pause_partition", "read_position", "resume_partition", "source_backlog_probe", "stall_reporter"]

log = logging.getLogger(__name__)


def alignment_backlog_probe(app: faust.App) -> Callable[[str, int, int], Backlog]:
    """Return a function telling what the broker still holds of a topic-partition past an offset."""

    def backlog(topic: str, partition: int, received: int) -> Backlog:
        tp = TP(topic, partition)
        consumer = app.consumer
        highwater = consumer.highwater(tp)
        if highwater is None:
            return Backlog.ON_BROKER  # not fetched yet (just started or assigned): it may hold older records
        # The group's committed offset (the next to read, as Faust keeps it after a seek or a commit): the
        # messages before it are never delivered again, whoever processed them.
        committed = consumer._committed_offset.get(tp)
        if committed:
            received = max(received, committed - 1)
        if received >= highwater - 1:
            return Backlog.NONE
        position = read_position(consumer, tp)
        if position is None or position < highwater:
            return Backlog.ON_BROKER
        # Read by the consumer past `received`. Records in the client's buffer are on their way, and so are
        # those Faust has handed to the agent's stream (its read offset passed `received`); else the offsets
        # left hold no message for us (transaction markers), or Faust is about to hand them over: nothing
        # more is on the broker. Right after a seek Faust's read offset is the committed offset itself (the
        # next to read, not one read), so equal to it, it tells nothing.
        if client_buffers(consumer, tp):
            return Backlog.QUEUED
        read = consumer._read_offset.get(tp)
        if read is not None and read > received and read != committed:
            return Backlog.QUEUED
        return Backlog.IN_FLIGHT

    return backlog


def fetch_time_probe(app: faust.App) -> Callable[[str, int], int | None]:
    """Return a function telling when (epoch ms) the broker last answered a fetch of a topic-partition (None: not
    known): the high watermark the backlog probe compares with is as of that answer."""

    def fetched_ms(topic: str, partition: int) -> int | None:
        client = kafka_client(app)
        if client is None:
            return None
        try:
            state = client._subscription.subscription.assignment.state_value(TopicPartition(topic, partition))
        except (AttributeError, KeyError, TypeError):
            return None
        stamp = getattr(state, "timestamp", None)
        return stamp if isinstance(stamp, int) else None

    return fetched_ms


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


def stall_reporter(app: faust.App, first_input: str) -> Callable[[], bool]:
    """Return a function telling whether this worker announces stalls: the owner of partition 0 of the first input.

    A stall of a whole input is seen by every worker, each with its own watermarks, so each would
    announce it under its own episode id. One owner at a time announces it; the others still hold back
    their accounts' activity alerts and export `healthmon_source_stale`.
    """
    reporter = TP(first_input, 0)

    def reports() -> bool:
        return reporter in app.consumer.assignment()

    return reports


def source_backlog_probe(app: faust.App, topics_by_kind: dict[str, list[str]],
                         stopped: Callable[[str], bool] = lambda topic: True) -> Callable[[str], bool]:
    """Return a function telling whether an input source (a kind: any of its topics) still has input for us:
    unread messages on this worker, or a topic that the broker says still grows (`stopped(topic)` False: a
    consumer of ours lags or froze, which is consumer lag, not a stalled source)."""
    names = {kind: frozenset(topics) for kind, topics in topics_by_kind.items()}

    def has_backlog(source: str) -> bool:
        wanted = names.get(source, frozenset())
        if not all(stopped(topic) for topic in wanted):
            return True
        consumer = app.consumer
        for tp in consumer.assignment():
            if tp.topic not in wanted:
                continue
            highwater = consumer.highwater(tp)
            read = consumer._read_offset.get(tp)  # Faust keeps no public read position
            if highwater and (read is None or read < highwater - 1):
                return True
        return False

    return has_backlog


def partition_progress(consumer: Any, topics: set[str]) -> list[PartitionProgress]:
    """Read what a Faust consumer knows of each topic-partition of `topics` it owns."""
    unacked: dict[Any, list[int]] = {}
    for message in list(consumer._unacked_messages):  # Faust has no public view of these
        if message.topic in topics:
            unacked.setdefault(message.tp, []).append(message.offset)
    rows = []
    active = consumer._get_active_partitions()
    for tp in consumer.assignment():
        if tp.topic not in topics:
            continue
        acked = consumer._acked.get(tp)
        first_acked = min(acked) if acked else None
        # Only a message below the first acked offset can move the committed offset: one above it that
        # is in flight does not help a hole below (a message delivered that nobody will ack).
        in_flight = sum(1 for offset in unacked.get(tp, ()) if first_acked is None or offset < first_acked)
        committed = consumer._committed_offset.get(tp) or 0
        # Faust's next commit moves past acked offsets that follow the committed one (it lets one offset
        # between them go, a transaction marker, and checks nothing before a first commit), so those are
        # no hole, only not committed yet.
        commit_due = first_acked is not None and (not committed or first_acked - committed <= 1)
        # Records the client fetched wait for Faust's next poll, which comes only once every record of its
        # last poll (a whole catch-up fetch of every input partition) is in the stream's buffer: no hole.
        fetched = tp in active and client_buffers(consumer, tp)
        rows.append(PartitionProgress(tp, committed, consumer.highwater(tp), in_flight, commit_due, fetched))
    return rows


def describe(consumer: Any, tp: Any) -> str:
    """Return what the consumer knows of `tp`, for the log line of a stuck partition."""
    acked = consumer._acked.get(tp) or []
    active = tp in consumer._get_active_partitions()
    return (f"read up to {consumer._read_offset.get(tp)}, {len(acked)} acked past the commit "
            f"(first {min(acked) if acked else None}), {'fetching' if active else 'not fetching'}; "
            f"Kafka client: {_client_view(consumer, tp)}")


def _client_view(consumer: Any, tp: Any) -> str:
    client = getattr(getattr(consumer, "_thread", None), "_consumer", None)
    try:
        state = client._subscription.subscription.assignment.state_value(tp)  # type: ignore[union-attr]
        fetcher = client._fetcher  # type: ignore[union-attr]
    except (AttributeError, KeyError, TypeError):
        return "unknown"
    if state is None:
        return "not assigned"
    position = state.position if state.has_valid_position else None
    buffered = type(fetcher._records.get(tp)).__name__ if tp in fetcher._records else None
    return (f"position {position}, paused {state.paused}, awaiting reset {state.awaiting_reset}, "
            f"buffered {buffered}, fetch tasks {len(getattr(fetcher, '_pending_tasks', ()) or ())}")
