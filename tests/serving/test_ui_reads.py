"""`/ui/` reads the view in a number of round trips that does not grow with the accounts it lists."""

from __future__ import annotations

from typing import Any

import pytest

from healthmon.core.history import DayPoint, add_point
from healthmon.serving.http_history import history_points
from healthmon.serving.ui_pages import at_risk_rows
from tests.serving.conftest import make_snapshot
from tests.serving.redis_probes import command_calls

pytestmark = pytest.mark.integration

DAY = 20_600
#: what a new connection of the reader sends before its first command
CONNECTING = {"hello", "client|setinfo", "client|setname", "select"}


def _history(score: float, days: int) -> bytes:
    blob = b""
    for n in range(days):
        blob = add_point(blob, DayPoint(DAY - days + n, score + n, "red", ("weekly_active_ratio",)), 180)
    return blob


def _why(measures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return measures[:1]


@pytest.mark.parametrize("per_band", [3, 40])
async def test_histories_are_read_in_one_mget_per_band_whatever_the_accounts(redis_server_factory, view_factory,
                                                                              per_band: int) -> None:
    server = redis_server_factory()  # private: its command counts are this test's only
    view = view_factory(server.url)
    client = server.client()
    scores = {f"red-{n:03d}": 10.0 + n * 0.5 for n in range(per_band)}
    scores |= {f"yellow-{n:03d}": 55.0 + n * 0.25 for n in range(per_band)}
    scores |= {"green-1": 90.0, "local-1": 20.25}  # green: not listed; local-1: its history only in this worker
    histories = {account: _history(score, 5 + len(account) % 4) for account, score in scores.items()}
    for account, score in scores.items():
        view.put_snapshot(account, make_snapshot(account, score=score))
        if account != "local-1":
            view.put_history(account, histories[account])
    assert await view.flush()
    client.config_resetstat()

    rows, truncated = await at_risk_rows(view, {"local-1": histories["local-1"]}.get, _why, csm=None, days=90)

    calls = command_calls(client)
    # two bands: one ZRANGE, one pipeline of HGETs and one MGET each, never a GET per account
    assert calls.get("get", 0) == 0 and calls["mget"] == 2 and calls["zrange"] == 2, calls
    assert set(calls) - CONNECTING == {"zrange", "hget", "mget"}, calls
    listed = [row.snapshot["account_id"] for row in rows]
    assert listed == sorted((a for a in scores if not a.startswith("green")), key=lambda a: scores[a]) \
        and not truncated
    for row in rows:  # each row has its own account's history, the local one included
        assert row.points == history_points(histories[row.snapshot["account_id"]], 90)
        assert row.why == row.snapshot["measures"][:1]


async def test_a_broken_history_leaves_only_its_own_sparkline_empty(view_factory) -> None:
    view = view_factory()
    for account, score in (("a", 20.0), ("b", 30.0)):
        view.put_snapshot(account, make_snapshot(account, score=score))
    view.put_history("b", _history(30.0, 4))
    assert await view.flush()
    view.client.set(view.history_key("a"), b"\xff not a history")
    rows, _ = await at_risk_rows(view, lambda account: None, _why, csm=None, days=90)
    assert [(r.snapshot["account_id"], len(r.points)) for r in rows] == [("a", 0), ("b", 4)]
