"""Assemble a worker: settings -> policy, engine, Faust app, topics, table, agents, view, HTTP API."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Callable

import faust
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from agents.engine import register_engine_agent
from agents.view import register_view_timer
from healthmon import __version__
from healthmon.core import Engine, EngineConfig, PipelineClock, Policy
from healthmon.serving.http import register_http_api
from healthmon.serving.metrics import Metrics
from healthmon.serving.redis_view import RedisView
from faust.types import TP

from streams.alignment import Aligner
from streams.app import create_app
from streams.kafka_security import aiokafka_kwargs
from streams.processor import Processor
from streams.redis_security import redis_kwargs
from streams.settings import Settings
from streams.tables import account_state_table
from streams.topics import Topics, declare_topics

__all__ = ["Worker", "build_worker", "ensure_topics"]

log = logging.getLogger(__name__)


@dataclass
class Worker:
    """Everything one worker process runs."""

    app: faust.App
    topics: Topics
    processor: Processor
    metrics: Metrics
    view: RedisView


def build_worker(settings: Settings, policy: Policy, broker_url: str) -> Worker:
    """Wire a worker for `settings` and `policy` against the broker at `broker_url`."""
    app = create_app(settings, broker_url)
    topics = declare_topics(app, settings)
    table = account_state_table(app, settings)
    metrics = Metrics()
    metrics.build_info.labels(__version__, policy.version).set(1)
    view = RedisView(settings.redis_url, settings.redis_prefix, metrics, client_kwargs=redis_kwargs(settings))
    engine = Engine(policy, EngineConfig.from_settings(settings))
    clock = PipelineClock(policy, EngineConfig.from_settings(settings), backlog=backlog_probe(app, settings))
    processor = Processor(settings, engine, table, topics, metrics, view, clock,
                          tick_interval_ms=engine.tick_interval_ms)
    channel = app.topic(*topics.consumed, key_type=bytes, value_type=bytes, key_serializer="raw",
                        value_serializer="raw")
    aligner = Aligner(list(settings.input_topics.values()), settings.align_max_wait_ms,
                      alignment_backlog_probe(app), wall_ms=lambda: int(time.time() * 1000))
    register_engine_agent(app, channel, processor, aligner)
    register_view_timer(app, processor, interval_s=1.0)

    def local_snapshot(account_id: str) -> dict | None:
        # The live state: the table lags it by up to one commit interval.
        state = processor.state_of(account_id)
        if state is None:
            return None
        return engine.snapshot(state, processor.stream_time(account_id))

    register_http_api(app, metrics, view, local_snapshot, api_token=settings.secret("api_token"))
    return Worker(app, topics, processor, metrics, view)


def alignment_backlog_probe(app: faust.App) -> Callable[[str, int, int], bool]:
    """Return a function telling whether the broker holds messages of a topic-partition past an offset."""

    def has_backlog(topic: str, partition: int, received: int) -> bool:
        highwater = app.consumer.highwater(TP(topic, partition))
        if highwater is None:
            return True  # not fetched yet (just started or assigned): it may hold older records
        return received < highwater - 1

    return has_backlog


def backlog_probe(app: faust.App, settings: Settings) -> Callable[[str], bool]:
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
