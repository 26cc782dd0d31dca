"""Serving fixtures: Redis views with a unique key prefix per test, snapshots shaped like Engine.snapshot()."""

from __future__ import annotations

from typing import Any, AsyncIterator, Callable

import pytest
import redis

from healthmon.serving.metrics import Metrics
from healthmon.serving.redis_view import RedisView
from tests.fixtures import unique_id


def make_snapshot(account_id: str, score: float | None = 72.5, tier: str | None = "key",
                  band: str | None = None, updated_at: int = 1_700_000_000_000, **extra: Any) -> dict[str, Any]:
    """Return a snapshot with the fields and shape of `Engine.snapshot()`."""
    if band is None and score is not None:
        band = "red" if score <= 50 else "yellow" if score <= 75 else "green"
    measures = [
        {"name": "weekly_active_ratio", "value": 0.4, "score": score, "weight": 3.0,
         "contribution": None if score is None else round(score * 0.75, 2)},
        {"name": "nps", "value": None, "score": None, "weight": 1.0, "contribution": None},
        {"name": "urgent_tickets", "value": 0.0, "score": None if score is None else 100.0, "weight": 1.0,
         "contribution": None if score is None else 25.0},
    ]
    return {"account_id": account_id, "name": f"Account {account_id}", "tier": tier, "csm": "alice@example.com",
            "seats": 40, "score": score, "band": band, "alert_band": band, "measures": measures,
            "metrics": {"weekly_active_ratio": 0.4}, "firing": [], "updated_at": updated_at,
            "as_of": updated_at + 1, "policy_version": "sha256:abc123", **extra}


def make_alert(account_id: str | None, n: int) -> dict[str, Any]:
    """Return a minimal alert-shaped dict numbered `n`."""
    return {"alert_id": f"a-{n}", "account_id": account_id, "kind": "health_changed", "status": "firing",
            "severity": "warning", "summary": f"alert {n}"}


@pytest.fixture
async def view_factory(redis_url: str) -> AsyncIterator[Callable[..., RedisView]]:
    """Build RedisViews with a unique key prefix; their keys are deleted at the end of the test."""
    views: list[RedisView] = []
    prefix = f"hmtest-{unique_id()}:"

    def make(url: str = redis_url, **kwargs: Any) -> RedisView:
        view = RedisView(url, kwargs.pop("prefix", prefix), Metrics(), **kwargs)
        views.append(view)
        return view

    yield make
    for view in views:
        await view.close()
    for url in {redis_url}:
        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
