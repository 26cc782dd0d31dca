"""Reading the Redis view: an account's snapshot and alerts, its score history, the at-risk list."""

from __future__ import annotations

from typing import Any, cast

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from healthmon.core.csm import csm_matches
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

    async def get_histories(self, account_ids: list[str]) -> list[bytes | None]:
        """Return the encoded score histories of `account_ids`, in order (None: Redis has none), in one MGET."""
        assert self.reader is not None
        if not account_ids:
            return []
        try:
            found = await self.reader.mget([self.history_key(a) for a in account_ids])
        except ViewBusy:
            raise  # Redis is fine; this worker is saturated
        except (RedisError, OSError):
            self.metrics.redis_errors.labels("read").inc()
            raise
        return [None if raw is None else cast(bytes, raw) for raw in found]

    async def list_accounts(self, band: str | None, tier: str | None, limit: int, *, csm: str | None = None,
                            sort: str = "score") -> list[dict[str, Any]]:
        """Return up to `limit` snapshots filtered by band, tier and CSM, lowest score (or biggest 7-day drop) first.

        `csm` is a name or its slug (`healthmon.core.csm`); `none` picks the accounts without a CSM.
        """
        assert self.reader is not None
        order = self.drops_key() if sort == "drop_7d" else self.scores_key()
        filters = [key for key, given in ((self.scores_key(band=band), band), (self.scores_key(tier=tier), tier),
                                          (self.csm_key(csm), csm)) if given is not None]
        # An account whose CSM changed while no worker knew its old one may linger in that CSM's set, and a
        # view written before the sets were keyed by slug has its accounts under their names until each is
        # written again: a few more members are read, and snapshots of another CSM are left out below.
        wanted = limit + (16 if csm is not None else 0)
        try:
            if not filters:
                members = await self.reader.zrange(order, 0, wanted - 1)
            elif sort == "score" and len(filters) == 1:
                members = await self.reader.zrange(filters[0], 0, wanted - 1)
            else:
                # ZINTER answers in the order of the summed scores: the order set's, the filters weighing 0.
                members = await self.reader.zinter({order: 1, **dict.fromkeys(filters, 0)}, aggregate="SUM")
                members = members[:wanted]
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
        found = [orjson.loads(s) for s in snaps if s is not None]
        return [snap for snap in found if csm is None or csm_matches(csm, snap.get("csm"))][:limit]

    async def scored_accounts(self, csm: str | None = None, batch: int = 500) -> list[tuple[dict[str, Any], bytes]]:
        """Return (snapshot, encoded score history) of every scored account (one CSM's, by name or slug, when given)."""
        assert self.reader is not None
        try:
            members = await self.reader.zrange(self.scores_key() if csm is None else self.csm_key(csm), 0, -1)
            out: list[tuple[dict[str, Any], bytes]] = []
            for start in range(0, len(members), batch):
                pipe = self.reader.pipeline(transaction=False)
                for member in members[start:start + batch]:
                    account_id = cast(bytes, member).decode()
                    pipe.hget(self.account_key(account_id), "snapshot")
                    pipe.get(self.history_key(account_id))
                replies = await pipe.execute()
                for raw, history in zip(replies[0::2], replies[1::2]):
                    if raw is not None:
                        snap = orjson.loads(raw)
                        if csm is None or csm_matches(csm, snap.get("csm")):
                            out.append((snap, cast(bytes, history or b"")))
        except (RedisError, OSError):
            self.metrics.redis_errors.labels("read").inc()
            raise
        return out
