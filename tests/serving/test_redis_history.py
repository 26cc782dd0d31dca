"""The score history in the Redis view: one key per account, written when it changed, read back as written."""

from __future__ import annotations

import pytest

from healthmon.core.history import DayPoint, add_point, decode
from tests.serving.redis_probes import sync_client

pytestmark = pytest.mark.integration

D0 = 20_458
NAMES = ("weekly_active_ratio", "license_utilisation", "adoption_rate", "days_since_last_activity",
         "open_urgent_tickets", "tickets_opened_28d", "csat_28d", "nps_90d", "weekly_active_trend")


def history(days: int, first: int = D0) -> bytes:
    """Return an encoded history of `days` points with the default policy's measure names."""
    blob = b""
    for d in range(days):
        top = tuple(NAMES[(d + i) % len(NAMES)] for i in range(3))
        blob = add_point(blob, DayPoint(first + d, 40.0 + d % 50, "red" if d % 50 < 10 else "yellow", top), 180)
    return blob


async def test_a_history_is_written_once_per_change_and_read_back(view_factory):
    view = view_factory()
    view.put_history("acc-1", history(30))
    assert await view.flush()
    assert await view.get_history("acc-1") == history(30)
    assert await view.get_history("nobody") is None
    view.put_history("acc-1", history(30))  # unchanged: nothing to write
    assert view.backlog == 0
    view.put_history("acc-1", history(31))
    assert view.backlog == 1
    await view.flush()
    assert decode(await view.get_history("acc-1"))[-1].day == D0 + 30


async def test_a_resync_writes_every_history_again(view_factory):
    view = view_factory()
    view.put_history("acc-1", history(5))
    await view.flush()
    sync_client(view).delete(view.history_key("acc-1"))
    view.request_resync("test: Redis lost data")
    view.put_history("acc-1", history(5))
    await view.flush()
    assert await view.get_history("acc-1") == history(5)


async def test_a_history_the_writer_could_not_send_is_kept_for_later(view_factory):
    view = view_factory(url="redis://127.0.0.1:1/0")  # nothing listens there
    view.put_history("acc-1", history(3))
    assert not await view.flush()
    assert view.backlog == 1


async def test_180_days_take_at_most_a_kilobyte_of_redis_memory(view_factory):
    view = view_factory()
    view.put_history("acc-1", history(400))  # capped at 180 days
    await view.flush()
    client = sync_client(view)
    assert len(decode(client.get(view.history_key("acc-1")))) == 180
    assert client.memory_usage(view.history_key("acc-1"), samples=0) <= 1024


async def test_the_list_filters_by_csm_and_sorts_by_the_weekly_drop(view_factory):
    from tests.serving.conftest import make_snapshot

    view = view_factory()
    rows = [("a", 40.0, 70.0, "ann"), ("b", 45.0, 50.0, "ann"), ("c", 30.0, None, "ann"), ("d", 20.0, 60.0, "bob"),
            ("e", 80.0, 60.0, "ann")]
    for account, score, week_ago, csm in rows:
        view.put_snapshot(account, make_snapshot(account, score=score, csm=csm, score_7d_ago=week_ago))
    await view.flush()

    async def ids(**kwargs):
        return [s["account_id"] for s in await view.list_accounts(kwargs.pop("band", None), None, 100, **kwargs)]

    assert await ids(sort="drop_7d") == ["d", "a", "b", "e", "c"]  # -40, -30, -5, +20, unknown last
    assert await ids(csm="ann") == ["c", "a", "b", "e"]
    assert await ids(csm="ann", sort="drop_7d") == ["a", "b", "e", "c"]
    assert await ids(band="red", csm="ann", sort="drop_7d") == ["a", "b", "c"]
    assert await ids(csm="nobody") == []
    # a new CSM: the account leaves the old one's set (and a restarted writer's stale entry is never listed)
    view.put_snapshot("a", make_snapshot("a", score=40.0, csm="bob", score_7d_ago=70.0))
    await view.flush()
    assert await ids(csm="ann") == ["c", "b", "e"] and await ids(csm="bob") == ["d", "a"]
    restarted = view_factory()
    restarted.put_snapshot("b", make_snapshot("b", score=45.0, csm="bob", score_7d_ago=50.0))
    await restarted.flush()
    assert await ids(csm="ann") == ["c", "e"] and await ids(csm="bob", sort="drop_7d") == ["d", "a", "b"]


async def test_the_list_takes_a_csm_by_name_or_slug_and_none_for_the_accounts_without_one(view_factory):
    from tests.serving.conftest import make_snapshot

    view = view_factory()
    for account, score, csm in [("a", 40.0, "Ann Lee"), ("b", 30.0, None), ("c", 20.0, "Bob"), ("d", 50.0, "")]:
        view.put_snapshot(account, make_snapshot(account, score=score, csm=csm))
    await view.flush()

    async def ids(csm: str) -> list[str]:
        return [s["account_id"] for s in await view.list_accounts(None, None, 100, csm=csm)]

    for spelled in ("Ann Lee", "ann-lee", "ANN LEE", "ann lee"):
        assert await ids(spelled) == ["a"], spelled
    assert await ids("none") == ["b", "d"]
    assert await ids("ann") == [] and await ids("lee") == []
    assert [s["account_id"] for s, _ in await view.scored_accounts("ann-lee")] == ["a"]
    assert sorted(s["account_id"] for s, _ in await view.scored_accounts("none")) == ["b", "d"]
