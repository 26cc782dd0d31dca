"""The Redis view when Redis goes away, loses its data or is slow: counted errors, kept backlog, resyncs."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from tests.serving.conftest import make_alert, make_snapshot
from tests.serving.redis_probes import members, sync_client

pytestmark = pytest.mark.integration


async def test_redis_down_counts_errors_keeps_the_backlog_and_catches_up(redis_server_factory, view_factory):
    server = redis_server_factory()
    view = view_factory(server.url, alerts_cap=50)
    view.put_snapshot("acc-1", make_snapshot("acc-1", score=80.0))
    assert await view.flush()
    assert view.resync_requested  # a new writer's marker is missing: put every account once
    view.resync_started()
    server.stop()
    for n in range(5):
        view.put_snapshot("acc-1", make_snapshot("acc-1", score=70.0 - n))
        view.put_snapshot(f"new-{n}", make_snapshot(f"new-{n}", score=20.0 + n, tier="strategic"))
        assert not await view.flush()
    for n in range(80):
        view.add_alert(make_alert("acc-1", n))
    assert not await view.flush()
    assert not view.healthy
    assert view.metrics.redis_errors.labels("write")._value.get() == 6
    assert view.backlog == 6 + 50  # one snapshot per account; the oldest alerts beyond the cap are gone
    server.start()
    assert await view.flush()
    assert view.healthy and view.backlog == 0
    assert view.resync_requested  # Redis may have lost what it had
    client = server.client()
    assert float(client.hget(view.account_key("acc-1"), "score")) == 66.0
    assert [m for m, _ in members(client, view.scores_key(tier="strategic"))] == [f"new-{n}" for n in range(5)]
    alerts = [orjson.loads(e[b"alert"])["alert_id"] for _, e in client.xrange(view.key("alerts"))]
    assert alerts == [f"a-{n}" for n in range(30, 80)]


async def test_lost_redis_data_requests_a_resync_that_rewrites_unchanged_accounts(view_factory):
    view = view_factory()
    snap = make_snapshot("acc-1")
    view.put_snapshot("acc-1", snap)
    await view.flush()
    view.resync_started()
    client = sync_client(view)
    client.delete(*client.keys(view.prefix + "*"))  # what a restart without persistence does
    view.put_snapshot("acc-2", make_snapshot("acc-2"))
    await view.flush()
    assert view.resync_requested
    view.resync_started()
    view.put_snapshot("acc-1", snap)  # unchanged, but Redis lost it: it must be written again
    assert view.backlog == 1
    await view.flush()
    assert (await view.get_account("acc-1"))["account"] == snap
    assert not view.resync_requested


async def test_a_snapshot_put_while_a_flush_is_in_flight_is_not_lost(view_factory):
    view = view_factory()
    a, b = make_snapshot("acc-1", score=80.0), make_snapshot("acc-1", score=30.0)
    view.put_snapshot("acc-1", a)
    await view.flush()
    view.put_snapshot("acc-1", b)
    flushing = asyncio.create_task(view.flush())
    await asyncio.sleep(0)  # the flush is now waiting for Redis with B on the wire
    view.put_snapshot("acc-1", a)  # A equals what Redis had, but not what it will have
    assert await flushing
    assert view.backlog == 1
    await view.flush()
    assert (await view.get_account("acc-1"))["account"] == a


async def test_lost_redis_data_is_noticed_with_nothing_to_write(redis_server_factory, view_factory):
    server = redis_server_factory()
    view = view_factory(server.url)
    view.put_snapshot("acc-1", make_snapshot("acc-1"))
    await view.flush()
    view.resync_started()
    assert await view.flush() and not view.resync_requested  # idle, and Redis still has everything
    server.stop()
    assert not await view.flush()  # the marker check fails: counted, and the view is unhealthy
    assert view.metrics.redis_errors.labels("ping")._value.get() == 1 and not view.healthy
    server.start()
    assert await view.flush() and view.healthy and view.resync_requested
    view.resync_started()
    server.client().flushall()  # e.g. a failover to an empty replica: no error, only missing keys
    assert await view.flush() and view.resync_requested
