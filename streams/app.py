"""Build the Faust app from the settings object."""

from __future__ import annotations

import asyncio
from typing import Any

import faust
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread, credentials_to_aiokafka_auth, server_list
from faust.tables.recovery import Recovery
from faust.transport.producer import ProducerBuffer
from faust.types import TP

from healthmon.ingest.deadletter import max_record_bytes
from streams.kafka_security import faust_credentials
from streams.offsets import verified_end_offsets
from streams.settings import Settings

__all__ = ["create_app", "producer_max_request_bytes"]

#: Faust also commits after this many acked messages; set high so that the interval decides.
COMMIT_EVERY_MESSAGES = 1_000_000


_publish = ProducerBuffer._send_pending


async def _send_pending_counted(self: ProducerBuffer, fut: Any) -> None:
    """Publish one buffered message, counting it as in flight until the Kafka producer holds it."""
    self.in_flight += 1
    try:
        await _publish(self, fut)
    finally:
        self.in_flight -= 1


async def _flush_until_empty(self: ProducerBuffer) -> None:
    """Drain the producer buffer completely: queued messages and the one being published.

    Faust's own `ProducerBuffer.flush` gives up as soon as 0.1 s pass without a send, and it only
    looks at the queue: the buffer's task takes a message off the queue *before* publishing it, so a
    queue of size 0 can still hold one message back. The commit path trusts this flush (then waits
    for the Kafka producer's own buffer), and the processor saves its states right before each
    commit: offsets could be committed while the last state's changelog record was still on its way,
    and a SIGKILL then lost that state. Committing late is safe; committing early is not.
    """
    while self.size or self.in_flight:
        if self.state != "running":
            raise RuntimeError("Cannot flush: producer buffer not running")
        self.message_sent.clear()  # the buffer's task sets it after each publish
        try:
            await asyncio.wait_for(self.message_sent.wait(), timeout=1.0)
        except asyncio.TimeoutError:
            continue


_listed_highwaters = AIOKafkaConsumerThread._highwaters


async def _verified_highwaters(self: AIOKafkaConsumerThread, partitions: list[TP]) -> Any:
    """Return end offsets checked against a fetch (see `streams.offsets`): table recovery reads up to them."""
    listed = await _listed_highwaters(self, partitions)
    if self.consumer.in_transaction:
        return listed
    transport = self.transport
    conf = self.app.conf
    auth = credentials_to_aiokafka_auth(conf.broker_credentials, conf.ssl_context)  # as Faust's own clients
    verified = await verified_end_offsets(",".join(server_list(transport.url, transport.default_port)), listed,
                                          **auth)
    return {TP(tp.topic, tp.partition): end for tp, end in verified.items()}


AIOKafkaConsumerThread._highwaters = _verified_highwaters  # type: ignore[method-assign]
ProducerBuffer.in_flight = 0  # type: ignore[attr-defined]  # messages taken off the queue, not yet published
ProducerBuffer._send_pending = _send_pending_counted  # type: ignore[method-assign]
ProducerBuffer.flush = _flush_until_empty  # type: ignore[method-assign]

#: Longest a fetch waits on the broker for new data. Faust hard-codes 1.5 s; a broker that answers a
#: waiting fetch only when it expires (the embedded Tansu does) then delays every event by up to that.
FETCH_MAX_WAIT_MS = 20
_create_worker_consumer = AIOKafkaConsumerThread._create_worker_consumer


def _short_fetch_wait(self: AIOKafkaConsumerThread, transport: Any) -> Any:
    """Create Faust's consumer as usual, with `FETCH_MAX_WAIT_MS` instead of 1.5 s."""
    consumer = _create_worker_consumer(self, transport)
    consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
    return consumer


AIOKafkaConsumerThread._create_worker_consumer = _short_fetch_wait  # type: ignore[method-assign]


_on_recovery_completed = Recovery.on_recovery_completed


async def _resume_streams_last(self: Recovery, generation_id: int = 0) -> None:
    """Finish recovery as Faust does, but resume the stream partitions only once it is done.

    Faust's `on_recovery_completed` resumes the stream partitions, seeks them to their committed
    offsets (a round trip that took 1.3 s on the embedded broker) and *then* resumes the app's flow
    control, which clears every stream queue. The consumer's flow is already active at that point (it
    was resumed to read the changelogs), so messages fetched during the seek were delivered into the
    agent's queue and cleared with it: never processed, never acked, their read offsets passed. The
    partition's commit then stalled at the first of them for the rest of the process's life, and
    the state lacked them until a restart redelivered them (issue #3). Resumed last, the stream
    partitions are fetched from their committed offsets into queues that nothing clears any more.
    """
    consumer = self.app.consumer
    held: set[TP] = set()
    consumer.resume_partitions = held.update  # type: ignore[method-assign]  # recorded, applied below
    try:
        await _on_recovery_completed(self, generation_id)
    finally:
        del consumer.resume_partitions
    if held and self.app.consumer_generation_id == generation_id:
        consumer.resume_partitions(held & consumer.assignment())


Recovery.on_recovery_completed = _resume_streams_last  # type: ignore[method-assign]


_fetch_records = AIOKafkaConsumerThread._fetch_records


async def _fetch_active_only(self: AIOKafkaConsumerThread, consumer: Any, active_partitions: set[TP],
                             timeout: float | None = None, max_records: int | None = None) -> Any:
    """Fetch records of the partitions active right now, and of no other.

    Faust hands the Kafka client its live set of active partitions, and the client reads an *empty*
    set as "every assigned partition". During a rebalance the set is briefly empty while the stream
    partitions are paused: the client then returned their records, moving its position to their end,
    and Faust dropped them as not active. Nothing was delivered after that, and the commit stayed put.
    A snapshot taken here, and no fetch at all when it is empty, keeps the client's position on what
    Faust actually delivers.
    """
    partitions = set(active_partitions)
    if not partitions:
        await asyncio.sleep(min(timeout or 0.0, 0.05))
        return {}
    return await _fetch_records(self, consumer, partitions, timeout=timeout, max_records=max_records)


AIOKafkaConsumerThread._fetch_records = _fetch_active_only  # type: ignore[method-assign]


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
