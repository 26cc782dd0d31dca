"""Read the digest's input from the Redis view: every scored account's snapshot and score history."""

from __future__ import annotations

import asyncio

from healthmon.config import RedisSettings
from healthmon.core.history import HistoryFormatError, decode
from healthmon.digest.report import AccountDays
from healthmon.serving.metrics import Metrics
from healthmon.serving.redis_clients import redis_kwargs
from healthmon.serving.redis_view import RedisView

__all__ = ["read_view"]


async def _read(redis: RedisSettings, csm: str | None) -> list[AccountDays]:
    view = RedisView(redis.url, redis.prefix, Metrics(), client_kwargs=redis_kwargs(redis))
    try:
        rows = await view.scored_accounts(csm)
    finally:
        await view.close()
    out = []
    for snapshot, history in rows:
        try:
            points = decode(history)
        except HistoryFormatError as exc:
            raise ValueError(f"account {snapshot.get('account_id')!r}: {exc}") from None
        out.append(AccountDays(snapshot, points))
    return out


def read_view(redis: RedisSettings, csm: str | None = None) -> list[AccountDays]:
    """Return every scored account of the view (one CSM's when given), with its daily points."""
    return asyncio.run(_read(redis, csm))
