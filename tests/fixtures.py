"""Real-parts test fixtures: a Kafka broker, Redis, worker processes and topic I/O helpers."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

from healthmon.demo import spawn_worker, stop_process
from healthmon.drills.harness import read_topic
from healthmon.kafka.broker import free_port
from healthmon.kafka.connect import bootstrap_of

__all__ = ["WorkerProcess", "TopicIO", "isolated_settings", "merge_sections", "unique_id"]


DAY_MS = 86_400_000
#: Test histories end a day before this fixed instant (2026-09-02T00:00:00Z), not before "now": evaluations
#: fall on day boundaries, so a history ending at the wall clock changes the alerts with the hour of the run.
END_MS = 1_788_307_200_000

def unique_id(prefix: str = "t") -> str:
    """Return a short unique id for topic prefixes and consumer groups."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def merge_sections(*layers: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Return the settings sections of `layers` merged field by field, the last layer winning."""
    merged: dict[str, dict[str, Any]] = {}
    for layer in layers:
        for section, fields in layer.items():
            merged.setdefault(section, {}).update(fields)
    return merged


def isolated_settings(broker_url: str, redis_url: str, data_dir: Path, prefix: str = "t",
                      **sections: dict[str, Any]) -> Any:
    """Return Settings whose topics, app id, Redis keys and web port no other test shares.

    `sections` change fields of settings sections: `isolated_settings(..., kafka={"security_protocol": "SSL"})`.
    """
    from healthmon.config import Settings

    run_id = unique_id(prefix)
    isolated = {"kafka": {"broker_url": broker_url}, "redis": {"url": redis_url, "prefix": f"hm-{run_id}:"},
                "worker": {"app_id": f"healthmon-{run_id}"}, "topics": {"prefix": f"{run_id}-"},
                "http": {"port": free_port()}, "store": {"data_dir": data_dir}}
    return Settings(**merge_sections(isolated, sections))


@dataclass
class WorkerProcess:
    """A real `healthmon worker` child process."""

    env: dict[str, str]
    log_path: Path
    port: int
    proc: subprocess.Popen | None = None
    starts: int = 0

    def start(self) -> WorkerProcess:
        """Spawn the worker."""
        self.starts += 1
        self.proc = spawn_worker(self.env, self.log_path)
        return self

    def url(self, path: str) -> str:
        """Return the URL of `path` on the worker's HTTP API."""
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path: str) -> tuple[int, Any]:
        """GET `path` and return (status, decoded JSON or text)."""
        try:
            with urllib.request.urlopen(self.url(path), timeout=5) as resp:
                body = resp.read()
                status = resp.status
        except urllib.error.HTTPError as exc:
            body, status = exc.read(), exc.code
        try:
            return status, orjson.loads(body)
        except orjson.JSONDecodeError:
            return status, body.decode(errors="replace")

    def wait_ready(self, timeout_s: float = 90.0) -> None:
        """Block until /readyz says 200, or fail with the worker's log."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if self.get("/readyz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"worker not ready in {timeout_s} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 60) -> str:
        """Return the end of the worker's log."""
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout_s: float = 20.0) -> int | None:
        """SIGTERM the worker and wait; SIGKILL if it hangs. Return its exit code."""
        if self.proc is None:
            return None
        stop_process(self.proc, timeout_s)
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL the worker (a crash)."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


@dataclass
class TopicIO:
    """Produce raw messages to, and read everything from, topics of one broker."""

    broker_url: str
    _producer: AIOKafkaProducer | None = field(default=None, repr=False)

    @property
    def bootstrap(self) -> str:
        """Return `host:port` of the broker."""
        return bootstrap_of(self.broker_url)

    async def send(self, topic: str, values: list[bytes | None], key: bytes | None = None,
                   partition: int | None = None) -> None:
        """Send `values` to `topic` in order and wait for every ack."""
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, enable_idempotence=False, acks=1)
        await producer.start()
        try:
            for value in values:
                await producer.send_and_wait(topic, value, key=key, partition=partition)
        finally:
            await producer.stop()

    async def read(self, topic: str, *, min_count: int = 0, timeout_s: float = 30.0,
                   settle_s: float = 2.0) -> list[Any]:
        """Read `topic` from the start until `min_count` records arrived and `settle_s` passed quietly."""
        return await read_topic(topic, bootstrap_servers=self.bootstrap, min_count=min_count,
                                timeout_s=timeout_s, settle_s=settle_s)

    async def end_offset(self, topic: str, partitions: int) -> int:
        """Return the sum of the end offsets of `topic`'s partitions: 0 exactly when nothing was ever written."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            return sum((await consumer.end_offsets([TopicPartition(topic, p) for p in range(partitions)])).values())
        finally:
            await consumer.stop()

    async def committed(self, group_id: str, topics: list[str], partitions: int) -> int:
        """Return the sum of the offsets `group_id` has committed on `partitions` partitions of each topic."""
        return sum((await self.committed_offsets(group_id, topics, partitions)).values())

    async def committed_offsets(self, group_id: str, topics: list[str], partitions: int) -> dict[str, int]:
        """Return the offset `group_id` has committed on each `topic[partition]` (0 where none).

        The consumer asks the group coordinator for them; it never subscribes, so it does not join.
        """
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=group_id, enable_auto_commit=False)
        await consumer.start()
        try:
            return {f"{t}[{p}]": (await consumer.committed(TopicPartition(t, p))) or 0
                    for t in topics for p in range(partitions)}
        finally:
            await consumer.stop()


def run(coro: Any) -> Any:
    """Run a coroutine to completion in a fresh loop (for sync fixtures)."""
    return asyncio.run(coro)


def metric_value(text: str, name: str, **labels: str) -> float:
    """Return the value of one sample in Prometheus text format (0.0 if absent)."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0
