"""The fetcher's delivery of a message runs in place, and is still raced against a flow stop when it waits."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from faust.transport.consumer import Consumer

from healthmon.kafka.offsets import verified_end_offsets
from streams import faust_patches


@pytest.fixture(autouse=True)
def _installed() -> None:
    faust_patches.install(verified_end_offsets)


def _consumer() -> Any:
    """The parts of Faust's consumer that its `wait_first` reads (a `mode` Service's events and loop)."""
    return SimpleNamespace(_stopped=asyncio.Event(), _crashed=asyncio.Event(), suspend_flow=asyncio.Event(),
                           loop=asyncio.get_running_loop())


async def _deliver(consumer: Any, delivery: Any) -> Any:
    # as Faust's fetcher (`Consumer._drain_messages`) calls it, once per message
    return await Consumer.wait_first(consumer, delivery, consumer.suspend_flow.wait())


async def test_a_fetched_batch_is_in_the_stream_buffer_before_the_agent_takes_its_first_message():
    consumer, buffer = _consumer(), asyncio.Queue()
    seen_behind_first: list[int] = []

    async def agent() -> None:
        await buffer.get()
        seen_behind_first.append(buffer.qsize())

    async def put(message: int) -> None:
        buffer.put_nowait(message)

    task = asyncio.create_task(agent())
    await asyncio.sleep(0)  # the agent waits on the empty buffer
    for message in range(5):
        await _deliver(consumer, put(message))
    await task
    assert seen_behind_first == [4]


async def test_a_delivery_that_does_not_wait_returns_its_result():
    async def put() -> str:
        return "put"

    results = await _deliver(_consumer(), put())
    assert (results.results, results.stopped) == (["put"], False)


async def test_a_delivery_that_waits_returns_once_it_is_done():
    consumer, room = _consumer(), asyncio.Event()

    async def put_when_room() -> str:
        await room.wait()
        return "put"

    waiting = asyncio.create_task(_deliver(consumer, put_when_room()))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    room.set()
    assert (await waiting).results == ["put"]


async def test_a_delivery_that_waits_is_abandoned_when_the_flow_is_suspended():
    consumer, cancelled = _consumer(), asyncio.Event()

    async def put_into_a_full_buffer() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    waiting = asyncio.create_task(_deliver(consumer, put_into_a_full_buffer()))
    await asyncio.sleep(0.01)
    consumer.suspend_flow.set()  # a rebalance: Faust's fetcher moves on
    await asyncio.wait_for(waiting, 5)
    await asyncio.wait_for(cancelled.wait(), 5)


async def test_a_delivery_that_fails_raises_in_the_fetcher():
    async def put() -> None:
        raise ValueError("decode")

    with pytest.raises(ValueError, match="decode"):
        await _deliver(_consumer(), put())
