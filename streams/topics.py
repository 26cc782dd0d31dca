"""Every topic healthmon reads or writes, declared once."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import faust
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from streams.kafka_security import aiokafka_kwargs
from streams.settings import Settings

__all__ = ["Topics", "declare_topics", "ensure_topics"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Topics:
    """The Faust topics of one app."""

    inputs: dict[str, faust.TopicT]       # input kind -> topic
    repartition: faust.TopicT
    alerts: faust.TopicT
    deadletter: faust.TopicT
    kind_by_name: dict[str, str]          # topic name -> input kind, or "repartition"

    @property
    def consumed(self) -> list[str]:
        """Return the names of the topics the engine agent consumes."""
        return [*(t.get_topic_name() for t in self.inputs.values()), self.repartition.get_topic_name()]


def _raw(app: faust.App, name: str, partitions: int, **kwargs: object) -> faust.TopicT:
    return app.topic(name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw",
                     partitions=partitions, **kwargs)


def declare_topics(app: faust.App, settings: Settings) -> Topics:
    """Declare the input, internal and output topics on `app`."""
    n = settings.partitions
    inputs = {kind: _raw(app, name, n) for kind, name in settings.input_topics.items()}
    repartition = _raw(app, settings.topic(settings.repartition_topic), n, internal=True)
    alerts = _raw(app, settings.topic(settings.alerts_topic), n)
    deadletter = _raw(app, settings.topic(settings.deadletter_topic), n)
    kind_by_name = {t.get_topic_name(): kind for kind, t in inputs.items()}
    kind_by_name[repartition.get_topic_name()] = "repartition"
    return Topics(inputs, repartition, alerts, deadletter, kind_by_name)


async def ensure_topics(bootstrap: str, settings: Settings, timeout_s: float = 15.0) -> None:
    """Create every topic healthmon uses with `settings.partitions` partitions, if missing."""
    names = [*settings.input_topics.values(), settings.topic(settings.repartition_topic),
             settings.topic(settings.alerts_topic), settings.topic(settings.deadletter_topic)]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000),
                                **aiokafka_kwargs(settings))
    await asyncio.wait_for(admin.start(), timeout_s)
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        if missing:
            configs = {settings.input_topics["account"]: {"cleanup.policy": "compact"}}
            try:
                await admin.create_topics([NewTopic(n, settings.partitions, 1, topic_configs=configs.get(n, {}))
                                           for n in missing])
            except TopicAlreadyExistsError:
                pass
            except KafkaError as exc:
                log.warning("creating topics %s: %s", missing, exc)
    finally:
        await admin.close()
