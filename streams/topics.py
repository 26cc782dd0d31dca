"""Every topic healthmon reads or writes, declared once on the Faust app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import faust

from healthmon.config import TopicSettings

__all__ = ["Topics", "declare_topics", "direct_send"]


@dataclass(frozen=True)
class Topics:
    """The Faust topics of one app."""

    inputs: dict[str, faust.TopicT]       # input topic name -> topic
    repartition: faust.TopicT
    alerts: faust.TopicT
    deadletter: faust.TopicT
    scores: faust.TopicT | None           # None: HEALTHMON_SCORES_TOPIC is empty
    kind_by_name: dict[str, str]          # topic name -> input kind, or "repartition"

    @property
    def consumed(self) -> list[str]:
        """Return the names of the topics the engine agent consumes."""
        return [*(t.get_topic_name() for t in self.inputs.values()), self.repartition.get_topic_name()]


def _raw(app: faust.App, name: str, partitions: int, **kwargs: object) -> faust.TopicT:
    return app.topic(name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw",
                     partitions=partitions, **kwargs)


def declare_topics(app: faust.App, topics: TopicSettings, inputs_file: list[tuple[str, str]]) -> Topics:
    """Declare the input topics (`inputs_file`: (topic, kind) of each input), and the internal (named after
    the app's id) and output topics, on `app`."""
    n = topics.partitions
    inputs = {topic: _raw(app, topic, n) for topic, _ in inputs_file}
    repartition = _raw(app, topics.repartition_name(app.conf.id), n, internal=True)
    alerts = _raw(app, topics.alerts_name, n)
    deadletter = _raw(app, topics.deadletter_name, n)
    scores = _raw(app, topics.scores_name, n) if topics.scores else None
    kind_by_name: dict[str, str] = dict(inputs_file)
    kind_by_name[repartition.get_topic_name()] = "repartition"
    return Topics(inputs, repartition, alerts, deadletter, scores, kind_by_name)


def direct_send(app: faust.App, topic: faust.TopicT) -> Callable[[bytes, bytes], Awaitable[object]]:
    """Return a send of one keyed record of `topic` straight to the app's producer.

    The record is placed, ordered and flushed before commits as `topic.send` would (the same producer,
    partitioner and buffer), without the per-message future, callbacks, sensors and debug log of Faust's
    channel: for the health-scores records, one per account per day, that machinery cost more than the record.
    """
    name = topic.get_topic_name()

    async def send(key: bytes, value: bytes) -> object:
        return await app.producer.send(name, key, value, partition=None, timestamp=None, headers=None)

    return send
