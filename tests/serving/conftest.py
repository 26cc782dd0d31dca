"""Serving fixtures: Redis views with a unique key prefix per test, snapshots shaped like Engine.snapshot()."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
import redis

from healthmon.config import Settings
from healthmon.core.vocabulary import OUTCOMES
from healthmon.generator import generate
from healthmon.produce import produce
from healthmon.serving.metrics import TOPIC_LABELS, Metrics
from healthmon.serving.redis_view import RedisView
from tests.fixtures import DAY_MS, END_MS, TopicIO, WorkerProcess, isolated_settings, metric_value, run, unique_id


def make_snapshot(account_id: str, score: float | None = 72.5, tier: str | None = "key",
                  band: str | None = None, updated_at: int = 1_700_000_000_000, **extra: Any) -> dict[str, Any]:
    """Return a snapshot with the fields and shape of `Engine.snapshot()`."""
    if band is None and score is not None:
        band = "red" if score <= 50 else "yellow" if score <= 75 else "green"
    measures = [
        {"name": "weekly_active_ratio", "value": 0.4, "score": score, "weight": 3.0,
         "contribution": None if score is None else round(score * 0.75, 2)},
        {"name": "nps", "value": None, "score": None, "weight": 1.0, "contribution": None},
        {"name": "urgent_tickets", "value": 0.0, "score": None if score is None else 100.0, "weight": 1.0,
         "contribution": None if score is None else 25.0},
    ]
    csm = extra.pop("csm", "alice@example.com")
    week, month = extra.pop("score_7d_ago", None), extra.pop("score_30d_ago", None)
    return {"account_id": account_id, "name": f"Account {account_id}", "tier": tier, "csm": csm,
            "seats": 40, "score": score, "band": band, "score_7d_ago": week, "score_30d_ago": month,
            "alert_band": band, "measures": measures,
            "metrics": {"weekly_active_ratio": 0.4}, "firing": [], "updated_at": updated_at,
            "as_of": updated_at + 1, "policy_version": "sha256:abc123", **extra}


def make_alert(account_id: str | None, n: int) -> dict[str, Any]:
    """Return a minimal alert-shaped dict numbered `n`."""
    return {"alert_id": f"a-{n}", "account_id": account_id, "kind": "health_changed", "status": "firing",
            "severity": "warning", "summary": f"alert {n}"}


@pytest.fixture
async def view_factory(redis_url: str) -> AsyncIterator[Callable[..., RedisView]]:
    """Build RedisViews with a unique key prefix; their keys are deleted at the end of the test."""
    views: list[RedisView] = []
    prefix = f"hmtest-{unique_id()}:"

    def make(url: str = redis_url, **kwargs: Any) -> RedisView:
        view = RedisView(url, kwargs.pop("prefix", prefix), Metrics(), **kwargs)
        views.append(view)
        return view

    yield make
    for view in views:
        await view.close()
    for url in {redis_url}:
        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


@dataclass
class ApiWorker:
    """A worker that has processed generated traffic, what it was sent, and what it said while starting."""

    worker: WorkerProcess
    settings: Settings
    traffic: Any
    readyz_history: list[tuple[int, Any]]
    alerts: list[dict[str, Any]] = field(default_factory=list)

    def get(self, path: str) -> tuple[int, Any]:
        """GET `path` on the worker."""
        return self.worker.get(path)


def _poll_readyz(worker: WorkerProcess, timeout_s: float = 120.0) -> list[tuple[int, Any]]:
    """Poll /readyz from the worker's start until it answers 200; return every answer."""
    history: list[tuple[int, Any]] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert worker.proc is not None
        if worker.proc.poll() is not None:
            raise AssertionError(f"worker exited with {worker.proc.returncode}:\n{worker.log_tail()}")
        try:
            history.append(worker.get("/readyz"))
        except OSError:
            pass  # the web server is not listening yet
        if history and history[-1][0] == 200:
            return history
        time.sleep(0.05)
    raise AssertionError(f"worker not ready in {timeout_s} s:\n{worker.log_tail()}")


def wait_for_events(worker: WorkerProcess, events: int, timeout_s: float = 180.0) -> str:
    """Wait until the worker counted `events` input events (any outcome); return the last /metrics text."""
    deadline = time.monotonic() + timeout_s
    done, text = 0.0, ""
    while time.monotonic() < deadline:
        text = worker.get("/metrics")[1]
        done = sum(metric_value(text, "healthmon_events_total", topic=t, outcome=o)
                   for t in TOPIC_LABELS.values() for o in OUTCOMES)
        if done >= events:
            return text
        time.sleep(0.5)
    raise AssertionError(f"worker counted {done} of {events} events:\n{worker.log_tail()}")


def wait_until_settled(worker: WorkerProcess, path: str, timeout_s: float = 60.0, quiet_s: float = 3.0) -> Any:
    """Wait until GET `path` answers 200 with the same body for `quiet_s` seconds; return that body."""
    deadline = time.monotonic() + timeout_s
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        status, body = worker.get(path)
        if status != 200 or body != last:
            last, since = body if status == 200 else None, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return body
        time.sleep(0.5)
    raise AssertionError(f"{path} did not settle in {timeout_s} s (last: {str(last)[:500]})")


@pytest.fixture(scope="module")
def api_worker(broker_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiWorker]:
    """A real worker, watched from its start, after 42 days of mixed traffic for 12 accounts."""
    from tests.conftest import settings_env

    tmp = tmp_path_factory.mktemp("api-worker")
    settings = isolated_settings(broker_url, redis_url, tmp / "data", prefix="api")
    worker = WorkerProcess(settings_env(settings), tmp / "worker.log", settings.http.port).start()
    try:
        history = _poll_readyz(worker)
        traffic = generate(accounts=12, scenario="mixed", seed=5,
                           start_ms=END_MS - 43 * DAY_MS, days=42)
        stats = run(produce(settings, broker_url, traffic.records(), rate=0, batch_size=20))
        wait_for_events(worker, stats.events)
        wait_until_settled(worker, "/accounts?limit=1000")
        records = run(TopicIO(broker_url).read(settings.topics.alerts_name, settle_s=1.0))
        api = ApiWorker(worker, settings, traffic, history, [orjson.loads(r.value) for r in records])
        yield api
    finally:
        worker.stop()
        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(match=settings.redis.prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
