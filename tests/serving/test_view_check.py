"""The worker's own view check: stale accounts are counted and pushed again; in-flight ones are left alone."""

from __future__ import annotations

import pytest

from agents.view import ViewCheck
from healthmon.core import PipelineClock, parse_policy
from healthmon.serving.view_check import compare_view
from healthmon.serving.view_refresh import ViewRefresh
from tests.core.builders import policy_doc
from tests.serving.conftest import make_snapshot

pytestmark = pytest.mark.integration

T = 1_700_000_000_000


async def test_stale_accounts_are_counted_and_pushed_again_until_the_view_converges(view_factory):
    view, other = view_factory(), view_factory()
    states = {"fresh": (make_snapshot("fresh", updated_at=T), 9), "stale": (make_snapshot("stale", updated_at=T), 9),
              "missing": (make_snapshot("missing", updated_at=T), 9),
              "ahead": (make_snapshot("ahead", updated_at=T), 9)}
    other.put_snapshot("fresh", *states["fresh"])
    other.put_snapshot("stale", make_snapshot("stale", score=99.0, updated_at=T - 86_400_000), 3)
    other.put_snapshot("ahead", make_snapshot("ahead", score=10.0, updated_at=T + 60_000), 12)
    assert await other.flush()
    metrics = view.metrics
    saved = lambda a: states[a] + (b"",) if a in states else None  # noqa: E731 - no score history here
    refresh = ViewRefresh(metrics, view, PipelineClock(parse_policy(policy_doc()), clock=lambda: 0), saved,
                          stream_time=lambda a: T)
    check = ViewCheck(300, saved, metrics)

    assert await check.run(refresh, sorted(states)) == 2
    assert metrics.view_stale._value.get() == 2
    assert list(refresh.resync) == ["missing", "stale"] and refresh.queued("stale")
    await refresh.refresh()
    assert await check.run(refresh, sorted(states)) == 0
    assert metrics.view_stale._value.get() == 0
    differences = await compare_view(view, states)
    assert [(d.account_id, d.ahead) for d in differences] == [("ahead", True)]
