"""The view refresh: changed accounts are scored longest-waiting first, a bounded number at a time."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from healthmon.config import Settings
from healthmon.core import PipelineClock, parse_policy
from healthmon.serving.account_series import ACCOUNT_FAMILIES, SERIES_PER_ACCOUNT, AccountSeries
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


class _State(str):
    """An account id standing in for its state (the fake engine scores it by name)."""

    history = b""


def _refresh(bands: dict[str, str]) -> tuple[ViewRefresh, _View, Metrics]:
    metrics = Metrics()
    view = _View(metrics)
    clock = PipelineClock(parse_policy(policy_doc()), clock=lambda: 0)
    saved = lambda a: ({"band": bands[a], "tier": "key", "score": 60.0}, 0, b"")  # noqa: E731
    return ViewRefresh(metrics, view, clock, saved, stream_time=lambda a: 0), view, metrics


async def test_at_most_max_accounts_are_scored_in_the_order_they_changed():
    refresh, view, _ = _refresh({a: "green" for a in "abcde"})
    for account in ["c", "a", "e", "a", "b"]:
        refresh.mark(account)
    await refresh.refresh(max_accounts=2)
    assert view.put == ["c", "a"]
    await refresh.refresh()
    assert view.put == ["c", "a", "e", "b"]
    assert refresh.outdated == {}


async def test_changed_accounts_go_before_a_resync_which_keeps_a_quarter_of_each_refresh():
    # A new owner queues every account it took over; an account that changes meanwhile is pushed first.
    taken_over = [f"t{i:03d}" for i in range(100)]
    refresh, view, _ = _refresh({a: "green" for a in [*taken_over, *"abcdefghij", "new"]})
    refresh.mark_all(taken_over)
    refresh.mark("new")
    await refresh.refresh(max_accounts=8)
    assert view.put == ["new", *taken_over[:7]]
    # A backfill changing more accounts than a refresh takes does not starve the resync.
    view.put.clear()
    for account in "abcdefghij":
        refresh.mark(account)
    refresh.mark(taken_over[50])  # changed and queued for the resync: pushed once, as a changed account
    await refresh.refresh(max_accounts=8)
    assert view.put == [*"abcdef", *taken_over[7:9]]
    await refresh.refresh()
    assert view.put.count(taken_over[50]) == 1 and sorted(view.put) == sorted({*view.put})
    assert set(view.put) == {*taken_over, *"abcdefghij"} - {*taken_over[:7]}
    assert not refresh.outdated and not refresh.resync


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


def _scored_refresh(scores: dict[str, float], mode: str, max_series: int,
                    stream_ms: int = 0) -> tuple[ViewRefresh, Metrics]:
    metrics = Metrics(account_series=AccountSeries(mode, max_series))  # type: ignore[arg-type]

    def snapshot(state: str, at_ms: int) -> dict[str, Any]:
        s = scores[state]
        band = "red" if s <= 50 else "yellow" if s <= 75 else "green"
        return {"account_id": state, "band": band, "tier": "key", "csm": f"csm-{hash(state) % 7}", "score": s,
                "as_of": at_ms, "metrics": {"days_since_last_activity": 2, "open_urgent_tickets": 0},
                "score_7d_ago": min(100.0, s + 5), "score_30d_ago": min(100.0, s + 9)}

    clock = PipelineClock(parse_policy(policy_doc()), clock=lambda: 0)
    refresh = ViewRefresh(metrics, _View(metrics), clock, lambda a: (snapshot(a, stream_ms), 0, b""),
                          stream_time=lambda a: stream_ms)
    return refresh, metrics


def _account_series(metrics: Metrics) -> tuple[int, set[str]]:
    """Count the per-account series in a scrape of the registry; return it and the accounts they name."""
    count, accounts = 0, set()
    for family in text_string_to_metric_families(generate_latest(metrics.registry).decode()):
        if family.name in {name for name, _, _ in ACCOUNT_FAMILIES}:
            count += len(family.samples)
            accounts |= {s.labels["account_id"] for s in family.samples}
    return count, accounts


@pytest.mark.parametrize(("mode", "at_risk_share"), [("all", 1.0), ("at_risk", 0.4)])
async def test_ten_thousand_accounts_stay_under_the_cap(mode: str, at_risk_share: float) -> None:
    # scores spread over 0-100 so that `at_risk_share` of the accounts are yellow or red
    scores = {f"acct-{i:05d}": min(100.0, round((i % 1000) / 1000 * 75 / at_risk_share, 2)) for i in range(10_000)}
    cap = Settings().http.account_metrics_max
    refresh, metrics = _scored_refresh(scores, mode, cap)
    refresh.mark_all(scores)
    await refresh.refresh()
    count, accounts = _account_series(metrics)
    selected = sum(1 for s in scores.values() if mode == "all" or s <= 75)
    per_account = SERIES_PER_ACCOUNT
    assert selected > cap // per_account  # the test means nothing unless the mode selects more than the cap allows
    assert count <= cap and count == per_account * (cap // per_account)
    assert max(scores[a] for a in accounts) <= min(s for a, s in scores.items() if a not in accounts)
    text = generate_latest(metrics.registry).decode()
    assert f"healthmon_account_series_capped_accounts {float(selected - cap // per_account)}" in text
    assert f"healthmon_account_series {float(count)}" in text


async def test_accounts_returning_to_green_leave_the_series_a_day_later() -> None:
    scores = {"a": 30.0, "b": 60.0, "c": 90.0}
    refresh, metrics = _scored_refresh(scores, "at_risk", 5_000)
    refresh.mark_all(scores)
    await refresh.refresh()
    assert _account_series(metrics) == (10, {"a", "b"})
    scores["a"] = 95.0
    refresh.mark("a")
    await refresh.refresh()
    assert _account_series(metrics) == (10, {"a", "b"})  # still shown: back to green less than a day ago
    refresh._stream_time = lambda account: 86_400_000  # the partition's stream time moves a day on
    await refresh.refresh()
    assert _account_series(metrics) == (5, {"b"})


async def test_accounts_another_worker_owns_now_leave_the_gauge_the_series_and_the_queues():
    # After a rebalance the worker kept counting the accounts of its revoked partitions: the sum over
    # workers of `healthmon_accounts` over-counted until a restart.
    bands = {"mine": "green", "gone": "red", "gone-queued": "yellow"}
    refresh, view, metrics = _refresh(bands)

    def count(band: str) -> float:
        return metrics.accounts.labels(band, "key")._value.get()

    refresh.mark_all(bands)
    await refresh.refresh()
    assert (count("green"), count("red"), count("yellow")) == (1, 1, 1)
    refresh.mark("gone-queued")
    refresh.mark_all(["gone"])

    assert refresh.retain(lambda account: account == "mine") == 2

    assert (count("green"), count("red"), count("yellow")) == (1, 0, 0)
    assert not refresh.queued("gone") and not refresh.queued("gone-queued")
    view.put.clear()
    await refresh.refresh()
    assert view.put == [] and (count("red"), count("yellow")) == (0, 0)
