"""The Redis view against a real Redis: hash per account, sorted sets, capped alerts, change-only batched writes."""

from __future__ import annotations

import asyncio

import orjson
import pytest
import redis

from healthmon.serving.redis_clients import ViewBusy
from healthmon.serving.redis_sets import snapshot_fingerprint
from healthmon.serving.redis_view import RedisView
from tests.serving.conftest import make_alert, make_snapshot

pytestmark = pytest.mark.integration


def _sync(view: RedisView) -> redis.Redis:
    kwargs = view.client.connection_pool.connection_kwargs
    return redis.Redis(host=kwargs["host"], port=kwargs["port"], db=kwargs.get("db", 0))


def _commands(client: redis.Redis) -> dict[str, int]:
    """Return calls per command since the last CONFIG RESETSTAT (a private server: no one else counts)."""
    return {name.removeprefix("cmdstat_"): stats["calls"] for name, stats in client.info("commandstats").items()
            if name != "cmdstat_config|resetstat"}


def _members(client: redis.Redis, key: str) -> list[tuple[str, float]]:
    return [(m.decode(), s) for m, s in client.zrange(key, 0, -1, withscores=True)]


def _count_pipelines(view: RedisView) -> list[int]:
    """Count the pipelines the view executes (each is one round trip to Redis)."""
    executed: list[int] = []
    make_pipeline = view.client.pipeline

    def pipeline(*args, **kwargs):
        pipe = make_pipeline(*args, **kwargs)
        execute = pipe.execute

        async def counted(*a, **k):
            executed.append(len(pipe.command_stack))
            return await execute(*a, **k)

        pipe.execute = counted
        return pipe

    view.client.pipeline = pipeline
    return executed


async def test_snapshot_hash_holds_score_band_measures_update_time_and_policy(view_factory):
    view = view_factory()
    snap = make_snapshot("acc-1", score=42.0, tier="strategic")
    view.put_snapshot("acc-1", snap)
    assert await view.flush()
    got = _sync(view).hgetall(view.account_key("acc-1"))
    assert orjson.loads(got[b"snapshot"]) == snap
    assert float(got[b"score"]) == 42.0
    assert got[b"band"] == b"red" and got[b"alert_band"] == b"red" and got[b"tier"] == b"strategic"
    assert orjson.loads(got[b"measures"]) == snap["measures"]
    assert int(got[b"updated_at"]) == snap["updated_at"]
    assert got[b"policy_version"] == b"sha256:abc123"
    assert got[b"name"] == b"Account acc-1"
    assert await view.get_account("acc-1") == {"account": snap, "recent_alerts": []}
    assert await view.get_account("nobody") is None


async def test_an_account_without_a_score_has_a_hash_but_is_in_no_sorted_set(view_factory):
    view = view_factory()
    view.put_snapshot("acc-1", make_snapshot("acc-1", score=30.0, tier="key"))
    await view.flush()
    view.put_snapshot("acc-1", make_snapshot("acc-1", score=None, tier="key"))
    await view.flush()
    client = _sync(view)
    got = client.hgetall(view.account_key("acc-1"))
    assert b"score" not in got and b"band" not in got
    assert orjson.loads(got[b"snapshot"])["score"] is None
    for key in (view.scores_key(), view.scores_key(band="red"), view.scores_key(tier="key")):
        assert client.zcard(key) == 0, key
    assert await view.list_accounts(None, None, 10) == []


async def test_writes_are_made_only_when_the_snapshot_changed(redis_server_factory, view_factory):
    server = redis_server_factory()
    view = view_factory(server.url)
    client = server.client()
    snap = make_snapshot("acc-1", score=60.0)
    view.put_snapshot("acc-1", snap)
    assert await view.flush()
    client.config_resetstat()
    # Only the update times moved: nothing to write (the flush only checks its marker key).
    view.put_snapshot("acc-1", {**snap, "updated_at": snap["updated_at"] + 5, "as_of": snap["as_of"] + 9})
    assert view.backlog == 0
    assert await view.flush()
    stats = _commands(client)
    assert stats.get("hset", 0) == 0 and set(stats) == {"exists", "set"}
    # A changed score is written once, however often it was put before the flush.
    for score in (61.0, 62.0, 63.0):
        view.put_snapshot("acc-1", make_snapshot("acc-1", score=score))
    assert view.backlog == 1
    assert await view.flush()
    assert _commands(client)["hset"] == 1
    assert float(client.hget(view.account_key("acc-1"), "score")) == 63.0
    # Changing and changing back before a flush leaves nothing to write.
    view.put_snapshot("acc-1", make_snapshot("acc-1", score=10.0))
    view.put_snapshot("acc-1", make_snapshot("acc-1", score=63.0))
    assert view.backlog == 0


async def test_writes_are_pipelined_in_batches_of_accounts(redis_server_factory, view_factory):
    server = redis_server_factory()
    view = view_factory(server.url, batch_accounts=500)
    client = server.client()
    client.config_resetstat()
    executed = _count_pipelines(view)
    for n in range(1200):
        view.put_snapshot(f"acc-{n:04d}", make_snapshot(f"acc-{n:04d}", score=float(n % 100), tier="standard"))
    for n in range(30):
        view.add_alert(make_alert(f"acc-{n:04d}", n))
    assert await view.flush()
    assert len(executed) == 3, executed  # 500 + 500 + 200 accounts, the alerts ride in the first one
    stats = _commands(client)
    assert stats["hset"] == 1200
    assert stats["xadd"] == 30 and stats["lpush"] == 30
    assert stats["exists"] == 1 and stats["set"] == 1  # one marker check per flush, not per batch
    # Each sorted set gets one ZADD per pipeline, whatever its number of accounts: the overall set, the
    # accounts' three bands and their tier, in each of the three pipelines.
    assert stats["zadd"] == 3 * 5
    # A first write of an account does not know its old sets, so it leaves all the others: per pipeline,
    # one ZREM for each of the other three tiers and one for each band (every band is another's).
    assert stats["zrem"] == 3 * (3 + 3)
    assert client.zcard(view.scores_key(tier="standard")) == 1200
    assert sum(client.zcard(view.scores_key(band=b)) for b in ("green", "yellow", "red")) == 1200
    client.config_resetstat()
    executed.clear()
    # Known place, new score: three ZADDs and no ZREM.
    view.put_snapshot("acc-0001", make_snapshot("acc-0001", score=2.0, tier="standard"))
    assert await view.flush()
    stats = _commands(client)
    assert len(executed) == 1
    assert (stats["hset"], stats["zadd"], stats.get("zrem", 0)) == (1, 3, 0)
    assert client.zcard(view.scores_key()) == 1200


async def test_at_risk_sets_order_by_score_and_filter_by_band_and_tier(view_factory):
    view = view_factory()
    rows = [("a", 12.0, "strategic"), ("b", 55.0, "strategic"), ("c", 80.0, "key"), ("d", 30.0, "key"),
            ("e", 49.5, "standard"), ("f", 90.0, None), ("g", 51.0, "key")]
    for account, score, tier in rows:
        view.put_snapshot(account, make_snapshot(account, score=score, tier=tier))
    await view.flush()

    async def ids(band=None, tier=None, limit=100):
        return [s["account_id"] for s in await view.list_accounts(band, tier, limit)]

    assert await ids() == ["a", "d", "e", "g", "b", "c", "f"]
    assert await ids(limit=2) == ["a", "d"]
    assert await ids(band="red") == ["a", "d", "e"]
    assert await ids(band="yellow") == ["g", "b"]
    assert await ids(tier="key") == ["d", "g", "c"]
    assert await ids(tier="unknown") == ["f"]
    assert await ids(band="red", tier="key") == ["d"]
    assert await ids(band="yellow", tier="strategic") == ["b"]
    assert await ids(band="red", tier="strategic", limit=1) == ["a"]
    assert await ids(band="green", tier="standard") == []
    client = _sync(view)
    assert _members(client, view.scores_key(tier="strategic")) == [("a", 12.0), ("b", 55.0)]


@pytest.mark.parametrize("restart", [False, True], ids=["same-writer", "after-restart"])
async def test_a_tier_or_band_change_moves_the_account_between_sets(view_factory, restart):
    view = view_factory()
    view.put_snapshot("acc-1", make_snapshot("acc-1", score=80.0, tier="standard"))
    await view.flush()
    if restart:  # a new worker process knows nothing of what the last one wrote
        view = view_factory()
    view.put_snapshot("acc-1", make_snapshot("acc-1", score=40.0, tier="strategic"))
    await view.flush()
    client = _sync(view)
    assert _members(client, view.scores_key(tier="strategic")) == [("acc-1", 40.0)]
    assert _members(client, view.scores_key(band="red")) == [("acc-1", 40.0)]
    for key in (view.scores_key(tier="standard"), view.scores_key(band="green")):
        assert client.zcard(key) == 0, key
    assert await view.list_accounts(None, "standard", 10) == []
    assert [s["tier"] for s in await view.list_accounts("red", "strategic", 10)] == ["strategic"]


async def test_recent_alerts_stream_is_capped_and_each_account_keeps_its_newest(view_factory):
    view = view_factory(alerts_cap=100, recent_alerts=5)
    for n in range(1000):
        view.add_alert(make_alert(f"acc-{n % 3}", n))
    view.add_alert(make_alert(None, 1000))  # a pipeline alert has no account
    await view.flush()
    client = _sync(view)
    # XADD MAXLEN ~ trims whole stream nodes, so the stream holds the cap plus less than one node.
    node = int(client.config_get("stream-node-max-entries")["stream-node-max-entries"])
    length = client.xlen(view.key("alerts"))
    assert 100 <= length < 100 + node
    newest = client.xrevrange(view.key("alerts"), count=1)[0][1][b"alert"]
    assert orjson.loads(newest)["alert_id"] == "a-1000"
    found = await view.get_account("acc-1")
    assert found is None  # alerts alone make no snapshot
    view.put_snapshot("acc-1", make_snapshot("acc-1"))
    await view.flush()
    found = await view.get_account("acc-1")
    assert [a["alert_id"] for a in found["recent_alerts"]] == ["a-997", "a-994", "a-991", "a-988", "a-985"]


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
    assert [m for m, _ in _members(client, view.scores_key(tier="strategic"))] == [f"new-{n}" for n in range(5)]
    alerts = [orjson.loads(e[b"alert"])["alert_id"] for _, e in client.xrange(view.key("alerts"))]
    assert alerts == [f"a-{n}" for n in range(30, 80)]


async def test_lost_redis_data_requests_a_resync_that_rewrites_unchanged_accounts(view_factory):
    view = view_factory()
    snap = make_snapshot("acc-1")
    view.put_snapshot("acc-1", snap)
    await view.flush()
    view.resync_started()
    client = _sync(view)
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


async def test_without_redis_url_nothing_is_queued(view_factory):
    view = view_factory("")
    view.put_snapshot("acc-1", make_snapshot("acc-1"))
    view.add_alert(make_alert("acc-1", 1))
    assert view.backlog == 0
    assert await view.flush()
    assert not await view.ping()


def test_fingerprint_ignores_only_update_times():
    snap = make_snapshot("acc-1")
    assert snapshot_fingerprint(snap) == snapshot_fingerprint({**snap, "updated_at": 1, "as_of": 2})
    assert snapshot_fingerprint(snap) != snapshot_fingerprint({**snap, "firing": ["health"]})
    assert snapshot_fingerprint(snap) == snapshot_fingerprint(dict(reversed(list(snap.items()))))


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


async def test_reads_beyond_the_pool_queue_for_a_connection_instead_of_failing(view_factory):
    view = view_factory(max_connections=2, pool_timeout_s=60.0)
    view.put_snapshot("acc-1", make_snapshot("acc-1"))
    assert await view.flush()
    found = await asyncio.gather(*(view.get_account("acc-1") for _ in range(300)))
    assert all(f is not None and f["account"]["account_id"] == "acc-1" for f in found)
    assert view.metrics.redis_errors.labels("read")._value.get() == 0


async def test_a_wait_past_the_pool_timeout_is_view_busy_not_a_redis_error(view_factory):
    view = view_factory(max_connections=1, pool_timeout_s=0.2)
    # The only connection is held by a blocking read that Redis answers after 1.5 s.
    held = asyncio.ensure_future(view.reader.blpop([view.key("never-filled")], timeout=1.5))
    await asyncio.sleep(0.1)
    with pytest.raises(ViewBusy, match="all 1 Redis connections busy"):
        await view.get_account("acc-1")
    assert await held is None
    assert view.metrics.redis_errors.labels("read")._value.get() == 0
    assert await view.get_account("acc-1") is None  # the connection is free again
