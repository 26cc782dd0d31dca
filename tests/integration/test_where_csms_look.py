"""Issue #23's 'done when' on a `drop` scenario: a real worker, a real Redis, a local webhook receiver.

The account's /history shows the decline day by day, its alert's `score_7d_ago` is that day's history point,
and the weekly digest, posted to a webhook, names it first with its reason.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from click.testing import CliRunner

from healthmon.cli import cli
from tests.digest.receiver import receiver
from tests.integration.scenario import event_day, read_alerts, run_drop, wait_for_history

pytestmark = pytest.mark.integration

async def test_a_drop_shows_day_by_day_in_history_alert_and_digest(worker_factory, topic_io):
    worker, traffic, dropped, last_day = await run_drop(worker_factory, topic_io)
    settings = worker.settings
    csm = {a.account_id: a.csm for a in traffic.accounts}
    alerts = await read_alerts(topic_io, settings)
    for account in dropped:
        wait_for_history(worker, account, last_day - timedelta(days=2))

    # The digest of the CSM who has both dropped accounts, posted to a webhook, names a dropped one first.
    owner = csm[sorted(dropped)[0]]
    env = {"REDIS_URL": settings.redis.url, "HEALTHMON_REDIS_PREFIX": settings.redis.prefix}
    with receiver(503) as hook:  # a first failure, retried
        # (in a thread: the command runs its own event loop, and this test's is running)
        result = await asyncio.to_thread(CliRunner().invoke, cli, ["digest", "--csm", owner, "--slack-webhook",
                                                                   hook.url], env=env)
    assert result.exit_code == 0, result.output
    assert len(hook.received) == 2 and hook.received[0] == hook.received[1]
    text = hook.received[-1]["body"]["text"]
    lines = text.splitlines()
    assert lines[0].startswith(f"*Health digest for {owner}: 7 days") and lines[1] == "*Moved down the most*"
    names = {a.account_id: a.name for a in traffic.accounts}
    first = next(a for a in sorted(dropped) if lines[2].startswith(f"• *{names[a]}*"))
    assert "(−" in lines[2] and ": weekly active users" in lines[2], lines[2]  # the fall and its reason

    # /history: the decline, day by day, after the change day
    points = wait_for_history(worker, first, last_day - timedelta(days=2))
    days = [date.fromisoformat(p["day"]) for p in points]
    assert days == [days[0] + timedelta(days=n) for n in range(len(days))]
    change = event_day(traffic._timeline.change_day_ms)
    before = [p["score"] for p in points if date.fromisoformat(p["day"]) < change][-3:]
    after = [p for p in points if date.fromisoformat(p["day"]) > change]
    assert after[-1]["score"] <= min(before) - 15, (before, after)
    steps = [b["score"] - a["score"] for a, b in zip(after, after[1:]) if a["score"] is not None]
    assert sum(s <= 0.5 for s in steps) >= 0.7 * len(steps), steps  # mostly down, day after day
    assert after[-1]["costliest"] and after[-1]["costliest"][0].startswith("weekly_active")

    # The alert's score_7d_ago is its history point of 7 days before the alert's day
    by_day = {p["day"]: p["score"] for p in points}
    firing = [a for a in alerts if a["account_id"] == first and a["status"] == "firing"]
    assert firing, [a["summary"] for a in alerts]
    for alert in firing:
        day = event_day(alert["event_time"])
        assert alert["score_7d_ago"] == by_day.get(str(day - timedelta(days=7))), alert
        assert alert["score_30d_ago"] == by_day.get(str(day - timedelta(days=30))), alert
    assert any("(−" in a["summary"] for a in firing), [a["summary"] for a in firing]
