"""`healthmon alertmanager`: consume the alerts topic, keep the firing set, push every change to every Alertmanager.

Delivery model (Prometheus' notifier, made lossless):
- every change is POSTed to each Alertmanager's `/api/v2/alerts`, retried with backoff until each accepted it;
  only then are the records' offsets committed in the bridge's own consumer group;
- firing alerts are re-sent every `alertmanager_resend_seconds` with `endsAt` four intervals ahead, so
  Alertmanager keeps them firing until healthmon resolves them, and an Alertmanager that restarted (it keeps
  alerts in memory only) learns them again;
- on start the bridge reads the topic from the beginning to rebuild the firing set. Records below the
  committed offsets were delivered: they only rebuild state. Above them, resolves are delivered; firing
  alerts are delivered only if still firing at the end of the replay (history never pages). A group with no
  committed offset (a new bridge) delivers only what is firing.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
from aiohttp import web
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from aiokafka.structs import TopicPartition
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError

from healthmon.alerting.firing import FiringSet
from healthmon.alerting.mapping import LinkTemplates, alert_labels
from healthmon.alerting.metrics import BridgeMetrics
from healthmon.alerting.push import BACKOFF_FIRST_S, BACKOFF_MAX_S, Pusher
from healthmon.alerting.quiet import RepeatLog
from healthmon.kafka.offsets import verified_end_offsets
from schemas.alert import Alert

__all__ = ["BridgeConfig", "Bridge", "decode", "make_consumer"]

log = logging.getLogger("healthmon.alerting")

HTTP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class BridgeConfig:
    """What one bridge process needs: where from, where to, how often, and its own HTTP endpoint."""

    bootstrap: str
    topic: str
    group_id: str
    urls: tuple[str, ...]
    resend_s: float
    links: LinkTemplates
    host: str
    port: int
    #: SASL and TLS options of every Kafka client (`healthmon.kafka.security.aiokafka_kwargs`)
    kafka_security: dict[str, Any] = field(default_factory=dict)


def make_consumer(bootstrap: str, group_id: str, security: dict[str, Any] | None = None) -> AIOKafkaConsumer:
    """Build the bridge's Kafka consumer with the shared client options (SASL, TLS)."""
    return AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False,
                            auto_offset_reset="earliest", request_timeout_ms=10_000, **(security or {}))


def decode(value: bytes | None) -> dict[str, Any]:
    """Return the alert in a record, checked against the alert contract; raise ValueError if it is not one."""
    try:
        alert = orjson.loads(value or b"")
        Alert.model_validate(alert)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(map(str, first["loc"])) or "(record)"
        raise ValueError(f"{exc.error_count()} schema error(s), first: {where}: {first['msg']}") from None
    return alert


class Bridge:
    """One bridge process: the consumer, the firing set, the pusher and the /metrics endpoint."""

    def __init__(self, config: BridgeConfig, metrics: BridgeMetrics | None = None) -> None:
        self.config = config
        self.metrics = metrics or BridgeMetrics()
        self.firing = FiringSet()
        self.ready = False
        self._lock = asyncio.Lock()  # one push at a time: a re-send must never overtake a resolve
        self._kafka = RepeatLog(log, f"Kafka at {config.bootstrap}")
        self.pusher: Pusher | None = None

    async def run(self) -> None:
        """Serve /metrics, rebuild the firing set, then deliver changes and re-send until cancelled."""
        runner = await self._serve()
        timeout = aiohttp.ClientTimeout(total=HTTP_TIMEOUT_S)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                self.pusher = Pusher(self.config.urls, self.config.resend_s, self.config.links, session,
                                     self.metrics)
                consumer = await self._connect()
                resender: asyncio.Task | None = None
                try:
                    partitions = await self._partitions(consumer)
                    consumer.assign(partitions)
                    await self._rebuild(consumer, partitions)
                    self.ready = True
                    resender = asyncio.create_task(self._resend())
                    await self._consume(consumer)
                finally:
                    if resender is not None:
                        resender.cancel()
                    await _quietly(consumer.stop())
        finally:
            await _quietly(runner.cleanup())

    async def _serve(self) -> web.AppRunner:
        async def metrics(_: web.Request) -> web.Response:
            return web.Response(body=generate_latest(self.metrics.registry),
                                headers={"Content-Type": CONTENT_TYPE_LATEST})

        async def healthz(_: web.Request) -> web.Response:
            return web.json_response({"status": "ok", "ready": self.ready, "firing": len(self.firing)})

        app = web.Application()
        app.router.add_get("/metrics", metrics)
        app.router.add_get("/healthz", healthz)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, self.config.host, self.config.port).start()
        return runner

    async def _connect(self) -> AIOKafkaConsumer:
        delay = BACKOFF_FIRST_S
        while True:
            consumer = make_consumer(self.config.bootstrap, self.config.group_id, self.config.kafka_security)
            try:
                await consumer.start()
                self._kafka.success()
                return consumer
            except (KafkaError, OSError) as exc:
                await _quietly(consumer.stop())
                self._kafka.failure(f"cannot connect ({type(exc).__name__}: {exc})")
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX_S)

    async def _partitions(self, consumer: AIOKafkaConsumer) -> list[TopicPartition]:
        waiting = RepeatLog(log, f"topic {self.config.topic}")
        while True:
            try:
                await consumer.topics()  # refreshes the metadata
            except KafkaError as exc:
                self._kafka.failure(exc)
            ids = consumer.partitions_for_topic(self.config.topic)
            if ids:
                waiting.success()
                return [TopicPartition(self.config.topic, p) for p in sorted(ids)]
            waiting.failure("does not exist yet; waiting for the workers to create it")
            await asyncio.sleep(1.0)

    async def _rebuild(self, consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> None:
        committed = {tp: await consumer.committed(tp) for tp in partitions}
        # Tansu's ListOffsets can fall short of the true end; the fetch high watermark cannot
        listed = await consumer.end_offsets(partitions)
        end = {tp: int(e or 0) for tp, e in (await verified_end_offsets(self.config.bootstrap, listed,
                                                                   **self.config.kafka_security)).items()}
        # a group that never committed is a new bridge: what resolved before it existed stays in the record
        delivered = {tp: end[tp] if committed[tp] is None else committed[tp] for tp in partitions}
        resolves: dict[tuple[str, str], dict[str, Any]] = {}
        await consumer.seek_to_beginning(*partitions)
        remaining = {tp for tp in partitions if end[tp] > 0}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, records in batch.items():
                for record in records:
                    if record.offset >= end[tp]:
                        break
                    for change in self._apply(record):
                        if record.offset >= delivered[tp] and change["status"] == "resolved":
                            resolves[(change["dedup_key"], orjson.dumps(alert_labels(change)).decode())] = change
                if records and records[-1].offset + 1 >= end[tp]:
                    remaining.discard(tp)
        for tp in partitions:
            consumer.seek(tp, end[tp])
        firing = self.firing.firing()
        still = {(a["dedup_key"], orjson.dumps(alert_labels(a)).decode()) for a in firing}
        todo = firing + [a for key, a in resolves.items() if key not in still]
        log.info("rebuilt %d firing alerts from %s; delivering them and %d undelivered resolves",
                    len(firing), self.config.topic, len(todo) - len(firing))
        await self._deliver(consumer, todo, {tp: end[tp] for tp in partitions if end[tp] > (committed[tp] or 0)})

    def _apply(self, record: Any) -> list[dict[str, Any]]:
        try:
            alert = decode(record.value)
        except ValueError as exc:
            self.metrics.invalid.inc()
            log.error("skipping a record that is not an alert at %s[%d]@%d: %s", record.topic, record.partition,
                      record.offset, exc)
            return []
        changes = self.firing.apply(alert)
        self.metrics.firing.set(len(self.firing))
        return changes

    async def _consume(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            try:
                batch = await consumer.getmany(timeout_ms=1000)
            except KafkaError as exc:
                self._kafka.failure(exc)
                await asyncio.sleep(1.0)
                continue
            changes: list[dict[str, Any]] = []
            offsets = {}
            for tp, records in batch.items():
                for record in records:
                    changes.extend(self._apply(record))
                if records:
                    offsets[tp] = records[-1].offset + 1
            await self._deliver(consumer, changes, offsets)

    async def _deliver(self, consumer: AIOKafkaConsumer, alerts: list[dict[str, Any]],
                       offsets: dict[TopicPartition, int]) -> None:
        """Push `alerts` until every Alertmanager took them, then commit `offsets`."""
        assert self.pusher is not None
        if alerts:
            async with self._lock:
                await self.pusher.push(alerts, retry=True)
        if offsets:
            try:
                await consumer.commit(offsets)
                self._kafka.success()
            except KafkaError as exc:
                # the next commit covers these offsets; a restart before it re-delivers, which is idempotent
                self._kafka.failure(f"commit failed ({type(exc).__name__}: {exc})")

    async def _resend(self) -> None:
        assert self.pusher is not None
        while True:
            try:
                await asyncio.wait_for(self.pusher.recovered.wait(), self.config.resend_s)
            except TimeoutError:
                pass
            self.pusher.recovered.clear()
            async with self._lock:
                # an empty list too: a heartbeat that keeps the last-success time honest
                await self.pusher.push(self.firing.firing(), retry=False)


async def _quietly(awaitable: Any, timeout_s: float = 5.0) -> None:
    try:
        await asyncio.wait_for(awaitable, timeout_s)
    except (TimeoutError, KafkaError, OSError):
        pass
