"""Redis goes down under a live worker: the stream keeps flowing, errors are counted, the view catches up."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest
import redis

from healthmon.generator import generate
from healthmon.produce import produce
from healthmon.serving.redis_sets import snapshot_fingerprint
from tests.fixtures import metric_value
from tests.serving.conftest import wait_for_events
from tests.serving.contract import validate

pytestmark = pytest.mark.integration


def _wait(condition, timeout_s: float, what: str, worker) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}:\n{worker.log_tail()}")


def _stream_alert_ids(client: redis.Redis, key: str) -> list[str]:
    return [orjson.loads(fields[b"alert"])["alert_id"] for _, fields in client.xrange(key)]


async def test_redis_outage_keeps_the_stream_flowing_and_the_view_catches_up(worker_factory, redis_server_factory,
                                                                             broker_url, topic_io):
    server = redis_server_factory()
    # One partition: the local fallback then scores at exactly the watermark the view uses, so it is a reference.
    worker = worker_factory(redis={"url": server.url}, topics={"partitions": 1})
    settings = worker.settings
    worker.wait_ready()
    client = server.client()
    prefix = settings.redis.prefix
    traffic = generate(accounts=8, scenario="mixed", seed=7, start_ms=int(time.time() * 1000) - 43 * 86_400_000,
                       days=42)
    records = list(traffic.records())
    split = len(records) * 3 // 5  # the scenario's changes (drops, ticket spikes) start at day 28 of 42
    accounts = sorted(a.account_id for a in traffic.accounts)

    before = await produce(settings, broker_url, records[:split], batch_size=10)
    text = wait_for_events(worker, before.events)
    _wait(lambda: all(client.exists(f"{prefix}account:{a}") for a in accounts), 60, "the view before the outage",
          worker)
    assert metric_value(text, "healthmon_redis_errors_total", operation="write") == 0
    alerts_topic = settings.topics.alerts_name
    alerts_before = len(await topic_io.read(alerts_topic))
    _wait(lambda: len(_stream_alert_ids(client, f"{prefix}alerts")) == alerts_before, 30,
          "the alerts before the outage in Redis", worker)

    server.stop()
    during = await produce(settings, broker_url, records[split:], batch_size=10)
    text = wait_for_events(worker, before.events + during.events)
    _wait(lambda: metric_value(worker.get("/metrics")[1], "healthmon_redis_errors_total", operation="write") > 0,
          60, "a counted Redis write error", worker)
    assert worker.proc.poll() is None, worker.log_tail()
    assert worker.get("/healthz")[0] == 200
    status, ready = worker.get("/readyz")
    assert (status, ready["ready"], ready["redis"]) == (200, True, False)  # Redis is not part of readiness
    status, body = worker.get("/accounts")
    assert status == 503 and "Redis view unavailable" in body["error"]
    validate(body, "Error")
    expected: dict[str, dict] = {}
    for account_id in accounts:
        status, body = worker.get(f"/accounts/{account_id}")
        assert status == 200, body
        validate(body, "AccountDetail")
        assert body["source"] == "local" and body["recent_alerts"] == []
        expected[account_id] = body["account"]

    server.start()  # same port, empty: it kept nothing
    # Every account comes back with its latest snapshot, also those that did not change during the outage.
    key = {a: f"{prefix}account:{a}" for a in accounts}

    def caught_up() -> bool:
        raw = {a: client.hget(key[a], "snapshot") for a in accounts}
        return all(r is not None and snapshot_fingerprint(orjson.loads(r)) == snapshot_fingerprint(expected[a])
                   for a, r in raw.items())

    _wait(caught_up, 90, "the view to catch up", worker)
    for account_id in accounts:
        assert float(client.hget(key[account_id], "score")) == expected[account_id]["score"]
        status, body = worker.get(f"/accounts/{account_id}")
        assert (status, body["source"]) == (200, "redis")
    listed = worker.get("/accounts?limit=1000")[1]["accounts"]
    assert sorted(a["account_id"] for a in listed) == sorted(a for a in accounts if expected[a]["score"] is not None)

    # The alerts stream holds every alert sent (all fit the 10,000 cap): those before the outage were lost
    # with Redis, but the ones sent during it were kept by the worker and written when Redis returned.
    sent = [orjson.loads(r.value) for r in await topic_io.read(alerts_topic)]
    during_ids = [a["alert_id"] for a in sent[alerts_before:]]
    assert during_ids, "the scenario should raise alerts during the outage"
    stream = _wait(lambda: _stream_alert_ids(client, f"{prefix}alerts"), 30, "the alerts stream", worker)
    assert stream == during_ids
    for account_id in accounts:
        newest = [a["alert_id"] for a in reversed(sent[alerts_before:]) if a["account_id"] == account_id][:20]
        got = [a["alert_id"] for a in worker.get(f"/accounts/{account_id}")[1]["recent_alerts"]]
        assert got == newest, account_id
    assert metric_value(worker.get("/metrics")[1], "healthmon_redis_errors_total", operation="write") > 0

    # A second restart with no traffic at all: nothing is pending, yet the snapshots come back (a resync).
    server.stop()
    server.start()
    _wait(caught_up, 90, "the view to be rebuilt after a restart without traffic", worker)
    assert sorted(a["account_id"] for a in worker.get("/accounts?limit=1000")[1]["accounts"]) == \
        sorted(a["account_id"] for a in listed)
    assert worker.proc.poll() is None
