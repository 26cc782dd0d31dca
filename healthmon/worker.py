"""The worker's composition root: settings and policy in, a wired Faust app out.

It sits at the top of the layers (beside the CLI): it may import everything below it (`agents`,
`streams`, `healthmon.serving`, `healthmon.core`), and nothing below imports it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import faust

from agents.broker_watch import register_broker_watch
from agents.inputs import register_input_agent
from agents.view import register_view_timer
from healthmon import __version__
from healthmon.core import Engine, EngineConfig, PipelineClock, Policy
from healthmon.serving.http import register_http_api
from healthmon.serving.metrics import REPARTITION_LABEL, TOPIC_LABELS, Metrics
from healthmon.serving.redis_view import RedisView
from streams import faust_patches, reachability
from streams.alignment import Aligner
from streams.app import create_app
from streams.brokerlog import BrokerErrorLimiter
from streams.consumer_probes import (
    alignment_backlog_probe,
    pause_partition,
    resume_partition,
    source_backlog_probe,
    stall_reporter,
)
from streams.processor import Processor
from streams.reachability import BrokerContact
from streams.redis_security import redis_kwargs
from streams.settings import Settings
from streams.tables import account_state_table
from streams.topics import Topics, declare_topics

__all__ = ["VIEW_INTERVAL_S", "Worker", "build_worker"]

#: How often the view timer refreshes the Redis view and the gauges.
VIEW_INTERVAL_S = 1.0


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
    faust_patches.install()
    app = create_app(settings, broker_url)
    topics = declare_topics(app, settings)
    table = account_state_table(app, settings)
    metrics = Metrics()
    metrics.build_info.labels(__version__, policy.version).set(1)
    view = RedisView(settings.redis_url, settings.redis_prefix, metrics,
                     max_connections=settings.redis_max_connections,
                     pool_timeout_s=settings.redis_pool_timeout_seconds, client_kwargs=redis_kwargs(settings))
    config = EngineConfig.from_settings(settings)
    engine = Engine(policy, config)
    clock = PipelineClock(policy, config, backlog=source_backlog_probe(app, settings))
    processor = Processor(settings, engine, table, topics, metrics, view, clock,
                          tick_interval_ms=engine.tick_interval_ms, reports_stalls=stall_reporter(app, settings))
    channel = app.topic(*topics.consumed, key_type=bytes, value_type=bytes, key_serializer="raw",
                        value_serializer="raw")
    aligner = Aligner(list(settings.input_topics.values()), settings.align_max_wait_ms,
                      alignment_backlog_probe(app), wall_ms=lambda: int(time.time() * 1000),
                      max_queued=settings.align_max_queued_messages,
                      pause=pause_partition(app), resume=resume_partition(app))
    labels = {name: TOPIC_LABELS[kind] for kind, name in settings.input_topics.items()}

    def count_reread(topic: str) -> None:
        metrics.partition_rereads.labels(labels.get(topic, REPARTITION_LABEL)).inc()

    contact = reachability.install(BrokerContact(settings.broker_timeout_seconds))
    register_input_agent(app, channel, processor, aligner, stall_seconds=settings.partition_stall_seconds,
                         on_reread=count_reread, broker_reachable=lambda: contact.status().reachable)
    register_view_timer(app, processor.view_refresh, processor.states.saved_accounts,
                        inputs=set(topics.kind_by_name), partitions=settings.partitions,
                        max_accounts=max(1, int(settings.view_accounts_per_second * VIEW_INTERVAL_S)),
                        interval_s=VIEW_INTERVAL_S)

    def local_snapshot(account_id: str) -> dict[str, Any] | None:
        # The live state: the table lags it by up to one commit interval.
        state = processor.state_of(account_id)
        if state is None:
            return None
        return engine.snapshot(state, processor.stream_time(account_id))

    register_broker_watch(app, contact, metrics, BrokerErrorLimiter(settings.broker_log_interval_seconds))

    def broker_status() -> tuple[bool, str | None]:
        status = contact.status()
        return status.reachable, status.reason

    register_http_api(app, metrics, view, local_snapshot, broker_status,
                      api_token=settings.secret("api_token"))
    return Worker(app, topics, processor, metrics, view, contact)
