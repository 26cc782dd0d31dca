"""The Redis view against a real Redis: hash per account, sorted sets, capped alerts, change-only batched writes."""

from __future__ import annotations

import orjson
import pytest

from tests.serving.conftest import make_alert, make_snapshot
from tests.serving.redis_probes import command_calls, count_pipelines, members, sync_client

pytestmark = pytest.mark.integration


async def test_snapshot_hash_holds_score_band_measures_update_time_and_policy(view_factory):
    view = view_factory()
    snap = make_snapshot("acc-1", score=42.0, tier="strategic")
    view.put_snapshot("acc-1", snap)
    assert await view.flush()
    got = sync_client(view).hgetall(view.account_key("acc-1"))
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
    client = sync_client(view)
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
    # The same snapshot again: nothing to write (the flush only checks its marker key).
    view.put_snapshot("acc-1", dict(snap))
    assert view.backlog == 0
    assert await view.flush()
    stats = command_calls(client)
    assert stats.get("hset", 0) == 0 and set(stats) == {"exists", "set"}
    # A later `as_of` is something users read: written.
    view.put_snapshot("acc-1", {**snap, "as_of": snap["as_of"] + 9})
    assert view.backlog == 1
    view.put_snapshot("acc-1", snap)
    # A changed score is written once, however often it was put before the flush.
    for score in (61.0, 62.0, 63.0):
        view.put_snapshot("acc-1", make_snapshot("acc-1", score=score))
    assert view.backlog == 1
    assert await view.flush()
    assert command_calls(client)["evalsha"] == 1
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
    executed = count_pipelines(view)
    for n in range(1200):
        view.put_snapshot(f"acc-{n:04d}", make_snapshot(f"acc-{n:04d}", score=float(n % 100), tier="standard"))
    for n in range(30):
        view.add_alert(make_alert(f"acc-{n:04d}", n))
    assert await view.flush()
    assert len(executed) == 3, executed  # 500 + 500 + 200 accounts, the alerts ride in the first one
    stats = command_calls(client)
    # One script per account: it compares versions, then writes the hash and the account's sorted sets.
    assert stats["evalsha"] == 1200 and stats["script|load"] == 1
    assert stats["xadd"] == 30 and stats["lpush"] == 30
    assert stats["exists"] == 1 and stats["set"] == 1  # one marker check per flush, not per batch
    assert client.zcard(view.scores_key(tier="standard")) == 1200
    assert sum(client.zcard(view.scores_key(band=b)) for b in ("green", "yellow", "red")) == 1200
    client.config_resetstat()
    executed.clear()
    # A known place and a new score: the account moves within its sets, and leaves its old band only.
    view.put_snapshot("acc-0001", make_snapshot("acc-0001", score=90.0, tier="standard"))
    assert await view.flush()
    stats = command_calls(client)
    assert len(executed) == 1 and stats["evalsha"] == 1 and "script|load" not in stats
    # The sets it was recorded in (all accounts, band, tier, 7-day drops, CSM), not every set.
    assert stats["zrem"] == 5
    assert client.zcard(view.scores_key()) == 1200
    assert client.zscore(view.scores_key(band="green"), "acc-0001") == 90.0
    assert client.zscore(view.scores_key(band="red"), "acc-0001") is None


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
    client = sync_client(view)
    assert members(client, view.scores_key(tier="strategic")) == [("a", 12.0), ("b", 55.0)]


@pytest.mark.parametrize("restart", [False, True], ids=["same-writer", "after-restart"])
async def test_a_tier_or_band_change_moves_the_account_between_sets(view_factory, restart):
    view = view_factory()
    view.put_snapshot("acc-1", make_snapshot("acc-1", score=80.0, tier="standard"))
    await view.flush()
    if restart:  # a new worker process knows nothing of what the last one wrote
        view = view_factory()
    view.put_snapshot("acc-1", make_snapshot("acc-1", score=40.0, tier="strategic"))
    await view.flush()
    client = sync_client(view)
    assert members(client, view.scores_key(tier="strategic")) == [("acc-1", 40.0)]
    assert members(client, view.scores_key(band="red")) == [("acc-1", 40.0)]
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
    client = sync_client(view)
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


async def test_without_redis_url_nothing_is_queued(view_factory):
    view = view_factory("")
    view.put_snapshot("acc-1", make_snapshot("acc-1"))
    view.add_alert(make_alert("acc-1", 1))
    assert view.backlog == 0
    assert await view.flush()
    assert not await view.ping()


