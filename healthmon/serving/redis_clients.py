"""The view's Redis clients: their TLS and credentials, the start-up check, and the readers' queueing pool.

Every Redis client is built as `redis.asyncio.from_url(redis.url, **redis_kwargs(redis))`. Before the
worker starts, `check_redis` pings once: a refused password or an untrusted certificate stops it with
a `RedisRefused` that names the settings to check; an unreachable Redis is only reported, since the
view catches up once Redis answers.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any
from urllib.parse import urlparse

import redis.asyncio as aioredis
from redis.exceptions import AuthenticationError, AuthorizationError, RedisError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError

from healthmon.config import RedisSettings

__all__ = ["QueueingPool", "RedisRefused", "ViewBusy", "check_redis", "redis_kwargs"]


class RedisRefused(RuntimeError):
    """Redis refused the credentials or the TLS connection (not worth a retry)."""


def redis_kwargs(redis: RedisSettings) -> dict[str, Any]:
    """Return the TLS and credential keyword arguments for `redis.from_url(redis.url, ...)`."""
    kwargs: dict[str, Any] = {}
    if redis.ssl_ca_file is not None:
        kwargs["ssl_ca_certs"] = str(redis.ssl_ca_file)
    if redis.username:
        kwargs["username"] = redis.username
    password = redis.secret("password")
    if password:
        kwargs["password"] = password
    return kwargs


def _refused_credentials(exc: BaseException) -> bool:
    if isinstance(exc, (AuthenticationError, AuthorizationError)):
        return True
    # Servers answer a missing or wrong password with NOAUTH or WRONGPASS, which older clients pass on as is.
    return isinstance(exc, ResponseError) and str(exc).startswith(("NOAUTH", "WRONGPASS"))


def _untrusted(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


async def check_redis(redis: RedisSettings, timeout_s: float = 5.0) -> str | None:
    """Ping Redis once: raise `RedisRefused` if it refuses us; return why it cannot be reached (None: it answers)."""
    url = urlparse(redis.url)
    where = f"Redis at {url.hostname}:{url.port or 6379}"
    user = redis.username or url.username or "default"
    client = aioredis.from_url(redis.url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
                               **redis_kwargs(redis))
    try:
        await client.ping()
    except Exception as exc:  # noqa: BLE001 - a refusal is raised, anything else reported
        untrusted = _untrusted(exc)
        if untrusted is not None:
            raise RedisRefused(f"{where} refused by TLS: its certificate is not trusted ({untrusted.verify_message}): "
                               f"check REDIS_SSL_CA_FILE={redis.ssl_ca_file or '(system CAs)'}") from None
        if _refused_credentials(exc):
            raise RedisRefused(f"{where} refused authentication as {user!r} ({exc}): check REDIS_USERNAME and "
                               "REDIS_PASSWORD (or REDIS_PASSWORD_FILE, or the credentials in REDIS_URL)") from None
        if not isinstance(exc, (RedisError, OSError)):
            raise
        return f"{where} cannot be reached ({type(exc).__name__}: {exc}); the view catches up once it answers"
    finally:
        await client.aclose()
    return None


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
