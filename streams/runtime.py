"""Assemble a worker: settings -> policy, engine, Faust app, topics, table, agents, view, HTTP API."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable

import faust
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import IllegalStateError, KafkaError, TopicAlreadyExistsError
from aiokafka.structs import TopicPartition

from agents.engine import register_engine_agent
from agents.view import register_view_timer
from healthmon import __version__
from healthmon.core import Engine, EngineConfig, PipelineClock, Policy
from healthmon.serving.http import register_http_api
from healthmon.serving.metrics import REPARTITION_LABEL, TOPIC_LABELS, Metrics
from healthmon.serving.redis_view import RedisView
from faust.types import TP

from streams.alignment import Aligner, Backlog
from streams.app import create_app
from streams.brokerlog import BrokerErrorLimiter, attach
from streams.kafka_security import aiokafka_kwargs
from streams.processor import Processor
from streams.reachability import BrokerContact, install
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
    contact: BrokerContact


def build_worker(settings: Settings, policy: Policy, broker_url: str) -> Worker:
    """Wire a worker for `settings` and `policy` against the broker at `broker_url`."""
    app = create_app(settings, broker_url)
    topics = declare_topics(app, settings)
    table = account_state_table(app, settings)
    metrics = Metrics()
    metrics.build_info.labels(__version__, policy.version).set(1)
    view = RedisView(settings.redis_url, settings.redis_prefix, metrics,
                     max_connections=settings.redis_max_connections,
                     pool_timeout_s=settings.redis_pool_timeout_seconds, client_kwargs=redis_kwargs(settings))
    engine = Engine(policy, EngineConfig.from_settings(settings))
    clock = PipelineClock(policy, EngineConfig.from_settings(settings), backlog=backlog_probe(app, settings))
    processor = Processor(settings, engine, table, topics, metrics, view, clock,
                          tick_interval_ms=engine.tick_interval_ms, reports_pipeline=pipeline_reporter(app, settings))
    channel = app.topic(*topics.consumed, key_type=bytes, value_type=bytes, key_serializer="raw",
                        value_serializer="raw")
    aligner = Aligner(list(settings.input_topics.values()), settings.align_max_wait_ms,
                      alignment_backlog_probe(app), wall_ms=lambda: int(time.time() * 1000),
                      max_queued=settings.align_max_queued_messages,
                      pause=pause_partition(app), resume=resume_partition(app))
    labels = {name: TOPIC_LABELS[kind] for kind, name in settings.input_topics.items()}

    def count_reread(topic: str) -> None:
        metrics.partition_rereads.labels(labels.get(topic, REPARTITION_LABEL)).inc()

    register_engine_agent(app, channel, processor, aligner, stall_seconds=settings.partition_stall_seconds,
                          on_reread=count_reread)
    register_view_timer(app, processor, interval_s=1.0)

    def local_snapshot(account_id: str) -> dict | None:
        # The live state: the table lags it by up to one commit interval.
        state = processor.state_of(account_id)
        if state is None:
            return None
        return engine.snapshot(state, processor.stream_time(account_id))

    contact = install(BrokerContact(settings.broker_timeout_seconds))
    register_broker_watch(app, contact, metrics, BrokerErrorLimiter(settings.broker_log_interval_seconds))

    def broker_status() -> tuple[bool, str | None]:
        status = contact.status()
        return status.reachable, status.reason

    register_http_api(app, metrics, view, local_snapshot, broker_status,
                      api_token=settings.secret("api_token"))
    return Worker(app, topics, processor, metrics, view, contact)


def register_broker_watch(app: faust.App, contact: BrokerContact, metrics: Metrics,
                          limiter: BrokerErrorLimiter, interval_s: float = 1.0) -> None:
    """Log each change of the broker's reachability once and keep the broker gauges current."""
    limiter = attach(limiter)
    metrics.broker_unreachable.set_function(lambda: 0.0 if contact.status().reachable else 1.0)
    metrics.broker_last_contact.set_function(lambda: contact.status().last_contact_unix or 0.0)
    since: list[float] = []  # monotonic start of the outage being reported, if any

    @app.timer(interval_s, name="healthmon.broker_watch")
    async def watch_broker() -> None:
        status = contact.status()
        if not status.reachable and not since:
            since.append(time.monotonic())
            log.warning("healthmon: not ready: %s; the Kafka clients keep retrying", status.reason)
        elif status.reachable and status.answered_since_failure:
            outage = limiter.recovered()
            if since:
                log.warning("healthmon: Kafka broker answers again after %.0f s; ready%s",
                            time.monotonic() - since.pop(), f" ({outage})" if outage else "")
            elif outage:
                log.warning("healthmon: %s", outage)


def alignment_backlog_probe(app: faust.App) -> Callable[[str, int, int], Backlog]:
    """Return a function telling what the broker still holds of a topic-partition past an offset."""

    def backlog(topic: str, partition: int, received: int) -> Backlog:
        tp = TP(topic, partition)
        consumer = app.consumer
        highwater = consumer.highwater(tp)
        if highwater is None:
            return Backlog.ON_BROKER  # not fetched yet (just started or assigned): it may hold older records
        if received >= highwater - 1:
            return Backlog.NONE
        position = read_position(consumer, tp)
        # Past `received` but read by the consumer: on its way to the agent, or offsets that hold no
        # message for us (transaction markers); either way nothing more is on the broker.
        return Backlog.ON_BROKER if position is None or position < highwater else Backlog.IN_FLIGHT

    return backlog


def read_position(consumer: Any, tp: TP) -> int | None:
    """Return the offset the Kafka client will hand out next for `tp` (None: not known)."""
    client = getattr(getattr(consumer, "_thread", None), "_consumer", None)  # Faust exposes no position
    if client is None:
        return None
    try:
        state = client._subscription.subscription.assignment.state_value(tp)
    except (AttributeError, KeyError, TypeError):
        return None
    if state is None or not state.has_valid_position:
        return None
    return int(state.position)


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


def pipeline_reporter(app: faust.App, settings: Settings) -> Callable[[], bool]:
    """Return a function telling whether this worker announces stalls: the owner of usage partition 0.

    A stall of a whole input is seen by every worker, each with its own watermarks, so each would
    announce it under its own episode id. One owner at a time announces it; the others still hold back
    their accounts' activity alerts and export `healthmon_source_stale`.
    """
    reporter = TP(settings.input_topics["usage"], 0)

    def reports() -> bool:
        return reporter in app.consumer.assignment()

    return reports


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
