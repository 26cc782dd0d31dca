"""Reading the Redis view: an account's snapshot and alerts, its score history, the at-risk list."""

from __future__ import annotations

from typing import Any, cast

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from healthmon.serving.metrics import Metrics
from healthmon.serving.redis_clients import ViewBusy
from healthmon.serving.redis_keys import ViewKeys

__all__ = ["ViewReads"]


class ViewReads(ViewKeys):
    """The HTTP API's reads of the view, through the readers' client."""

    reader: aioredis.Redis | None
    metrics: Metrics
    recent_alerts: int

    async def get_account(self, account_id: str) -> dict[str, Any] | None:
        """Return the snapshot and recent alerts (newest first) of an account, or None if unknown."""
        assert self.reader is not None
        try:
            pipe = self.reader.pipeline(transaction=False)
            pipe.hget(self.account_key(account_id), "snapshot")
            pipe.lrange(self.account_alerts_key(account_id), 0, self.recent_alerts - 1)
            raw, alerts = await pipe.execute()
        except ViewBusy:
            raise  # Redis is fine; this worker is saturated
        except (RedisError, OSError):
            self.metrics.redis_errors.labels("read").inc()
            raise
        if raw is None:
            return None
        return {"account": orjson.loads(raw), "recent_alerts": [orjson.loads(a) for a in alerts]}

    async def get_history(self, account_id: str) -> bytes | None:
        """Return an account's encoded score history (`healthmon.core.history`), or None if Redis has none."""
        assert self.reader is not None
        try:
            raw = await self.reader.get(self.history_key(account_id))
        except ViewBusy:
            raise  # Redis is fine; this worker is saturated
        except (RedisError, OSError):
            self.metrics.redis_errors.labels("read").inc()
            raise
        return None if raw is None else cast(bytes, raw)

    async def list_accounts(self, band: str | None, tier: str | None, limit: int) -> list[dict[str, Any]]:
        """Return up to `limit` snapshots, lowest score first, filtered by band and/or tier."""
        assert self.reader is not None
        try:
            if band is not None and tier is not None:
                # ZINTER answers in score order; with one member in both sets the score is the same.
                members = await self.reader.zinter([self.scores_key(band=band), self.scores_key(tier=tier)],
                                                   aggregate="MAX")
                members = members[:limit]
            else:
                members = await self.reader.zrange(self.scores_key(band=band, tier=tier), 0, limit - 1)
            snaps: list[Any] = []
            if members:
                pipe = self.reader.pipeline(transaction=False)
                for member in members:
                    pipe.hget(self.account_key(cast(bytes, member).decode()), "snapshot")
                snaps = await pipe.execute()
        except ViewBusy:
            raise  # Redis is fine; this worker is saturated
        except (RedisError, OSError):
            self.metrics.redis_errors.labels("read").inc()
            raise
        return [orjson.loads(s) for s in snaps if s is not None]
