"""The Redis view: latest snapshot per account, at-risk sorted sets, a capped stream of recent alerts.

Writes go out in pipelines of at most `batch_accounts` accounts, only for accounts whose snapshot
changed; each is a script that refuses a state older than the one Redis holds (`redis_put`). When Redis
is down, errors are counted, pending writes are kept (one entry per account and at most `alerts_cap`
alerts, so memory stays bounded) and the view catches up at the next successful flush.
Whenever Redis may have lost data (it came back after errors, or this writer's marker key is gone; the
marker is checked at every flush, even with nothing to write), the view asks for a resync:
`resync_requested` tells the owner to put every local account again.
An account its source removed leaves the view at the next flush, atomically (`redis_put.REMOVE_ACCOUNT_LUA`).

The key layout is in `healthmon.serving.redis_keys`.
"""

from __future__ import annotations

import logging
import uuid
import zlib
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from healthmon.serving.metrics import Metrics
from healthmon.serving.redis_clients import QueueingPool
from healthmon.serving.redis_put import PUT_SNAPSHOT_LUA, REMOVE_ACCOUNT_LUA, put_snapshot_args, remove_account_args
from healthmon.serving.redis_reads import ViewReads
from healthmon.serving.redis_sets import snapshot_fingerprint

__all__ = ["RedisView"]

log = logging.getLogger(__name__)

MARKER_TTL_SECONDS = 86_400


class RedisView(ViewReads):
    """Batched, change-only writer and reader of the Redis health view (keys named by `ViewKeys`)."""

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
        # client_kwargs: TLS CA and credentials (`healthmon.serving.redis_clients.redis_kwargs`).
        extra = client_kwargs or {}
        if url:
            self.client = aioredis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0,
                                            **extra)
            # Reads are idempotent: one retry on a fresh connection hides an idle connection that a
            # restarted Redis closed (the writer meets its own stale connections and recovers by itself).
            pool = QueueingPool.from_url(url, max_connections=max_connections, timeout=pool_timeout_s,
                                          socket_timeout=2.0, socket_connect_timeout=2.0,
                                          retry=Retry(NoBackoff(), 1), retry_on_error=[RedisConnectionError],
                                          **extra)
            self.reader = aioredis.Redis.from_pool(pool)
        #: account -> (snapshot, progress) to write at the next flush
        self._pending: dict[str, tuple[dict[str, Any], int]] = {}
        #: account -> fingerprint of what this writer last wrote (or found newer in Redis)
        self._written: dict[str, bytes] = {}
        self._inflight: dict[str, bytes] = {}
        self._alerts: deque[Mapping[str, Any]] = deque(maxlen=alerts_cap)
        #: account -> score history to write, and the CRC-32 of the one last written
        self._history_pending: dict[str, bytes] = {}
        self._history_written: dict[str, int] = {}
        #: account -> the version (as_of, progress) of its last state, to remove from the view at the next flush
        self._removals: dict[str, tuple[int, int]] = {}
        self._marker = self.key("view", "writer", uuid.uuid4().hex)
        #: the SHA1 of `PUT_SNAPSHOT_LUA` once loaded (None: load it at the next flush; a restarted Redis
        #: forgets its scripts, and the write that fails then resets it)
        self._put_sha: str | None = None
        self._remove_sha: str | None = None
        self.healthy = True
        self.resync_requested = False

    # -- writing ----------------------------------------------------------------------------------------

    def put_snapshot(self, account_id: str, snapshot: dict[str, Any], progress: int = 0) -> None:
        """Queue a snapshot for the next flush unless Redis already has (or is being sent) the same one.

        `progress` (with the snapshot's `as_of`) is the state's `ViewVersion`: Redis keeps the newer one.
        """
        if self.client is None:
            return
        fp = snapshot_fingerprint(snapshot, progress)
        current = self._inflight.get(account_id) or self._written.get(account_id)
        if current == fp:
            self._pending.pop(account_id, None)
            return
        self._pending[account_id] = (snapshot, progress)

    def forget_written(self, account_ids: Iterable[str] | None = None) -> None:
        """Forget what this writer wrote (of `account_ids`, else of all): another writer may have changed it."""
        if account_ids is None:
            self._written.clear()
        for account_id in account_ids or ():
            self._written.pop(account_id, None)

    def put_history(self, account_id: str, history: bytes) -> None:
        """Queue an account's score history for the next flush unless Redis already has the same one."""
        if self.client is None or not history:
            return
        fp = zlib.crc32(history)
        if self._history_written.get(account_id) == fp:
            self._history_pending.pop(account_id, None)
            return
        self._history_pending[account_id] = history

    def remove_account(self, account_id: str, as_of: int, progress: int) -> None:
        """Queue the account's removal from the view: its last state had version (`as_of`, `progress`).

        Its pending writes are dropped; a snapshot put after this call (the account came back) is written after
        the removal, and only if its state is newer.
        """
        if self.client is None:
            return
        self._pending.pop(account_id, None)
        self._history_pending.pop(account_id, None)
        self._written.pop(account_id, None)
        self._history_written.pop(account_id, None)
        self._removals[account_id] = (as_of, progress)

    def add_alert(self, alert: Mapping[str, Any]) -> None:
        """Queue an alert for the recent-alerts stream and its account's list."""
        if self.client is not None:
            self._alerts.append(alert)

    @property
    def backlog(self) -> int:
        """Return how many writes wait for the next successful flush."""
        return len(self._pending) + len(self._alerts) + len(self._history_pending) + len(self._removals)

    def resync_started(self) -> None:
        """Acknowledge a resync request: the owner is putting every local account again."""
        self.resync_requested = False

    async def flush(self) -> bool:
        """Write everything pending, in pipelines; return False (and keep the rest) if Redis failed."""
        if self.client is None:
            return True
        if not (self._pending or self._alerts or self._history_pending or self._removals):
            return await self._check_marker()
        removals, self._removals = list(self._removals.items()), {}
        pending, self._pending = list(self._pending.items()), {}
        histories, self._history_pending = list(self._history_pending.items()), {}
        alerts = list(self._alerts)
        self._alerts.clear()
        self._inflight = {account_id: snapshot_fingerprint(*put) for account_id, put in pending}
        done_snaps = done_alerts = done_histories = 0
        try:
            if self._put_sha is None:
                self._put_sha = await self.client.script_load(PUT_SNAPSHOT_LUA)
            if removals and self._remove_sha is None:
                self._remove_sha = await self.client.script_load(REMOVE_ACCOUNT_LUA)
            put_sha, remove_sha = self._put_sha, self._remove_sha or ""
            first = True
            while first or done_snaps < len(pending) or done_alerts < len(alerts) or done_histories < len(histories):
                snaps = pending[done_snaps:done_snaps + self.batch_accounts]
                batch = alerts[done_alerts:done_alerts + self.batch_accounts]
                kept = histories[done_histories:done_histories + self.batch_accounts]
                pipe = self.client.pipeline(transaction=False)
                if first:
                    pipe.exists(self._marker)
                    # Before the puts: an account removed and back within one flush keeps its new state.
                    for account_id, (as_of, progress) in removals:
                        keys, argv = remove_account_args(self, account_id, as_of, progress)
                        pipe.evalsha(remove_sha, len(keys), *keys, *argv)
                for account_id, (snap, progress) in snaps:
                    keys, argv = put_snapshot_args(self, account_id, snap, progress)
                    pipe.evalsha(put_sha, len(keys), *keys, *argv)
                for alert in batch:
                    self._queue_alert(pipe, alert)
                for account_id, history in kept:
                    pipe.set(self.history_key(account_id), history)
                if first:
                    pipe.set(self._marker, b"1", ex=MARKER_TTL_SECONDS)
                results = await pipe.execute()
                if first and not results[0]:
                    self.request_resync("its marker key is missing (new writer, or Redis lost data)")
                if first:
                    removals = []
                first = False
                for account_id, _ in snaps:
                    # Refused as older or written: either way Redis holds this state or a newer one.
                    self._written[account_id] = self._inflight[account_id]
                for account_id, history in kept:
                    self._history_written[account_id] = zlib.crc32(history)
                done_snaps += len(snaps)
                done_alerts += len(batch)
                done_histories += len(kept)
        except (RedisError, OSError) as exc:
            self._put_sha = self._remove_sha = None
            self.metrics.redis_errors.labels("write").inc()
            for account_id, version in removals:  # those of a first pipeline that failed
                self._removals.setdefault(account_id, version)
            for account_id, put in pending[done_snaps:]:
                self._pending.setdefault(account_id, put)
            for account_id, history in histories[done_histories:]:
                self._history_pending.setdefault(account_id, history)
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
            self.request_resync("Redis came back after errors")
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
            self.request_resync("Redis came back after errors")
        elif not present:
            self.request_resync("its marker key is missing (Redis lost data)")
        return True

    def request_resync(self, why: str) -> None:
        """Ask the owner to put every local account again, and forget what this writer wrote."""
        log.info("Redis view resync requested: %s", why)
        self._written.clear()
        self._history_written.clear()
        self.resync_requested = True

    def _queue_alert(self, pipe: Any, alert: Mapping[str, Any]) -> None:
        body = orjson.dumps(alert)
        pipe.xadd(self.key("alerts"), {"alert": body}, maxlen=self.alerts_cap, approximate=True)
        account_id = alert.get("account_id")
        if account_id:
            pipe.lpush(self.account_alerts_key(account_id), body)
            pipe.ltrim(self.account_alerts_key(account_id), 0, self.recent_alerts - 1)

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
