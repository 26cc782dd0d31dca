"""Redis TLS and authentication: the keyword arguments every Redis client of healthmon is built with.

`rediss://` in `REDIS_URL` turns TLS on; `REDIS_SSL_CA_FILE` names the CA that signed the server's
certificate. The password and ACL user can sit in the URL (`rediss://user:pass@host:6380/0`) or in
`REDIS_USERNAME` and `REDIS_PASSWORD` / `REDIS_PASSWORD_FILE`, which keep the secret out of the URL.
Use it as `redis.asyncio.from_url(settings.redis_url, **redis_kwargs(settings))`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

if TYPE_CHECKING:
    from streams.settings import Settings

__all__ = ["redis_kwargs", "redis_problems"]


def redis_kwargs(settings: Settings) -> dict[str, Any]:
    """Return the TLS and credential keyword arguments for `redis.from_url(settings.redis_url, ...)`."""
    kwargs: dict[str, Any] = {}
    if settings.redis_ssl_ca_file is not None:
        kwargs["ssl_ca_certs"] = str(settings.redis_ssl_ca_file)
    if settings.redis_username:
        kwargs["username"] = settings.redis_username
    password = settings.secret("redis_password")
    if password:
        kwargs["password"] = password
    return kwargs


def redis_problems(settings: Settings) -> list[str]:
    """Return what is wrong with the Redis TLS and credential settings, each line naming its variable."""
    problems: list[str] = []
    has_password = bool(settings.redis_password.get_secret_value()) or settings.redis_password_file is not None
    wants_redis = settings.redis_username or has_password or settings.redis_ssl_ca_file is not None
    if not settings.redis_url:
        if wants_redis:
            problems.append("REDIS_USERNAME/REDIS_PASSWORD/REDIS_SSL_CA_FILE: set, but REDIS_URL is empty")
        return problems
    try:
        url = urlparse(settings.redis_url)
        url.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        return [f"REDIS_URL: not a valid URL ({exc})"]
    if settings.redis_ssl_ca_file is not None:
        if url.scheme != "rediss":
            problems.append(f"REDIS_SSL_CA_FILE: set, but REDIS_URL uses {url.scheme}:// (TLS needs rediss://)")
        try:
            with open(settings.redis_ssl_ca_file, "rb"):
                pass
        except OSError as exc:
            problems.append(f"REDIS_SSL_CA_FILE: cannot read {settings.redis_ssl_ca_file} ({exc.strerror or exc})")
    if has_password and url.password:
        problems.append("REDIS_PASSWORD: set, and REDIS_URL holds a password too; keep one")
    if settings.redis_username and url.username:
        problems.append("REDIS_USERNAME: set, and REDIS_URL names a user too; keep one")
    return problems
