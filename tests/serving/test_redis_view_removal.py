"""An account its source removed leaves the Redis view whole and at once, and no late writer brings it back."""

from __future__ import annotations

import orjson
import pytest

from healthmon.serving.redis_put import REMOVED_TTL_SECONDS
from tests.serving.conftest import make_snapshot
from tests.serving.redis_probes import members, sync_client

pytestmark = pytest.mark.integration

AT = 1_700_000_000_000


def _sets(view, csm: str = "alice@example.com") -> list[str]:
    return [view.scores_key(), view.scores_key(band="red"), view.scores_key(tier="key"), view.csm_key(csm),
            view.drops_key()]


async def _two_accounts(view) -> None:
    for account_id in ("acc-1", "acc-2"):
        view.put_snapshot(account_id, make_snapshot(account_id, score=40.0, score_7d_ago=55.0, updated_at=AT),
                          progress=10)
        view.put_history(account_id, b"history of " + account_id.encode())
    assert await view.flush()


async def test_a_removed_account_leaves_its_hash_history_and_every_set_at_once(view_factory):
    view = view_factory()
    await _two_accounts(view)
    client = sync_client(view)
    assert all([m for m, _ in members(client, key)] == ["acc-1", "acc-2"] for key in _sets(view))
    view.remove_account("acc-1", AT + 1, 10)
    assert await view.flush()
    assert not client.exists(view.account_key("acc-1"), view.history_key("acc-1"))
    assert all([m for m, _ in members(client, key)] == ["acc-2"] for key in _sets(view))
    assert await view.get_account("acc-1") is None and await view.get_history("acc-1") is None
    assert [s["account_id"] for s in await view.list_accounts(None, None, 10)] == ["acc-2"]
    assert [s["account_id"] for s in await view.list_accounts("red", "key", 10, csm="alice@example.com",
                                                              sort="drop_7d")] == ["acc-2"]
    # what is left: a marker that lives a while, holding the last state's version
    assert client.hgetall(view.removed_key("acc-1")) == {b"as_of": str(AT + 1).encode(), b"progress": b"10"}
    assert 0 < client.pttl(view.removed_key("acc-1")) <= REMOVED_TTL_SECONDS * 1000


@pytest.mark.parametrize(("as_of", "progress", "back"), [
    (AT + 1, 10, False),  # the removed state itself (a resync from a table that had not forgotten it yet)
    (AT + 1, 9, False),  # an older push of it (a writer frozen before the removal)
    (AT - 5, 99, False),
    (AT + 1, 11, True),  # the account came back: a message more
    (AT + 86_400_000, 1, True),  # a later evaluation of a new state
])
async def test_after_a_removal_only_a_newer_state_is_written(view_factory, as_of, progress, back):
    owner, late = view_factory(), view_factory()
    await _two_accounts(owner)
    owner.remove_account("acc-1", AT + 1, 10)
    assert await owner.flush()
    pushed = make_snapshot("acc-1", score=30.0, updated_at=as_of - 1)
    late.put_snapshot("acc-1", pushed, progress=progress)
    assert await late.flush()
    got = await owner.get_account("acc-1")
    assert (got is not None and got["account"] == pushed) is back
    client = sync_client(owner)
    assert ("acc-1" in [m for m, _ in members(client, owner.scores_key())]) is back
    assert bool(client.exists(owner.removed_key("acc-1"))) is not back  # a newer state clears the marker


async def test_a_removal_drops_the_writes_queued_before_it_and_keeps_those_after(view_factory):
    view = view_factory()
    await _two_accounts(view)
    view.put_snapshot("acc-1", make_snapshot("acc-1", score=20.0, updated_at=AT + 5), progress=12)
    view.put_history("acc-1", b"newer history")
    view.remove_account("acc-1", AT + 6, 12)
    assert view.backlog == 1
    assert await view.flush()
    assert await view.get_account("acc-1") is None and await view.get_history("acc-1") is None
    # removed and back within one flush: the removal goes first, the new state stays
    view.remove_account("acc-2", AT + 1, 10)
    again = make_snapshot("acc-2", score=90.0, updated_at=AT + 86_400_000)
    view.put_snapshot("acc-2", again, progress=1)
    assert await view.flush()
    assert (await view.get_account("acc-2"))["account"] == again
    assert members(sync_client(view), view.scores_key()) == [("acc-2", 90.0)]


async def test_an_entry_that_does_not_name_its_sets_is_taken_out_of_all_of_them(view_factory):
    view = view_factory()
    await _two_accounts(view)
    client = sync_client(view)
    client.hdel(view.account_key("acc-1"), "sets")  # as written before the hash named its sets
    view.remove_account("acc-1", AT + 1, 10)
    assert await view.flush()
    assert all([m for m, _ in members(client, key)] == ["acc-2"] for key in _sets(view)[:3] + _sets(view)[4:])
    # the CSM set is named nowhere else: the removal of an old entry leaves it, and readers skip it
    assert await view.list_accounts(None, None, 10, csm="alice@example.com") == [
        make_snapshot("acc-2", score=40.0, score_7d_ago=55.0, updated_at=AT)]


async def test_a_restart_from_a_table_that_still_holds_the_removed_state_does_not_bring_it_back(view_factory):
    """A crash after the removal reached the view, before the state table's deletion was saved: the restarted
    worker puts every saved account again, and the marker refuses the removed one."""
    from tests.ingest.formats.examples.debezium import ENVELOPE_CREATE, ENVELOPE_DELETE, KEY
    from tests.pipeline.mapped import mapped_processor
    from tests.pipeline.test_processor_semantics import INPUTS, NOW_MS

    table: dict[bytes, bytes] = {}
    before = mapped_processor(INPUTS, 1, lambda: NOW_MS, table=table, view=view_factory())
    key = orjson.dumps(KEY)
    await before.on_message("crm", 0, 0, key, orjson.dumps(ENVELOPE_CREATE))
    before.flush_states()
    await before.refresh_view()
    assert await before.view_refresh.view.get_account("1004") is not None
    await before.on_message("crm", 0, 1, key, orjson.dumps(ENVELOPE_DELETE))
    await before.refresh_view()
    assert await before.view_refresh.view.get_account("1004") is None
    assert b"1004" in table  # the crash: the table's deletion was never saved

    after = mapped_processor(INPUTS, 1, lambda: NOW_MS, table=table, view=view_factory())
    assert after.view_refresh.mark_all(after.states.saved_accounts()) == 1  # the resync of a new writer
    await after.refresh_view()
    assert await after.view_refresh.view.get_account("1004") is None
    assert not sync_client(after.view_refresh.view).exists(after.view_refresh.view.account_key("1004"))
