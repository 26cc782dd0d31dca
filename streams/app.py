"""Build the Faust app from the settings object (the Faust patches it relies on are in `streams.faust_patches`)."""

from __future__ import annotations

import faust
from faust.types.auth import CredentialsT

from healthmon.config import KafkaSettings, Settings
from healthmon.pipeline import max_output_bytes

__all__ = ["create_app", "faust_credentials"]

#: Faust also commits after this many acked messages; set high so that the interval decides.
COMMIT_EVERY_MESSAGES = 1_000_000


def faust_credentials(kafka: KafkaSettings) -> CredentialsT | None:
    """Return Faust's `broker_credentials` for the Kafka settings (None for PLAINTEXT)."""
    protocol = kafka.security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = kafka.tls_context()
    if protocol == "SSL":
        return faust.SSLCredentials(context)
    # SASLCredentials picks SASL_SSL when given a context and SASL_PLAINTEXT otherwise.
    return faust.SASLCredentials(username=kafka.sasl_username, password=kafka.secret("sasl_password"),
                                 ssl_context=context, mechanism=kafka.sasl_mechanism)


def create_app(settings: Settings, broker_url: str) -> faust.App:
    """Return a Faust app configured from `settings`, talking to `broker_url`."""
    return faust.App(
        settings.worker.app_id,
        broker=broker_url,
        broker_credentials=faust_credentials(settings.kafka),
        store=settings.store.url,
        datadir=str(settings.store.data_dir),
        topic_partitions=settings.topics.partitions,
        topic_replication_factor=1,
        # Tansu's memory engine rejects idempotent and transactional producers.
        processing_guarantee="at_least_once",
        producer_acks=-1,
        producer_max_request_size=max_output_bytes(settings.ingest),
        consumer_auto_offset_reset="earliest",
        table_standby_replicas=settings.store.standby_replicas,
        web_enabled=True,
        web_bind=settings.http.host,
        web_host=settings.http.host,
        web_port=settings.http.port,
        web_in_thread=False,
        # Short group timeouts: a worker that was killed is replaced in seconds, not a minute.
        broker_session_timeout=10,
        broker_heartbeat_interval=2,
        broker_rebalance_timeout=10,
        # Commits follow the interval: every commit writes each changed account state once, so the
        # changelog volume is (accounts changed per interval) / (events per interval).
        broker_commit_every=COMMIT_EVERY_MESSAGES,
        broker_commit_interval=settings.worker.commit_interval_seconds,
        stream_buffer_maxsize=16_384,
        logging_config=None,
    )
