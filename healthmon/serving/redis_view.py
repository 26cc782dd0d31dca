"""The Redis view: latest snapshot per account, at-risk sorted sets, a capped stream of recent alerts.

Writes go out in pipelines of at most `batch_accounts` accounts, only for accounts whose snapshot
changed; within a pipeline each sorted set gets one ZADD and one ZREM for all its accounts. When Redis
is down, errors are counted, pending writes are kept (one entry per account and at most `alerts_cap`
alerts, so memory stays bounded) and the view catches up at the next successful flush.
Whenever Redis may have lost data (it came back after errors, or this writer's marker key is gone; the
marker is checked at every flush, even with nothing to write), the view asks for a resync:
`resync_requested` tells the owner to put every local account again.

Key layout (`p` is the prefix, `HEALTHMON_REDIS_PREFIX`):

- `p` + `account:{id}`: hash of the latest snapshot (see `SNAPSHOT_FIELDS`)
- `p` + `alerts:account:{id}`: list of the account's recent alerts, newest first
- `p` + `accounts:score`, `p` + `accounts:score:tier:{tier}`, `p` + `accounts:score:band:{band}`:
  sorted sets of account ids by score (lowest = most at risk); accounts without a score are in none
- `p` + `alerts`: stream of recent alerts (field `alert`: the alert JSON), capped near `alerts_cap`
- `p` + `view:writer:{token}`: one marker per worker process, to notice that Redis lost its data
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from typing import Any, cast

import orjson
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from healthmon.core.vocabulary import BANDS
from healthmon.serving.metrics import TIER_LABELS, UNKNOWN_TIER, Metrics

__all__ = ["RedisView", "SNAPSHOT_FIELDS", "ViewBusy", "snapshot_fingerprint"]

log = logging.getLogger(__name__)

#: Fields of the per-account hash; a field whose snapshot value is null is absent.
SNAPSHOT_FIELDS = ("snapshot", "score", "band", "alert_band", "tier", "name", "measures", "updated_at",
                   "policy_version")
MARKER_TTL_SECONDS = 86_400


class ViewBusy(RedisError):
    """Every pooled Redis connection stayed busy for the whole wait: Redis is up, this worker is saturated."""


class _QueueingPool(aioredis.BlockingConnectionPool):
    """A bounded pool on which callers wait their turn; a wait that runs out raises `ViewBusy`.

    redis-py's default pool refuses a caller outright beyond `max_connections` ("Too many
    connections"), which made a burst of HTTP requests look like a Redis outage.
    """

    async def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().get_connection(*args, **kwargs)
        except RedisConnectionError as exc:
            if isinstance(exc.__cause__, asyncio.TimeoutError):  # the pool's wait, not a failed connect
                raise ViewBusy(f"all {self.max_connections} Redis connections busy for {self.timeout} s") from exc
            raise


def snapshot_fingerprint(snapshot: dict[str, Any]) -> bytes:
    """Return the bytes that decide whether a snapshot changed (everything but update times)."""
    return orjson.dumps({k: v for k, v in snapshot.items() if k not in ("updated_at", "as_of")},
                        option=orjson.OPT_SORT_KEYS)


def _place(snapshot: dict[str, Any]) -> tuple[str, str] | None:
    """Return the (band, tier) sorted sets an account belongs in, or None when it has no score."""
    if snapshot.get("score") is None or snapshot.get("band") not in BANDS:
        return None
    tier = snapshot.get("tier")
    return snapshot["band"], tier if tier in TIER_LABELS else UNKNOWN_TIER


class _SetWrites:
    """Sorted-set writes of one pipeline, gathered per set: one ZADD and one ZREM per set, not per account."""

    __slots__ = ("adds", "removes")

    def __init__(self) -> None:
        self.adds: dict[str, dict[str, float]] = {}
        self.removes: dict[str, list[str]] = {}

    def add(self, key: str, member: str, score: float) -> None:
        self.adds.setdefault(key, {})[member] = score

    def remove(self, key: str, member: str) -> None:
        self.removes.setdefault(key, []).append(member)

    def queue(self, pipe: Any) -> None:
        """Queue the gathered writes (an account is never both added to and removed from one set)."""
        for key in sorted(self.removes):
            pipe.zrem(key, *self.removes[key])
        for key in sorted(self.adds):
            pipe.zadd(key, self.adds[key])


class RedisView:
    """Batched, change-only writer and reader of the Redis health view."""

    def __init__(self, url: str, prefix: str, metrics: Metrics, alerts_cap: int = 10_000,
                 recent_alerts: int = 20, batch_accounts: int = 500, max_connections: int = 50,
                 pool_timeout_s: float = 5.0, client_kwargs: dict[str, Any] | None = None) -> None:
        self.prefix = prefix
        self.metrics = metrics
        self.alerts_cap = alerts_cap
        self.recent_alerts = recent_alerts
        self.batch_accounts = batch_accounts
        #: the writer's client (flushes, marker checks, pings): its own connections, which no burst of
        #: HTTP reads can take from it
        self.client: aioredis.Redis | None = None
        #: the readers' client (the HTTP API): at most `max_connections`, further reads queue for one
        self.reader: aioredis.Redis | None = None
        # client_kwargs: TLS CA and credentials (`streams.redis_security.redis_kwargs`).
        extra = client_kwargs or {}
        if url:
            self.client = aioredis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0,
                                            **extra)
            # Reads are idempotent: one retry on a fresh connection hides an idle connection that a
            # restarted Redis closed (the writer meets its own stale connections and recovers by itself).
            pool = _QueueingPool.from_url(url, max_connections=max_connections, timeout=pool_timeout_s,
                                          socket_timeout=2.0, socket_connect_timeout=2.0,
                                          retry=Retry(NoBackoff(), 1), retry_on_error=[RedisConnectionError],
                                          **extra)
            self.reader = aioredis.Redis.from_pool(pool)
        self._pending: dict[str, dict[str, Any]] = {}
        #: account -> (fingerprint, place) as last written; place None: in no sorted set
        self._written: dict[str, tuple[bytes, tuple[str, str] | None]] = {}
        self._inflight: dict[str, bytes] = {}
        self._alerts: deque[dict[str, Any]] = deque(maxlen=alerts_cap)
        self._marker = self.key("view", "writer", uuid.uuid4().hex)
        self.healthy = True
        self.resync_requested = False

    def key(self, *parts: str) -> str:
        """Return a prefixed Redis key."""
        return self.prefix + ":".join(parts)

    def account_key(self, account_id: str) -> str:
        """Return the key of an account's snapshot hash."""
        return self.key("account", account_id)

    def account_alerts_key(self, account_id: str) -> str:
        """Return the key of an account's recent-alerts list."""
        return self.key("alerts", "account", account_id)

    def scores_key(self, band: str | None = None, tier: str | None = None) -> str:
        """Return the key of the score-sorted set of all accounts, or of one band or one tier."""
        if band is not None:
            return self.key("accounts", "score", "band", band)
        if tier is not None:
            return self.key("accounts", "score", "tier", tier)
        return self.key("accounts", "score")

    # -- writing ----------------------------------------------------------------------------------------

    def put_snapshot(self, account_id: str, snapshot: dict[str, Any]) -> None:
        """Queue a snapshot for the next flush unless Redis already has (or is being sent) the same one."""
        if self.client is None:
            return
        fp = snapshot_fingerprint(snapshot)
        written = self._written.get(account_id)
        current = self._inflight.get(account_id) or (written[0] if written else None)
        if current == fp:
            self._pending.pop(account_id, None)
            return
        self._pending[account_id] = snapshot

    def add_alert(self, alert: dict[str, Any]) -> None:
        """Queue an alert for the recent-alerts stream and its account's list."""
        if self.client is not None:
            self._alerts.append(alert)

    @property
    def backlog(self) -> int:
        """Return how many writes wait for the next successful flush."""
        return len(self._pending) + len(self._alerts)

    def resync_started(self) -> None:
        """Acknowledge a resync request: the owner is putting every local account again."""
        self.resync_requested = False

    async def flush(self) -> bool:
        """Write everything pending, in pipelines; return False (and keep the rest) if Redis failed."""
        if self.client is None:
            return True
        if not (self._pending or self._alerts):
            return await self._check_marker()
        pending, self._pending = list(self._pending.items()), {}
        alerts = list(self._alerts)
        self._alerts.clear()
        self._inflight = {account_id: snapshot_fingerprint(snap) for account_id, snap in pending}
        done_snaps = done_alerts = 0
        try:
            first = True
            while first or done_snaps < len(pending) or done_alerts < len(alerts):
                snaps = pending[done_snaps:done_snaps + self.batch_accounts]
                batch = alerts[done_alerts:done_alerts + self.batch_accounts]
                pipe = self.client.pipeline(transaction=False)
                if first:
                    pipe.exists(self._marker)
                sets = _SetWrites()
                for account_id, snap in snaps:
                    self._queue_snapshot(pipe, account_id, snap, sets)
                sets.queue(pipe)
                for alert in batch:
                    self._queue_alert(pipe, alert)
                if first:
                    pipe.set(self._marker, b"1", ex=MARKER_TTL_SECONDS)
                results = await pipe.execute()
                if first and not results[0]:
                    self._request_resync("its marker key is missing (new writer, or Redis lost data)")
                first = False
                for account_id, snap in snaps:
                    self._written[account_id] = (self._inflight[account_id], _place(snap))
                done_snaps += len(snaps)
                done_alerts += len(batch)
        except (RedisError, OSError) as exc:
            self.metrics.redis_errors.labels("write").inc()
            for account_id, snap in pending[done_snaps:]:
                self._pending.setdefault(account_id, snap)
            # Keep the unsent alerts before the newer ones; past the cap the oldest go first.
            self._alerts = deque([*alerts[done_alerts:], *self._alerts], maxlen=self.alerts_cap)
            if self.healthy:
                log.warning("Redis view write failed (%s); keeping %d writes for later", exc, self.backlog)
            self.healthy = False
            return False
        finally:
            self._inflight = {}
        if not self.healthy:
            log.warning("Redis view is back; wrote %d snapshots and %d alerts", len(pending), len(alerts))
            self.healthy = True
            self._request_resync("Redis came back after errors")
        return True

    async def _check_marker(self) -> bool:
        """With nothing to write, still notice that Redis lost the view (a restart between flushes)."""
        assert self.client is not None
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.exists(self._marker)
            pipe.set(self._marker, b"1", ex=MARKER_TTL_SECONDS)
            present, _ = await pipe.execute()
        except (RedisError, OSError) as exc:
            self.metrics.redis_errors.labels("ping").inc()
            if self.healthy:
                log.warning("Redis view check failed (%s)", exc)
            self.healthy = False
            return False
        if not self.healthy:
            log.warning("Redis view is back")
            self.healthy = True
            self._request_resync("Redis came back after errors")
        elif not present:
            self._request_resync("its marker key is missing (Redis lost data)")
        return True

    def _request_resync(self, why: str) -> None:
        log.info("Redis view resync requested: %s", why)
        self._written.clear()
        self.resync_requested = True

    def _queue_snapshot(self, pipe: Any, account_id: str, snap: dict[str, Any], sets: _SetWrites) -> None:
        key = self.account_key(account_id)
        fields = {
            "snapshot": orjson.dumps(snap), "score": snap.get("score"), "band": snap.get("band"),
            "alert_band": snap.get("alert_band"), "tier": snap.get("tier"), "name": snap.get("name"),
            "measures": orjson.dumps(snap.get("measures") or []), "updated_at": snap.get("updated_at"),
            "policy_version": snap.get("policy_version"),
        }
        pipe.hset(key, mapping={k: v for k, v in fields.items() if v is not None})
        absent = [k for k, v in fields.items() if v is None]
        if absent:
            pipe.hdel(key, *absent)
        place = _place(snap)
        written = self._written.get(account_id)
        if written is not None and written[1] == place:
            if place is not None:  # same sets: only the score may have moved
                for set_key in (self.scores_key(), self.scores_key(band=place[0]), self.scores_key(tier=place[1])):
                    sets.add(set_key, account_id, snap["score"])
            return
        # Leave the sets it was in; when that is unknown (a restart or a resync forgot it), leave them all.
        if written is None:
            stale_bands: set[str] = set(BANDS)
            stale_tiers: set[str] = set(TIER_LABELS)
        elif written[1] is None:
            stale_bands, stale_tiers = set(), set()
        else:
            stale_bands, stale_tiers = {written[1][0]}, {written[1][1]}
        if place is None:
            sets.remove(self.scores_key(), account_id)
        else:
            stale_bands.discard(place[0])
            stale_tiers.discard(place[1])
            sets.add(self.scores_key(), account_id, snap["score"])
            sets.add(self.scores_key(band=place[0]), account_id, snap["score"])
            sets.add(self.scores_key(tier=place[1]), account_id, snap["score"])
        for band in sorted(stale_bands):
            sets.remove(self.scores_key(band=band), account_id)
        for tier in sorted(stale_tiers):
            sets.remove(self.scores_key(tier=tier), account_id)

    def _queue_alert(self, pipe: Any, alert: dict[str, Any]) -> None:
        body = orjson.dumps(alert)
        pipe.xadd(self.key("alerts"), {"alert": body}, maxlen=self.alerts_cap, approximate=True)
        account_id = alert.get("account_id")
        if account_id:
            pipe.lpush(self.account_alerts_key(account_id), body)
            pipe.ltrim(self.account_alerts_key(account_id), 0, self.recent_alerts - 1)

    # -- reading ----------------------------------------------------------------------------------------

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
        """Close the connection pools."""
        for client in (self.client, self.reader):
            if client is not None:
                await client.aclose()
