"""The view readers' pool: a burst of reads queues for a connection; a wait past the timeout is ViewBusy."""

from __future__ import annotations

import asyncio
import time

import pytest

from healthmon.serving.redis_clients import ViewBusy
from tests.serving.conftest import make_snapshot

pytestmark = pytest.mark.integration


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
    pool = view.reader.connection_pool  # type: ignore[union-attr]
    deadline = time.monotonic() + 5
    while pool.can_get_connection():  # until the blocking read holds the pool's one connection
        assert time.monotonic() < deadline and not held.done(), "the blocking read never took the connection"
        await asyncio.sleep(0.005)
    with pytest.raises(ViewBusy, match="all 1 Redis connections busy"):
        await view.get_account("acc-1")
    assert await held is None
    assert view.metrics.redis_errors.labels("read")._value.get() == 0
    assert await view.get_account("acc-1") is None  # the connection is free again
