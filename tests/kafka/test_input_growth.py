"""A source is stalled only on the broker's word: its topic stopped growing; a lagging consumer is lag."""

from __future__ import annotations

import pytest

from healthmon.kafka.input_growth import InputGrowth, InputPoller

IDLE_MS = 10_000


class Wall:
    def __init__(self) -> None:
        self.ms = 1_000_000

    def __call__(self) -> int:
        return self.ms


def test_a_topic_that_keeps_growing_is_never_stopped_however_far_behind_we_are():
    wall = Wall()
    growth = InputGrowth(IDLE_MS, wall)
    for n in range(20):
        growth.record({"tickets": 100 + n, "usage": 1000 + 50 * n}, {"tickets": 3, "usage": 900})
        wall.ms += 2_000
        assert not growth.stopped("tickets")
    assert growth.lag == {"tickets": 119 - 3, "usage": 1950 - 900}


def test_a_topic_that_stood_still_for_the_idle_time_has_stopped():
    wall = Wall()
    growth = InputGrowth(IDLE_MS, wall)
    for n in range(8):
        growth.record({"tickets": 100, "usage": 1000 + 50 * n}, {"tickets": 100, "usage": 1000})
        if n < 5:
            assert not growth.stopped("tickets"), n
        wall.ms += 2_000
    growth.record({"tickets": 100, "usage": 2000}, {})
    assert growth.stopped("tickets") and not growth.stopped("usage")
    growth.record({"tickets": 101, "usage": 2000}, {})
    assert not growth.stopped("tickets")


def test_without_a_recent_poll_nothing_is_known_to_have_stopped():
    wall = Wall()
    growth = InputGrowth(IDLE_MS, wall)
    assert not growth.stopped("tickets")  # never polled
    growth.record({"tickets": 100}, {})
    wall.ms += 60_000  # the broker stopped answering: the last poll is old
    assert not growth.stopped("tickets")


@pytest.mark.integration
async def test_the_poller_reads_end_offsets_and_the_groups_lag(topic_io, settings_factory):
    from healthmon.kafka.admin import ensure_topics
    from healthmon.kafka.security import aiokafka_kwargs

    settings = settings_factory()
    await ensure_topics(topic_io.bootstrap, settings.topics, settings.kafka)
    tickets = settings.topics.input_names["ticket"]
    await topic_io.send(tickets, [b"{}"] * 7, key=b"acc-1")
    growth = InputGrowth(IDLE_MS, Wall())
    poller = InputPoller(topic_io.bootstrap, settings.worker.app_id, list(settings.topics.input_names.values()),
                         settings.topics.partitions, growth, aiokafka_kwargs(settings.kafka))
    try:
        assert await poller.poll()
    finally:
        await poller.close()
    assert growth.sizes[tickets][0] == 7 and growth.lag[tickets] == 7  # nothing committed by the group yet
