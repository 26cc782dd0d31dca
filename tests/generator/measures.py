"""Measures the generator tests take of a list of records."""

from __future__ import annotations

from collections import Counter

from healthmon.generator import Record
from healthmon.generator.records import DAY_MS


def weekly_active_users(records: list[Record], account: str, week_start_ms: int) -> int:
    """Count distinct users of `account` with usage in the 7 days from `week_start_ms`."""
    end = week_start_ms + 7 * DAY_MS
    return len(
        {
            r.value["user_id"]
            for r in records
            if r.kind == "usage" and r.key == account and week_start_ms <= r.occurred_at < end
        }
    )


def usage_per_day(records: list[Record], start_ms: int, days: int) -> list[int]:
    """Count usage records per day of the period."""
    counts = Counter((r.occurred_at - start_ms) // DAY_MS for r in records if r.kind == "usage")
    return [counts[d] for d in range(days)]


def of_account(records: list[Record], account: str, kind: str | None = None) -> list[Record]:
    """Return the records of `account` (optionally of one kind)."""
    return [r for r in records if r.key == account and (kind is None or r.kind == kind)]
