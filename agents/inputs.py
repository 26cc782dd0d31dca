"""The input agent: every input topic plus the repartition topic, merged per partition by event time.

Acks are manual: a message is acked only once the processor has handled it, so a message that waits
in the aligner is never committed early, and a crash redelivers it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import Any

import faust
from faust.types import TP

from healthmon.pipeline import NO_EVENT_TIME, Aligner, Inbound, Moved, Pending, Processor, ReleasePasses
from streams import faust_patches
from streams.hooks import SaveStatesBeforeCommit
from streams.rereads import PartitionRereads

__all__ = ["register_input_agent"]

log = logging.getLogger(__name__)

#: A partition that waits this long for a lagging input is logged (once per wait).
BLOCKED_LOG_MS = 30_000
#: How often held events look for their account link in the link table (written by any worker).
LINK_CHECK_S = 0.5
#: At most this many messages are queued in the aligner before it is asked to release (see `ReleasePasses`).
RELEASE_EVERY_MESSAGES = 256


def _headers(headers: Any) -> list[tuple[str, bytes | None]] | None:
    """Return a message's headers as (name, value) pairs (Faust gives a list of pairs or a dict)."""
    if not headers:
        return None
    return list(headers.items()) if isinstance(headers, dict) else list(headers)


def register_input_agent(app: faust.App, channel: faust.ChannelT, processor: Processor, aligner: Aligner,
                         rereads: PartitionRereads) -> faust.types.AgentT:
    """Register the agent that feeds `channel` to `processor` in aligned order, and its hooks and timers."""
    app.sensors.add(SaveStatesBeforeCommit(processor))
    lock = asyncio.Lock()
    acker: dict[str, faust.StreamT] = {}

    def let_go() -> list[Any]:
        held = aligner.close()
        log.info("alignment: let go of %d held message(s) for a rebalance or a stop", len(held))
        # Messages whose events wait for an account link: not processed, read again by the next owner.
        waiting = processor.let_go_held()
        if waiting:
            log.info("links: let go of %d message(s) waiting for an account link", len(waiting))
        return [item.payload[0].message for item in held] + [event.message for event in waiting]

    async def ack(inbound: Inbound) -> None:
        event, inbound.ack_token = inbound.ack_token, None
        if event is not None:
            await acker["stream"].ack(event)

    processor.on_done = ack
    repartition = processor.topics.repartition.get_topic_name()
    processor.owns = lambda partition: (repartition, partition) in aligner.owned
    # Faust reads the group's committed offsets at each assignment (and updates them at each commit).
    processor.committed = lambda topic, partition: app.consumer._committed_offset.get(TP(topic, partition))

    faust_patches.let_go_before_wait_empty(app, let_go)

    @app.on_partitions_revoked.connect
    async def forget_states(app: faust.App, revoked: Any, **kwargs: Any) -> None:
        # Another worker may own these accounts now, and recovery may bring newer states back.
        processor.forget_states()
        await processor.flush_repartition()
        aligner.owned -= {(tp.topic, tp.partition) for tp in revoked}
        aligner.drop_partitions({tp.partition for tp in revoked})
        rereads.reset()

    @app.on_partitions_assigned.connect
    async def hold_again(app: faust.App, assigned: Any, **kwargs: Any) -> None:
        log.info("alignment: holding messages again (%d partitions assigned)", len(assigned))
        aligner.owned = {(tp.topic, tp.partition) for tp in assigned}
        aligner.reopen()
        rereads.reset()

    async def handle_moved(event: Any, moved: Moved) -> None:
        try:
            await processor.process_moved(moved, moved.pack.item.payload[1].now_ms)
        except Exception as exc:  # noqa: BLE001 - as `handle`: dead-lettered at its input position
            log.exception("processing an entry of %s[%d]@%d failed; dead-lettering it", event.message.topic,
                          moved.partition, moved.pack.offset)
            try:
                await processor.dead_letter_moved(moved, event.message.key, exc)
            except Exception:  # noqa: BLE001
                log.exception("could not dead-letter an entry of %s[%d]@%d", event.message.topic, moved.partition,
                              moved.pack.offset)
        finally:
            if moved.done():  # the message's last entry: nothing of it is held or in hand any more
                await acker["stream"].ack(event)

    async def handle(item: Pending) -> None:
        event, inbound = item.payload
        if isinstance(inbound, Moved):
            await handle_moved(event, inbound)
            return
        msg = event.message
        waits = False
        try:
            if isinstance(inbound, Exception):
                raise inbound  # decoding failed: dead-lettered here, in its turn
            inbound.ack_token = event
            await processor.process(inbound)
            # events held for their account link: acked by `processor.on_done` once none waits
            waits = inbound.holds > 0
        except Exception as exc:  # noqa: BLE001 - Faust would ack and restart, losing the message
            log.exception("processing %s[%d]@%d failed; dead-lettering it", msg.topic, msg.partition, msg.offset)
            try:
                await processor.dead_letter_crash(msg.topic, msg.partition, msg.offset, msg.key, msg.value, exc)
            except Exception:  # noqa: BLE001
                log.exception("could not dead-letter %s[%d]@%d", msg.topic, msg.partition, msg.offset)
        finally:
            # An un-acked message would pin its partition's committed offset for good.
            if not waits:
                if isinstance(inbound, Inbound):
                    inbound.ack_token = None
                await acker["stream"].ack(event)

    async def drain(partitions: Iterable[int] | None) -> None:
        async with lock:
            if partitions is None:
                released = aligner.release(None)
            else:
                released = [item for partition in partitions for item in aligner.release(partition)]
            for n, item in enumerate(released):
                try:
                    await handle(item)
                except BaseException:
                    # Whatever stopped us, the rest go back to the front of their queues, not to oblivion.
                    aligner.requeue(released[n + 1:])
                    raise
            if released:
                aligner.processed()
                if aligner.merge is not None:
                    await processor.send_marks()  # the partitions waiting for these marks need not wait the timer

    @app.agent(channel, name="healthmon.inputs")
    async def inputs(stream: faust.StreamT) -> None:
        manual = stream.noack()
        acker["stream"] = manual
        passes = ReleasePasses(RELEASE_EVERY_MESSAGES)
        more_waiting = manual.channel.empty
        async for event in manual.events():
            msg = event.message
            try:
                decoded = processor.decode(msg.topic, msg.partition, msg.offset, msg.key, msg.value,
                                           _headers(msg.headers))
                inbound: Inbound | Exception = decoded
                event_time = decoded.event_time
            except Exception as exc:  # noqa: BLE001 - dead-lettered in order, by `handle`
                inbound, event_time = exc, NO_EVENT_TIME
            item = Pending(msg.topic, msg.partition, msg.offset, event_time, int(time.time() * 1000), (event, inbound))
            if aligner.merge is not None and isinstance(inbound, Inbound) and inbound.repartitioned is not None \
                    and not aligner.closed:
                # Its entries are held in the merge, each released in its turn; acked once all are processed.
                if not aligner.add_moved(item, *processor.moved_entries(inbound.repartitioned, inbound.marks or [])):
                    await acker["stream"].ack(event)  # marks alone
            elif not aligner.add(item):
                # Closed for a revoke or a stop: not processed, not acked, read again by the next owner.
                faust_patches.forget_unacked(app, msg)
                continue
            passes.add(msg.partition)
            partitions = passes.take(more_waiting=not more_waiting())
            if partitions:
                await drain(partitions)

    @app.timer(LINK_CHECK_S, name="healthmon.link_wait")
    async def check_links() -> None:
        # Held events whose link another worker wrote, and those whose wait ended.
        if "stream" in acker:
            async with lock:
                await processor.check_links()

    @app.timer(rereads.interval_s, name="healthmon.stuck_partitions")
    async def reread_stuck() -> None:
        await rereads.check()

    @app.timer(0.05, name="healthmon.align")
    async def release_waiting() -> None:
        # A message waiting for a caught-up partner topic is released after the aligner's max wait.
        if len(aligner) and "stream" in acker:
            await drain(None)
        # Moved events wait in packs at most this long (or until a pack is full, or the next commit).
        await processor.flush_repartition()
        for partition, topic, backlog, waited in aligner.long_waits(int(time.time() * 1000), BLOCKED_LOG_MS):
            log.warning("alignment: partition %d has waited %.0f s for %s (%s); queued: %d message(s)",
                        partition, waited / 1000, topic, backlog.name.lower(), len(aligner))
        for (topic, partition), waited in aligner.gave_up.items():
            # offsets with no message for us (transaction markers), a client that held them back, or a broker
            # that did not answer a fetch since
            log.info("alignment: partition %d stopped waiting for %s after %d ms: read to its end by the "
                     "consumer, not delivered or not confirmed by a later fetch", partition, topic, waited)
        aligner.gave_up.clear()
        for (topic, partition), count in aligner.behind.items():
            log.info("alignment: partition %d released %d message(s) of %s behind a newer message of another "
                     "input (they reached the worker after it)", partition, count, topic)
        aligner.behind.clear()
        if aligner.merge is not None:
            for (partition, topic, source), waited in aligner.merge.gave_up.items():
                log.warning("alignment: partition %d stopped waiting for the marks of %s[%d] after %d ms (no worker "
                            "wrote any); its moved events may come late", partition, topic, source, waited)
            aligner.merge.gave_up.clear()

    return inputs
