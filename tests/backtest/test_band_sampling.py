"""The replay's midnight band counts, kept as bands change, equal a count over every live account each day."""

from __future__ import annotations

import asyncio
from collections import Counter

import orjson

from healthmon.backtest.inputs import NO_TIME, Line
from healthmon.backtest.runner import Replay, replay
from healthmon.config import DEFAULT_POLICY_FILE, Settings
from healthmon.core import load_policy
from healthmon.generator import DEFAULT_START_MS, generate

SETTINGS = Settings(redis={"url": ""}, topics={"partitions": 4})


def test_each_midnights_counts_are_those_of_every_live_account() -> None:
    traffic = generate(accounts=12, scenario="mixed", seed=5, start_ms=DEFAULT_START_MS, days=42)
    # In generated order (profiles first, then by time), as the merge would give them.
    lines = [Line(n, 0, n, NO_TIME if rec.kind == "account" else rec.occurred_at, rec.kind, rec.key,
                  orjson.dumps(rec.value)) for n, rec in enumerate(traffic.records())]
    run = Replay(SETTINGS, load_policy(DEFAULT_POLICY_FILE), processing_ms=DEFAULT_START_MS + 10**11,
                 on_alert=lambda alert: None)
    checked: list[Counter[str]] = []

    def on_day(_: int) -> None:
        full = Counter(s.life.health.band or "none" for s in run.processor.states.live.values())
        assert run.band_counts() == full
        checked.append(full)

    stats = asyncio.run(replay(lines, [run], SETTINGS.topics.input_names, on_day=on_day))
    assert len(checked) >= 40 and sum(stats.band_days[0].values()) == sum(sum(c.values()) for c in checked)
    assert {"green", "red"} <= {band for day in checked for band in day}  # bands do move in this history
