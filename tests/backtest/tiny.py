"""A tiny history whose truth figures are worked out by hand (test_truth.py), also swept (test_sweep.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from healthmon.backtest.inputs import file_names
from healthmon.backtest.report import DAY_MS
from healthmon.config import Settings
from healthmon.core import parse_policy

HOUR = 3_600_000
#: 2026-01-05 00:00 UTC
T0 = 1_767_571_200_000


def days_ms(day: float) -> int:
    """Return `day` days in ms."""
    return int(day * DAY_MS)


# one partition: every account ticks on b's daily events
SETTINGS = Settings(redis={"url": ""}, topics={"partitions": 1})
POLICY_DOC: dict[str, Any] = {
    "core_features": ["reports"], "warmup_seconds": 0,
    "bands": {"green": 75, "yellow": 50},
    "measures": [{"metric": "weekly_active_ratio", "weight": 1, "bad": 0.0, "good": 1.0}],
    "warning_lines": [
        {"name": "idle", "metric": "days_since_last_activity", "kind": "absolute", "above": 5, "exit_below": 0},
        {"name": "gone_quiet", "metric": "days_since_last_activity", "kind": "rhythm",
         "above_by_active_days": {1: 3, 2: 8}},
    ],
}
POLICY = parse_policy(POLICY_DOC)
#: usage days per account (09:00 UTC; b's at noon, so that no two accounts share an instant)
HISTORY = {"acc-a": [0, 1, 2, 3, 30], "acc-b": list(range(61)), "acc-c": [0], "acc-d": [0, 12, 13],
           "acc-e": [52]}


def write_tiny(directory: Path) -> Path:
    """Write HISTORY as a backtest input directory (usage only, no profiles); return it."""
    lines = [orjson.dumps({"event_id": f"{acc}-{day}", "account_id": acc, "user_id": "u1", "feature": "login",
                           "occurred_at": T0 + days_ms(day) + (12 if acc == "acc-b" else 9) * HOUR})
             for acc, days in HISTORY.items() for day in days]
    (directory / f"{file_names(SETTINGS)['usage']}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    return directory
