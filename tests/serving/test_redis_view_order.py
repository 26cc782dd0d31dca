"""Whoever writes last, the view keeps the most advanced state: an older push never overwrites a newer one."""

from __future__ import annotations

import orjson
import pytest

from healthmon.core.saved_view import ViewVersion, behind
from tests.serving.conftest import make_snapshot
from tests.serving.redis_probes import members, sync_client

pytestmark = pytest.mark.integration

NEWER, OLDER = 1_700_000_900_000, 1_700_000_000_000


async def test_a_writer_with_an_older_state_does_not_overwrite_a_newer_entry(view_factory):
    owner, frozen = view_factory(), view_factory()  # two workers' writers on one view
    newer = make_snapshot("acc-1", score=54.2, tier="key", updated_at=NEWER)
    owner.put_snapshot("acc-1", newer, progress=40)
    assert await owner.flush()
    # A worker frozen before the partition moved wakes up and pushes what it had: refused.
    frozen.put_snapshot("acc-1", make_snapshot("acc-1", score=98.4, tier="key", updated_at=OLDER), progress=30)
    assert await frozen.flush()
    assert (await owner.get_account("acc-1"))["account"] == newer
    client = sync_client(owner)
    assert members(client, owner.scores_key(band="yellow")) == [("acc-1", 54.2)]
    assert client.zcard(owner.scores_key(band="green")) == 0


@pytest.mark.parametrize(("as_of", "progress", "written"), [
    (NEWER + 1, 39, False),  # the same instant, less input applied
    (NEWER + 1, 40, True),  # the very same state: written (a new policy may score it otherwise)
    (NEWER + 1, 41, True),  # the same instant, a message more
    (NEWER + 1 + 3_600_000, 0, True),  # a later evaluation
    (NEWER, 99, False),  # an earlier instant, whatever its progress
])
async def test_versions_order_by_as_of_then_progress(view_factory, as_of, progress, written):
    view, other = view_factory(), view_factory()
    view.put_snapshot("acc-1", make_snapshot("acc-1", score=60.0, updated_at=NEWER), progress=40)
    await view.flush()
    pushed = make_snapshot("acc-1", score=20.0, updated_at=NEWER, as_of=as_of)
    other.put_snapshot("acc-1", pushed, progress=progress)
    await other.flush()
    got = orjson.loads(sync_client(view).hget(view.account_key("acc-1"), "snapshot"))
    assert (got == pushed) is written
    # the same order as table recovery's (`core.saved_view.behind`)
    held = make_snapshot("acc-1", score=60.0, updated_at=NEWER)["as_of"]
    assert written is not behind(ViewVersion(as_of, progress), ViewVersion(held, 40))
    assert (await view.list_accounts("red", None, 10) == [pushed]) is written


async def test_the_same_state_under_a_new_policy_is_written(view_factory):
    view, restarted = view_factory(), view_factory()
    view.put_snapshot("acc-1", make_snapshot("acc-1", score=60.0), progress=5)
    await view.flush()
    again = make_snapshot("acc-1", score=70.0, policy_version="sha256:new")
    restarted.put_snapshot("acc-1", again, progress=5)
    await restarted.flush()
    assert (await view.get_account("acc-1"))["account"] == again
