"""Session fixtures: a real Kafka broker (embedded Tansu, KAFKA_BROKER_URL, or Docker) and Redis."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import redis

from healthmon.config import Settings
from healthmon.kafka.broker import EmbeddedBroker
from tests.fixtures import TopicIO, WorkerProcess, isolated_settings, merge_sections

if TYPE_CHECKING:
    from tests.redis_server import RedisServer


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--broker", choices=("embedded", "docker"), default="embedded",
                     help="Kafka for integration tests: embedded Tansu (default; KAFKA_BROKER_URL wins) "
                          "or testcontainers' Kafka (needs a Docker engine).")


def _docker_kafka() -> Iterator[str]:
    try:
        import docker

        docker.from_env().ping()
    except Exception as exc:  # noqa: BLE001 - any failure means no engine
        pytest.skip(f"--broker=docker: no Docker engine answers ({type(exc).__name__})")
    from testcontainers.kafka import KafkaContainer

    with KafkaContainer() as kafka:
        yield "kafka://" + kafka.get_bootstrap_server()


@pytest.fixture(scope="session")
def broker_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The Kafka broker URL every integration test shares (topics are unique per test)."""
    if os.environ.get("KAFKA_BROKER_URL"):
        yield Settings().kafka.broker_url
    elif request.config.getoption("--broker") == "docker":
        yield from _docker_kafka()
    else:
        log = tmp_path_factory.mktemp("broker") / "tansu.log"
        with EmbeddedBroker(os.environ.get("HEALTHMON_TANSU_BIN", ""), log_path=log) as broker:
            yield broker.url


@pytest.fixture
def private_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """An embedded broker of this test's own, to kill or pause; resumed and stopped at the end."""
    import signal

    broker = EmbeddedBroker(os.environ.get("HEALTHMON_TANSU_BIN", ""), log_path=tmp_path / "tansu.log").start()
    try:
        yield broker
    finally:
        if broker.proc is not None and broker.proc.poll() is None:
            broker.proc.send_signal(signal.SIGCONT)
        broker.stop()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The real Redis at REDIS_URL (make test starts one on 127.0.0.1:6379)."""
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {url} does not answer ({exc}); run `make redis` or set REDIS_URL")
    return url


@pytest.fixture
def topic_io(broker_url: str) -> TopicIO:
    """Raw produce/read helpers on the shared broker."""
    return TopicIO(broker_url)


@pytest.fixture
def settings_factory(broker_url: str, redis_url: str, tmp_path: Path) -> Callable[..., Settings]:
    """Build Settings with a unique topic prefix, app id, Redis prefix and web port for this test."""
    def make(**sections: dict[str, Any]) -> Settings:
        # Commit every second, as the integration tests were written for (the default is 30 s).
        values = merge_sections({"redis": {"url": redis_url}, "topics": {"partitions": 4},
                                 "worker": {"commit_interval_seconds": 1.0}}, sections)
        return isolated_settings(broker_url, values["redis"].pop("url"), tmp_path / "data", **values)

    return make


def settings_env(settings: Settings) -> dict[str, str]:
    """Return the environment variables that reproduce `settings` in a child process."""
    from healthmon.config import settings_env as environment
    from healthmon.core.compiled import PURE_ENV

    env = {k: v for k, v in os.environ.items() if not k.startswith("HEALTHMON_") or k == PURE_ENV}
    env.update(environment(settings))
    env["HEALTHMON_LOG_LEVEL"] = "info"
    return env


@pytest.fixture
def worker_factory(settings_factory: Callable[..., Settings], tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Spawn real `healthmon worker` processes; all are stopped at the end of the test."""
    workers: list[WorkerProcess] = []

    def make(settings: Settings | None = None, start: bool = True, **overrides: object) -> WorkerProcess:
        settings = settings or settings_factory(**overrides)
        w = WorkerProcess(settings_env(settings), tmp_path / f"worker-{len(workers)}.log", settings.http.port)
        w.settings = settings  # type: ignore[attr-defined]
        workers.append(w)
        return w.start() if start else w

    yield make
    for w in workers:
        w.stop()


@pytest.fixture(scope="session")
def live_worker(broker_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerProcess]:
    """A real worker that has processed generated traffic (mixed scenario), with `metrics_target`."""
    import time

    from healthmon.generator import generate
    from healthmon.produce import produce
    from tests.fixtures import metric_value, run

    tmp = tmp_path_factory.mktemp("live-worker")
    settings = isolated_settings(broker_url, redis_url, tmp / "data", prefix="live")
    worker = WorkerProcess(settings_env(settings), tmp / "worker.log", settings.http.port).start()
    worker.settings = settings  # type: ignore[attr-defined]
    worker.metrics_target = f"127.0.0.1:{settings.http.port}"  # type: ignore[attr-defined]
    try:
        worker.wait_ready()
        traffic = generate(accounts=12, scenario="mixed", seed=3,
                           start_ms=int(time.time() * 1000) - 43 * 86_400_000, days=42)
        stats = run(produce(settings, broker_url, traffic.records(), rate=0, batch_size=1))
        deadline = time.monotonic() + 120
        done = 0.0
        while time.monotonic() < deadline:
            text = worker.get("/metrics")[1]
            done = sum(metric_value(text, "healthmon_events_total", topic=t, outcome=o)
                       for t in ("product-usage", "support-tickets", "nps-responses", "accounts")
                       for o in ("ok", "dead_letter", "duplicate", "too_late"))
            if done >= stats.events:
                break
            time.sleep(1)
        assert done >= stats.events, worker.log_tail()
        yield worker
    finally:
        worker.stop()


@pytest.fixture
def redis_server_factory(tmp_path: Path) -> Iterator[Callable[[], RedisServer]]:
    """Start private redis-server processes on free ports; all are stopped at the end of the test."""
    from tests.redis_server import RedisServer

    servers: list[RedisServer] = []

    def make() -> RedisServer:
        server = RedisServer(tmp_path / f"redis-{len(servers)}")
        servers.append(server)
        return server.start()

    yield make
    for server in servers:
        server.stop()
