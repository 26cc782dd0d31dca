"""The Redis view: latest snapshot per account, at-risk sorted sets, a capped stream of recent alerts.

Writes are batched in one pipeline per flush and made only for accounts whose snapshot changed.
When Redis is down, errors are counted, pending writes are kept (one entry per account, so memory
stays bounded) and the view catches up at the next successful flush.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from healthmon.serving.metrics import Metrics

__all__ = ["RedisView", "snapshot_fingerprint"]

log = logging.getLogger(__name__)

RECENT_ALERTS_PER_ACCOUNT = 20


def snapshot_fingerprint(snapshot: dict[str, Any]) -> bytes:
    """Return the bytes that decide whether a snapshot changed (everything but update times)."""
    return orjson.dumps({k: v for k, v in snapshot.items() if k not in ("updated_at", "as_of")},
                        option=orjson.OPT_SORT_KEYS)


class RedisView:
    """Batched, change-only writer and reader of the Redis health view."""

    def __init__(self, url: str, prefix: str, metrics: Metrics, alerts_cap: int = 10_000) -> None:
        self.prefix = prefix
        self.metrics = metrics
        self.alerts_cap = alerts_cap
        self.client = aioredis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0) if url else None
        self._pending: dict[str, dict[str, Any]] = {}
        self._written: dict[str, bytes] = {}
        self._alerts: deque[dict[str, Any]] = deque(maxlen=alerts_cap)
        self.healthy = True

    def key(self, *parts: str) -> str:
        """Return a prefixed Redis key."""
        return self.prefix + ":".join(parts)

    def put_snapshot(self, account_id: str, snapshot: dict[str, Any]) -> None:
        """Queue a snapshot for the next flush if it differs from the last one written."""
        fp = snapshot_fingerprint(snapshot)
        if self._written.get(account_id) == fp:
            self._pending.pop(account_id, None)
            return
        self._pending[account_id] = snapshot

    def add_alert(self, alert: dict[str, Any]) -> None:
        """Queue an alert for the recent-alerts stream."""
        self._alerts.append(alert)

    @property
    def backlog(self) -> int:
        """Return how many writes wait for the next successful flush."""
        return len(self._pending) + len(self._alerts)

    async def flush(self) -> bool:
        """Write everything pending in one pipeline; return False (and keep it) if Redis failed."""
        if self.client is None or not (self._pending or self._alerts):
            return True
        pending, self._pending = self._pending, {}
        alerts = list(self._alerts)
        pipe = self.client.pipeline(transaction=False)
        for account_id, snap in pending.items():
            self._queue_snapshot(pipe, account_id, snap)
        for alert in alerts:
            body = orjson.dumps(alert)
            pipe.xadd(self.key("alerts"), {"alert": body}, maxlen=self.alerts_cap, approximate=True)
            account = alert.get("account_id")
            if account:
                pipe.lpush(self.key("account", account, "alerts"), body)
                pipe.ltrim(self.key("account", account, "alerts"), 0, RECENT_ALERTS_PER_ACCOUNT - 1)
        try:
            await pipe.execute()
        except (RedisError, OSError) as exc:
            self.metrics.redis_errors.labels("write").inc()
            if self.healthy:
                log.warning("Redis view write failed (%s); keeping %d writes for later", exc, self.backlog)
            self.healthy = False
            for account_id, snap in pending.items():
                self._pending.setdefault(account_id, snap)
            return False
        if not self.healthy:
            log.warning("Redis view is back; caught up %d writes", len(pending) + len(alerts))
        self.healthy = True
        for account_id, snap in pending.items():
            self._written[account_id] = snapshot_fingerprint(snap)
        for _ in alerts:
            self._alerts.popleft()
        return True

    def _queue_snapshot(self, pipe: Any, account_id: str, snap: dict[str, Any]) -> None:
        score = float(snap.get("score") or 0.0)
        tier = snap.get("tier") or "unknown"
        band = snap.get("band") or "unknown"
        pipe.hset(self.key("account", account_id), mapping={
            "snapshot": orjson.dumps(snap), "score": score, "band": band, "tier": tier,
            "updated_at": snap.get("updated_at") or 0, "policy_version": snap.get("policy_version") or "",
        })
        pipe.zadd(self.key("accounts", "score"), {account_id: score})
        for t in ("strategic", "key", "standard", "unknown"):
            if t != tier:
                pipe.zrem(self.key("accounts", "score", "tier", t), account_id)
        for b in ("green", "yellow", "red", "unknown"):
            if b != band:
                pipe.zrem(self.key("accounts", "score", "band", b), account_id)
        pipe.zadd(self.key("accounts", "score", "tier", tier), {account_id: score})
        pipe.zadd(self.key("accounts", "score", "band", band), {account_id: score})

    async def get_account(self, account_id: str) -> dict[str, Any] | None:
        """Return the snapshot and recent alerts of an account, or None if unknown."""
        assert self.client is not None
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.hget(self.key("account", account_id), "snapshot")
            pipe.lrange(self.key("account", account_id, "alerts"), 0, RECENT_ALERTS_PER_ACCOUNT - 1)
            raw, alerts = await pipe.execute()
        except (RedisError, OSError):
            self.metrics.redis_errors.labels("read").inc()
            raise
        if raw is None:
            return None
        return {"account": orjson.loads(raw), "recent_alerts": [orjson.loads(a) for a in alerts]}

    async def list_accounts(self, band: str | None, tier: str | None, limit: int) -> list[dict[str, Any]]:
        """Return up to `limit` accounts, lowest score first, filtered by band and/or tier."""
        assert self.client is not None
        keys = []
        if band:
            keys.append(self.key("accounts", "score", "band", band))
        if tier:
            keys.append(self.key("accounts", "score", "tier", tier))
        try:
            if len(keys) == 2:
                members = await self.client.zinter(keys, aggregate="MAX", withscores=True)
                members = sorted(members, key=lambda m: (m[1], m[0]))[:limit]
            else:
                members = await self.client.zrange(keys[0] if keys else self.key("accounts", "score"),
                                                   0, limit - 1, withscores=True)
            pipe = self.client.pipeline(transaction=False)
            for member, _score in members:
                pipe.hget(self.key("account", member.decode()), "snapshot")
            snaps = await pipe.execute() if members else []
        except (RedisError, OSError):
            self.metrics.redis_errors.labels("read").inc()
            raise
        return [orjson.loads(s) for s in snaps if s is not None]

    async def ping(self) -> bool:
        """Return True if Redis answers."""
        if self.client is None:
            return False
        try:
            return bool(await self.client.ping())
        except (RedisError, OSError):
            self.metrics.redis_errors.labels("ping").inc()
            return False

    async def close(self) -> None:
        """Close the connection pool."""
        if self.client is not None:
            await self.client.aclose()
