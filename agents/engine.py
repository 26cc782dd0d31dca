"""The engine agent: every input topic plus the repartition topic, one message at a time."""

from __future__ import annotations

import logging

import faust

from streams.processor import Processor

__all__ = ["register_engine_agent"]

log = logging.getLogger(__name__)


def register_engine_agent(app: faust.App, channel: faust.ChannelT, processor: Processor) -> faust.types.AgentT:
    """Register the agent that feeds `channel` to `processor`."""

    @app.agent(channel, name="healthmon.engine")
    async def engine(stream: faust.StreamT) -> None:
        async for event in stream.events():
            msg = event.message
            try:
                await processor.on_message(msg.topic, msg.partition, msg.offset, msg.key, msg.value)
            except Exception as exc:  # noqa: BLE001 - Faust would ack and restart, losing the message
                log.exception("processing %s[%d]@%d failed; dead-lettering it", msg.topic, msg.partition,
                              msg.offset)
                try:
                    await processor.dead_letter_crash(msg.topic, msg.partition, msg.offset, msg.key, msg.value,
                                                      exc)
                except Exception:  # noqa: BLE001
                    log.exception("could not dead-letter %s[%d]@%d", msg.topic, msg.partition, msg.offset)

    return engine
