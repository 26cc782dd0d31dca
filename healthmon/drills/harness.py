"""Real parts for the drills: a private pausable broker, one consumer group per run, its outputs read back.

With `formats` a run sends its records in those sources' shapes (`healthmon generate --format`'s names) to
the example inputs file's topics, and its workers read them through an inputs file written for the run, as
`healthmon demo --format` does. Each run shapes its records in the order it sends them, so every run of one
input sends the same messages.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

from healthmon.bench.children import Child, settings_env, worker_command
from healthmon.config import Settings
from healthmon.core import Engine, load_policy, state_from_bytes
from healthmon.demo import demo_shapes
from healthmon.drills.views import SettledView
from healthmon.generator import Record, Traffic
from healthmon.generator.formats import Message, RecordShaper
from healthmon.kafka.admin import ensure_topics
from healthmon.kafka.broker import EmbeddedBroker, free_port
from healthmon.kafka.changelog import changelog_topic, read_saved_states
from healthmon.kafka.connect import bootstrap_of
from healthmon.kafka.security import aiokafka_kwargs
from healthmon.pipeline import REREAD_LOG_MARK
from healthmon.produce import produce, produce_messages

__all__ = ["Broker", "Run", "RunOutputs", "read_topic"]


class Broker:
    """The embedded broker, started for the drills alone so that pausing it disturbs nothing else."""

    def __init__(self, workdir: Path) -> None:
        self.embedded = EmbeddedBroker(log_path=workdir / "broker.log")

    def __enter__(self) -> Broker:
        self.embedded.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.resume()
        self.embedded.stop()

    @property
    def url(self) -> str:
        """Return the broker's Kafka URL."""
        return self.embedded.url

    def pause(self) -> None:
        """Freeze the broker process (SIGSTOP): connections stay open, nothing answers."""
        assert self.embedded.proc is not None
        os.kill(self.embedded.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """Let a frozen broker go on (SIGCONT)."""
        if self.embedded.proc is not None and self.embedded.proc.poll() is None:
            os.kill(self.embedded.proc.pid, signal.SIGCONT)


@dataclass
class RunOutputs:
    """What a run left on its output topics and in its table."""

    alerts: list[dict[str, Any]]
    dead_letters: Counter
    #: account -> score, band and metrics as of the end of the traffic
    health: dict[str, dict[str, Any]]
    #: the dead letters themselves (poison checks look at their source positions)
    dead_letter_records: list[dict[str, Any]] = field(default_factory=list)
    #: every account's view over HTTP once settled, and its saved state's snapshot
    view: SettledView | None = None


class Run:
    """One consumer group on its own copy of the input topics, with worker processes to fault."""

    def __init__(self, broker: Broker, redis_url: str, workdir: Path, name: str, *, traffic: Traffic | None = None,
                 formats: Sequence[str] = (), keyed: bool = False, **sections: dict[str, Any]) -> None:
        run_id = f"{name}-{uuid.uuid4().hex[:6]}"
        self.name = name
        self.workdir = workdir
        self.settings = Settings(
            kafka={"broker_url": broker.url}, redis={"url": redis_url, "prefix": f"drill-{run_id}:"},
            topics={"prefix": f"{run_id}-"}, store={"data_dir": workdir / run_id},
            worker={"app_id": f"drill-{run_id}", "commit_interval_seconds": 2.0, "log_level": "info"},
        ).replace(**sections)
        #: the topics the run's workers read
        self.input_topics = list(self.settings.topics.input_names.values())
        #: with `formats`: shapes the run's records in the order they are sent
        self.shaper: RecordShaper | None = None
        #: shaped messages the source sends without a key (Segment's default) are keyed by their account
        self.keyed = keyed
        if formats:
            if traffic is None:
                raise ValueError("a run in sources' shapes needs the traffic its records come from")
            (workdir / run_id).mkdir(parents=True, exist_ok=True)
            shapes = demo_shapes(list(formats), self.settings.topics.prefix, workdir / run_id)
            self.settings = self.settings.replace(ingest={"inputs_file": str(shapes.inputs_file)})
            self.input_topics = shapes.topics
            self.shaper = RecordShaper(traffic, shapes.plan, shapes.topic_map, self.settings.topics.input_names)
        self.messages = 0
        self.workers: list[Child] = []

    @property
    def bootstrap(self) -> str:
        """Return `host:port` of the broker."""
        return bootstrap_of(self.settings.kafka.broker_url)

    async def create_topics(self) -> None:
        """Create the run's topics (inputs, outputs, internal)."""
        await ensure_topics(self.bootstrap, self.settings.topics, self.settings.kafka,
                            inputs=self.input_topics if self.shaper is not None else None,
                            app_id=self.settings.worker.app_id)

    async def send(self, records: list[Record]) -> int:
        """Send generated records to the run's inputs, one event per message (in their shapes with `formats`);
        return the event count."""
        if self.shaper is not None:
            stats = await produce_messages(self.settings, self.settings.kafka.broker_url, self.shaped(records))
            self.messages += stats.messages
            return len(records)
        stats = await produce(self.settings, self.settings.kafka.broker_url, records)
        self.messages += stats.messages
        return stats.events

    def shaped(self, records: list[Record]) -> list[Message]:
        """Return the messages of `records` in the run's shapes (shaped in call order: send them in that order)."""
        assert self.shaper is not None, "a run without formats sends records as they are"
        return [replace(m, key=record.key.encode()) if self.keyed and m.key is None else m
                for record in records for m in self.shaper(record)]

    async def send_raw(self, kind: str, values: list[bytes], key: bytes | None) -> None:
        """Send raw messages (poison) to the native input topic of `kind`."""
        if self.shaper is not None:
            raise ValueError("poison messages are healthmon's own shape: run the poison drill without --format")
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, enable_idempotence=False, acks=1,
                                    max_request_size=8 * 1024 * 1024, **aiokafka_kwargs(self.settings.kafka))
        await producer.start()
        try:
            for value in values:
                await producer.send_and_wait(self.settings.topics.input_names[kind], value, key=key)
                self.messages += 1
        finally:
            await producer.stop()

    def start_worker(self) -> Child:
        """Start one more `healthmon worker` of this run's group and wait until it is ready."""
        port = free_port()
        env = settings_env(self.settings.replace(http={"port": port}))
        worker = Child(worker_command(), env, self.workdir / f"{self.name}-worker-{len(self.workers)}.log", port)
        self.workers.append(worker)
        worker.wait_ready()
        return worker

    def processed(self) -> float:
        """Return the events counted by the run's live workers (redelivered ones count again)."""
        return sum(w.events_total() for w in self.workers if w.alive())

    def wait_processed(self, count: float, timeout_s: float = 300.0) -> None:
        """Block until the live workers have counted `count` events."""
        deadline = time.monotonic() + timeout_s
        while self.processed() < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name}: {self.processed():.0f} of {count:.0f} events processed")
            time.sleep(0.1)

    async def committed(self) -> int:
        """Return the sum of the group's committed offsets on the input topics."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=self.settings.worker.app_id,
                                    enable_auto_commit=False, **aiokafka_kwargs(self.settings.kafka))
        await consumer.start()
        try:
            offsets = [await consumer.committed(TopicPartition(t, p)) for t in self.input_topics
                       for p in range(self.settings.topics.partitions)]
        finally:
            await consumer.stop()
        return sum(o for o in offsets if o)

    async def wait_committed(self, timeout_s: float = 600.0) -> float:
        """Block until every input message is committed; return when that happened (monotonic)."""
        deadline = time.monotonic() + timeout_s
        while True:
            done = await self.committed()
            if done >= self.messages:
                return time.monotonic()
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name}: {done} of {self.messages} input offsets committed\n"
                                   + "\n".join(w.log_tail(20) for w in self.workers))
            await asyncio.sleep(0.2)

    def link_waits(self) -> Counter[str]:
        """Return the events the live workers held for an account link, by how the wait ended (their metrics)."""
        from prometheus_client.parser import text_string_to_metric_families

        out: Counter[str] = Counter()
        for worker in self.workers:
            status, body = worker.get("/metrics") if worker.alive() else (0, b"")
            if status == 200:
                for family in text_string_to_metric_families(body.decode()):
                    if family.name == "healthmon_link_waits":
                        for sample in family.samples:
                            if sample.name.endswith("_total") and sample.value:
                                out[sample.labels["outcome"]] += int(sample.value)
        return out

    def stuck_rereads(self) -> int:
        """Return how many stuck partitions the run's workers read again (their logs say so)."""
        return sum(w.log_path.read_text(errors="replace").count(REREAD_LOG_MARK) for w in self.workers
                   if w.log_path.exists())

    def stop(self) -> list[int | None]:
        """SIGTERM every worker still running; return their exit codes."""
        return [w.stop(timeout_s=30) for w in self.workers if w.alive()]

    async def saved_states(self) -> dict[str, bytes]:
        """Return account -> its saved state, read from the changelog as table recovery does."""
        return await read_saved_states(self.bootstrap, changelog_topic(self.settings.worker.app_id),
                                       aiokafka_kwargs(self.settings.kafka))

    async def outputs(self, traffic: Traffic, view: SettledView | None = None) -> RunOutputs:
        """Read the run's alerts, dead letters and saved states (`view`: what users read, read before the stop)."""
        settings = self.settings
        alerts = [orjson.loads(r.value) for r in await self._read(settings.topics.alerts_name)]
        letters = [orjson.loads(r.value) for r in await self._read(settings.topics.deadletter_name)]
        states = await self.saved_states()
        engine = Engine(load_policy(settings.engine.policy_file))
        health = {}
        for account, raw in states.items():
            snap = engine.snapshot(state_from_bytes(raw), traffic.end_ms)
            health[account] = {"score": snap["score"], "band": snap["band"], "metrics": snap["metrics"]}
        return RunOutputs(alerts, Counter(d["reason"] for d in letters), health, letters, view)

    async def _read(self, topic: str) -> list[Any]:
        return await read_topic(topic, bootstrap_servers=self.bootstrap, fetch_max_bytes=16 * 1024 * 1024,
                                max_partition_fetch_bytes=8 * 1024 * 1024, **aiokafka_kwargs(self.settings.kafka))


async def read_topic(topic: str, *, min_count: int = 0, settle_s: float = 2.0, timeout_s: float = 120.0,
                     **consumer_options: Any) -> list[Any]:
    """Read `topic` from its start until `min_count` records arrived and `settle_s` passed quietly."""
    consumer = AIOKafkaConsumer(topic, group_id=f"read-{uuid.uuid4().hex}", auto_offset_reset="earliest",
                                enable_auto_commit=False, **consumer_options)
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = time.monotonic() + timeout_s
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            got = [r for rs in batch.values() for r in rs]
            if got:
                records.extend(got)
                quiet_since = time.monotonic()
            elif len(records) >= min_count and time.monotonic() - quiet_since >= settle_s:
                break
    finally:
        await consumer.stop()
    return records
