"""The Redis section: the queryable health view's server, its TLS and credentials, and the pool's limits.

`rediss://` in `REDIS_URL` turns TLS on; `REDIS_SSL_CA_FILE` names the CA that signed the server's
certificate. The password and ACL user can sit in the URL (`rediss://user:pass@host:6380/0`) or in
`REDIS_USERNAME` and `REDIS_PASSWORD` / `REDIS_PASSWORD_FILE`, which keep the secret out of the URL.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar
from urllib.parse import urlparse

from pydantic import SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from healthmon.config.section import Section, empty_path_is_unset, setting

__all__ = ["RedisSettings"]


class RedisSettings(Section):
    """The worker's Redis view (its writer and the HTTP API's reads)."""

    TITLE: ClassVar[str] = "Redis view"
    SECRET_FILES: ClassVar[tuple[str, ...]] = ("password",)

    url: str = setting("redis://127.0.0.1:6379/0", "REDIS_URL",
                       "Redis for the queryable health view. Empty: no Redis view.")
    ssl_ca_file: Path | None = setting(
        None, "REDIS_SSL_CA_FILE", "PEM CA file for a `rediss://` (TLS) `REDIS_URL`. Empty: the system's CAs.")
    username: str = setting("", "REDIS_USERNAME", "Redis ACL user (or put it in `REDIS_URL`).")
    password: SecretStr = setting(SecretStr(""), "REDIS_PASSWORD",
                                  "Redis password (or put it in `REDIS_URL`). Never logged.")
    password_file: Path | None = setting(
        None, "REDIS_PASSWORD_FILE", "File holding the Redis password (a mounted secret), instead of `REDIS_PASSWORD`.")
    prefix: str = setting("healthmon:", "HEALTHMON_REDIS_PREFIX", "Prefix of every Redis key healthmon writes.")
    max_connections: int = setting(
        50, "HEALTHMON_REDIS_MAX_CONNECTIONS",
        "Redis connections one worker opens at most for HTTP reads (the view's writer has its own); further reads "
        "wait for a free one.", ge=1, le=10_000)
    pool_timeout_seconds: float = setting(
        5.0, "HEALTHMON_REDIS_POOL_TIMEOUT_SECONDS",
        "Longest a request waits for a free Redis connection; then the HTTP API answers 429 with `Retry-After` "
        "(Redis is up, the worker is saturated).", gt=0)

    @field_validator("ssl_ca_file", "password_file", mode="before")
    @classmethod
    def _empty_path_is_unset(cls, value: object) -> object:
        return empty_path_is_unset(value)

    @model_validator(mode="after")
    def _check_combinations(self) -> RedisSettings:
        problems = [*self.secret_file_problems(), *self.problems()]
        if problems:
            raise PydanticCustomError("invalid_combination", "\n".join(problems))
        return self

    def problems(self) -> list[str]:
        """Return what is wrong with the TLS and credential settings, each line naming its variable."""
        problems: list[str] = []
        has_password = bool(self.password.get_secret_value()) or self.password_file is not None
        if not self.url:
            if self.username or has_password or self.ssl_ca_file is not None:
                problems.append("REDIS_USERNAME/REDIS_PASSWORD/REDIS_SSL_CA_FILE: set, but REDIS_URL is empty")
            return problems
        try:
            url = urlparse(self.url)
            url.port  # noqa: B018 - raises on a malformed port
        except ValueError as exc:
            return [f"REDIS_URL: not a valid URL ({exc})"]
        if self.ssl_ca_file is not None:
            if url.scheme != "rediss":
                problems.append(f"REDIS_SSL_CA_FILE: set, but REDIS_URL uses {url.scheme}:// (TLS needs rediss://)")
            try:
                with open(self.ssl_ca_file, "rb"):
                    pass
            except OSError as exc:
                problems.append(f"REDIS_SSL_CA_FILE: cannot read {self.ssl_ca_file} ({exc.strerror or exc})")
        if has_password and url.password:
            problems.append("REDIS_PASSWORD: set, and REDIS_URL holds a password too; keep one")
        if self.username and url.username:
            problems.append("REDIS_USERNAME: set, and REDIS_URL names a user too; keep one")
        return problems
