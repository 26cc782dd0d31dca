"""Build the Faust app from the settings object (the Faust patches it relies on are in `streams.faust_patches`)."""

from __future__ import annotations

import faust

from healthmon.ingest.deadletter import max_record_bytes
from streams.kafka_security import faust_credentials
from streams.settings import Settings

__all__ = ["create_app", "producer_max_request_bytes"]

#: Faust also commits after this many acked messages; set high so that the interval decides.
COMMIT_EVERY_MESSAGES = 1_000_000


def producer_max_request_bytes(settings: Settings) -> int:
    """Return the producer's request limit: room for any dead letter and any repartitioned message.

    A repartition message re-encodes up to one input message's events (at most `max_message_bytes`
    of input, somewhat more once re-encoded); a dead letter is bounded by `max_record_bytes`. The
    broker's own limit (`message.max.bytes`) must allow as much for those messages to be written.
    """
    return max(1_048_576, 2 * settings.max_message_bytes, max_record_bytes(settings.deadletter_max_raw_bytes))


def create_app(settings: Settings, broker_url: str) -> faust.App:
    """Return a Faust app configured from `settings`, talking to `broker_url`."""
    return faust.App(
        settings.app_id,
        broker=broker_url,
        broker_credentials=faust_credentials(settings),
        store=settings.store,
        datadir=str(settings.data_dir),
        topic_partitions=settings.partitions,
        topic_replication_factor=1,
        # Tansu's memory engine rejects idempotent and transactional producers.
        processing_guarantee="at_least_once",
        producer_acks=-1,
        producer_max_request_size=producer_max_request_bytes(settings),
        consumer_auto_offset_reset="earliest",
        table_standby_replicas=0,
        web_enabled=True,
        web_bind=settings.web_host,
        web_host=settings.web_host,
        web_port=settings.web_port,
        web_in_thread=False,
        # Short group timeouts: a worker that was killed is replaced in seconds, not a minute.
        broker_session_timeout=10,
        broker_heartbeat_interval=2,
        broker_rebalance_timeout=10,
        # Commits follow the interval: every commit writes each changed account state once, so the
        # changelog volume is (accounts changed per interval) / (events per interval).
        broker_commit_every=COMMIT_EVERY_MESSAGES,
        broker_commit_interval=settings.commit_interval_seconds,
        stream_buffer_maxsize=16_384,
        logging_config=None,
    )
