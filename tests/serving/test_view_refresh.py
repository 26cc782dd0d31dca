"""The view refresh: changed accounts are scored longest-waiting first, a bounded number at a time."""

from __future__ import annotations

from typing import Any

from healthmon.core import PipelineClock, parse_policy
from healthmon.serving.metrics import Metrics
from healthmon.serving.redis_view import RedisView
from healthmon.serving.view_refresh import ViewRefresh
from tests.core.builders import policy_doc


class _View(RedisView):
    def __init__(self, metrics: Metrics) -> None:
        super().__init__("", "", metrics)
        self.put: list[str] = []

    def put_snapshot(self, account_id: str, snapshot: dict[str, Any], progress: int = 0) -> None:
        self.put.append(account_id)


def _refresh(bands: dict[str, str]) -> tuple[ViewRefresh, _View, Metrics]:
    metrics = Metrics()
    view = _View(metrics)
    clock = PipelineClock(parse_policy(policy_doc()), clock=lambda: 0)
    saved = lambda a: ({"band": bands[a], "tier": "key", "score": 60.0}, 0)  # noqa: E731
    return ViewRefresh(metrics, view, clock, saved), view, metrics


async def test_at_most_max_accounts_are_scored_in_the_order_they_changed():
    refresh, view, _ = _refresh({a: "green" for a in "abcde"})
    for account in ["c", "a", "e", "a", "b"]:
        refresh.mark(account)
    await refresh.refresh(max_accounts=2)
    assert view.put == ["c", "a"]
    await refresh.refresh()
    assert view.put == ["c", "a", "e", "b"]
    assert refresh.outdated == {}


async def test_the_accounts_gauge_follows_an_account_from_band_to_band():
    bands = {"acme": "green"}
    refresh, _, metrics = _refresh(bands)

    def count(band: str) -> float:
        return metrics.accounts.labels(band, "key")._value.get()

    refresh.mark("acme")
    await refresh.refresh()
    bands["acme"] = "red"
    refresh.mark("acme")
    await refresh.refresh()
    assert (count("green"), count("red")) == (0, 1)
