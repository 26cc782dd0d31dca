"""The producer-buffer flush that the commit path relies on (patched in `streams.app`)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from faust.transport.producer import ProducerBuffer

import streams.app  # noqa: F401 - installs the patched flush


class SlowChannel:
    """Publishes each message after a delay, like a producer waiting on metadata or a full batch."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.published: list[int] = []

    async def publish_message(self, fut: SimpleNamespace, wait: bool = False) -> None:
        await asyncio.sleep(self.delay_s)
        self.published.append(fut.n)


def _message(channel: SlowChannel, n: int) -> SimpleNamespace:
    return SimpleNamespace(n=n, message=SimpleNamespace(channel=channel))


async def test_flush_returns_only_once_every_buffered_message_is_published_including_the_one_in_flight():
    buffer = ProducerBuffer()
    buffer.app = SimpleNamespace(conf=SimpleNamespace(producer_threaded=False))
    channel = SlowChannel(delay_s=0.05)
    await buffer.start()
    try:
        for n in range(5):
            buffer.put(_message(channel, n))
        await buffer.flush()
        # The buffer's task takes a message off the queue before publishing it: a flush that only
        # watched the queue returned with the last message still unpublished.
        assert channel.published == [0, 1, 2, 3, 4]
        assert buffer.size == 0
    finally:
        await buffer.stop()


async def test_flush_of_an_empty_buffer_returns_at_once():
    buffer = ProducerBuffer()
    buffer.app = SimpleNamespace(conf=SimpleNamespace(producer_threaded=False))
    await buffer.start()
    try:
        await asyncio.wait_for(buffer.flush(), timeout=5)
        assert buffer.size == 0 and buffer.in_flight == 0
    finally:
        await buffer.stop()
