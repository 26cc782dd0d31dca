"""The input agent asks the aligner to release once per run of messages the consumer has handed over."""

from __future__ import annotations

import pytest

from healthmon.pipeline import ReleasePasses


@pytest.mark.parametrize(("arrivals", "passes"), [
    # (partition, more messages waiting in the stream's buffer) -> the partitions of each release pass
    ([(0, False)], [{0}]),
    ([(0, True), (1, True), (0, False)], [{0, 1}]),
    ([(0, False), (1, False)], [{0}, {1}]),
    ([(2, True), (2, True), (2, True), (3, True), (1, False)], [{2}, {3, 1}]),  # at most 3 messages a pass
    ([(0, True), (1, True)], []),  # the rest of the run is still on its way
])
def test_each_run_of_buffered_messages_is_released_in_one_pass(arrivals, passes):
    release = ReleasePasses(max_messages=3)
    taken = []
    for partition, more_waiting in arrivals:
        release.add(partition)
        if partitions := release.take(more_waiting):
            taken.append(partitions)
    assert taken == passes


def test_nothing_is_released_twice_and_nothing_is_left_once_the_buffer_is_empty():
    release = ReleasePasses(max_messages=100)
    release.add(0)
    release.add(1)
    assert release.take(more_waiting=False) == {0, 1}
    assert release.take(more_waiting=False) == set()
