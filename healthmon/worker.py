"""The worker's composition root: settings and policy in, a wired Faust app out.

It sits at the top of the layers (beside the CLI): it may import everything below it (`agents`,
`streams`, `healthmon.pipeline`, `healthmon.kafka`, `healthmon.serving`, `healthmon.core`), and
nothing below imports it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import faust

from agents.broker_watch import register_broker_watch
from agents.input_growth import register_input_poll
from agents.inputs import register_input_agent
from agents.view import ViewCheck, register_view_timer
from healthmon import __version__
from healthmon.config import Settings
from healthmon.core import Engine, EngineConfig, PipelineClock, Policy
from healthmon.core.saved_view import saved_behind
from healthmon.ingest.inputs import NATIVE, InputsFile, inputs_or_default
from healthmon.kafka.broker_watch import BrokerWatch, watch_broker
from healthmon.kafka.connect import bootstrap_of
from healthmon.kafka.input_growth import InputGrowth, InputPoller
from healthmon.kafka.offsets import verified_end_offsets
from healthmon.kafka.security import aiokafka_kwargs
from healthmon.pipeline import Aligner, MovedMerge, Pace, Processor, RepartitionPacks
from healthmon.serving.account_series import AccountSeries
from healthmon.serving.http import register_http_api
from healthmon.serving.metrics import REPARTITION_LABEL, TOPIC_LABELS, Metrics
from healthmon.serving.redis_clients import redis_kwargs
from healthmon.serving.redis_view import RedisView
from streams import faust_patches
from streams.app import create_app
from streams.consumer_probes import (
    alignment_backlog_probe,
    fetch_time_probe,
    pause_partition,
    resume_partition,
    source_backlog_probe,
    stall_reporter,
)
from streams.pace_exchange import PaceExchange, register_pace_exchange
from streams.rereads import PartitionRereads
from streams.tables import SensorFreeReads, account_state_table, global_tables
from streams.topics import Topics, declare_topics, direct_send

__all__ = ["VIEW_INTERVAL_S", "Worker", "build_worker", "worker_inputs"]

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
    watch: BrokerWatch


def worker_inputs(settings: Settings) -> InputsFile:
    """Return the inputs `HEALTHMON_INPUTS_FILE` lists, or the four topics; raise `InputsError` naming each error."""
    return inputs_or_default(settings.ingest.inputs_file, settings.topics.input_names)


def build_worker(settings: Settings, policy: Policy, broker_url: str, inputs: InputsFile | None = None) -> Worker:
    """Wire a worker for `settings` and `policy` against the broker at `broker_url`.

    `inputs` are the topics it reads (`worker_inputs(settings)` when not given: a broken inputs file raises
    `InputsError` here, before anything starts).
    """
    inputs = inputs if inputs is not None else worker_inputs(settings)
    faust_patches.install(verified_end_offsets)
    app = create_app(settings, broker_url)
    topics = declare_topics(app, settings.topics, [(spec.topic, spec.kind) for spec in inputs.inputs])
    table = account_state_table(app, settings.topics, behind=saved_behind)
    # Only mapped inputs link accounts or send traits: today's native topics need no global tables.
    links, traits = (None, None) if inputs.native else global_tables(app, settings.topics)
    metrics = Metrics(account_series=AccountSeries(settings.http.account_metrics, settings.http.account_metrics_max))
    metrics.build_info.labels(__version__, policy.version).set(1)
    redis = settings.redis
    view = RedisView(redis.url, redis.prefix, metrics, max_connections=redis.max_connections,
                     pool_timeout_s=redis.pool_timeout_seconds, client_kwargs=redis_kwargs(redis))
    # Every account is evaluated at least daily: the view shows a state's health as of its latest evaluation
    # (`core.saved_view`), which skipping quiet days (`core.quiet`, for replays) would leave behind.
    config = replace(EngineConfig.from_settings(settings.engine, score_records=bool(settings.topics.scores)),
                     skip_quiet=False)
    engine = Engine(policy, config)
    by_kind = {kind: [s.topic for s in inputs.inputs if s.kind == kind] for kind in settings.topics.input_names}
    growth = InputGrowth(idle_ms=int(settings.engine.stall_idle_seconds * 1000),
                         wall_ms=lambda: int(time.time() * 1000))
    poller = InputPoller(bootstrap_of(broker_url), settings.worker.app_id, [s.topic for s in inputs.inputs],
                         settings.topics.partitions, growth, aiokafka_kwargs(settings.kafka))
    clock = PipelineClock(policy, config, backlog=source_backlog_probe(app, by_kind, growth.stopped))
    packs = RepartitionPacks()
    processor = Processor(settings, engine, table, topics, metrics, view, clock,
                          tick_interval_ms=engine.tick_interval_ms,
                          reports_stalls=stall_reporter(app, inputs.inputs[0].topic), inputs=inputs,
                          links=SensorFreeReads(links) if links is not None else None, traits=traits, packs=packs)
    if topics.scores is not None:
        processor.outputs.send_score = direct_send(app, topics.scores)
    channel = app.topic(*topics.consumed, key_type=bytes, value_type=bytes, key_serializer="raw",
                        value_serializer="raw")
    # The inputs not keyed by account (the mapped formats) hold every account on every partition: paced.
    alignment = settings.alignment
    paced = [s.topic for s in inputs.inputs if s.format != NATIVE or alignment.pace_native_inputs]
    n = settings.topics.partitions
    unknown_wait_ms = int(alignment.pace_unknown_wait_seconds * 1000)
    pace = Pace({topic: n for topic in paced}, alignment.pace_drift_ms(settings.engine.lateness_seconds),
                unknown_wait_ms, moved={topics.repartition.get_topic_name(): n})
    # Their events moved to their account's partition are merged there by event time (pacing bounds the wait),
    # unless HEALTHMON_MERGE_MOVED_EVENTS is off.
    merge = MovedMerge(topics.repartition.get_topic_name(), {topic: n for topic in paced}, engine.tick_interval_ms,
                       unknown_wait_ms) if pace.partitions and alignment.merge_moved_events else None
    aligner = Aligner([spec.topic for spec in inputs.inputs], alignment.max_wait_ms,
                      alignment_backlog_probe(app), wall_ms=lambda: int(time.time() * 1000),
                      max_queued=alignment.max_queued_messages, pause=pause_partition(app),
                      resume=resume_partition(app), fetched_ms=fetch_time_probe(app),
                      gates=[spec.topic for spec in inputs.inputs
                             if spec.kind == "account" and spec.topic in processor.mapped.mappers],
                      partitions=n, pace=pace if pace.partitions else None, merge=merge)
    labels = {spec.topic: TOPIC_LABELS[spec.kind] for spec in inputs.inputs}

    def count_reread(topic: str) -> None:
        metrics.partition_rereads.labels(labels.get(topic, REPARTITION_LABEL)).inc()

    def count_gave_up(topic: str) -> None:
        metrics.pace_gave_up.labels(labels.get(topic, REPARTITION_LABEL)).inc()

    if pace.partitions:
        if merge is not None:  # the marks are for receivers that merge moved events; with the merge off, none
            packs.marks = lambda: pace.marks(aligner.owned)
            packs.interval_ms, packs.partitions = engine.tick_interval_ms, n
        processor.outputs.on_moved = lambda partition, event_time: pace.moved(partition, event_time,
                                                                             int(time.time() * 1000))
        exchange = PaceExchange(app, aligner, pace, settings.topics.pace_name(settings.worker.app_id),
                                bootstrap_of(broker_url), n, aiokafka_kwargs(settings.kafka))
        register_pace_exchange(app, exchange, gave_up=count_gave_up)
    watch = watch_broker(settings.kafka.broker_timeout_seconds, settings.kafka.broker_log_interval_seconds)
    rereads = PartitionRereads(app, set(channel.topics), settings.worker.stuck_partition_seconds, aligner,
                               on_reread=count_reread, broker_reachable=lambda: watch.status().reachable)
    register_input_agent(app, channel, processor, aligner, rereads)
    register_view_timer(app, processor.view_refresh, processor.states.saved_accounts,
                        inputs=set(topics.kind_by_name), partitions=settings.topics.partitions,
                        max_accounts=max(1, int(settings.worker.view_accounts_per_second * VIEW_INTERVAL_S)),
                        interval_s=VIEW_INTERVAL_S,
                        check=ViewCheck(settings.worker.view_check_seconds, processor.saved_view, metrics))

    def local_snapshot(account_id: str) -> dict[str, Any] | None:
        # The live state (the table lags it by up to one commit interval), shown as the view shows it.
        found = processor.saved_view(account_id)
        return None if found is None else found[0]

    register_broker_watch(app, watch, metrics)
    register_input_poll(app, poller, metrics, labels)

    def broker_status() -> tuple[bool, str | None]:
        status = watch.status()
        return status.reachable, status.reason

    def local_history(account_id: str) -> bytes | None:
        state = processor.state_of(account_id)
        return None if state is None else state.history

    register_http_api(app, metrics, view, local_snapshot, broker_status,
                      api_token=settings.http.secret("api_token"), local_history=local_history,
                      history_days=settings.engine.history_days)
    return Worker(app, topics, processor, metrics, view, watch)
