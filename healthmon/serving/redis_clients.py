"""The view readers' Redis pool: callers queue for a connection; a wait that runs out raises `ViewBusy`."""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

__all__ = ["QueueingPool", "ViewBusy"]


class ViewBusy(RedisError):
    """Every pooled Redis connection stayed busy for the whole wait: Redis is up, this worker is saturated."""


class QueueingPool(aioredis.BlockingConnectionPool):
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
