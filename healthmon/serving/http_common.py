"""What every route of the HTTP API shares: JSON errors, the 429 of a saturated worker, the API token."""

from __future__ import annotations

import hmac
from typing import Any

from faust import web

from healthmon.serving.redis_clients import ViewBusy

__all__ = ["RETRY_AFTER_SECONDS", "bearer_matches", "busy", "error", "unauthorized"]

#: `Retry-After` of a 429: requests waited `HEALTHMON_REDIS_POOL_TIMEOUT_SECONDS` for a Redis connection in vain.
RETRY_AFTER_SECONDS = 1


def error(view: web.View, status: int, message: str, parameter: str | None = None) -> web.Response:
    body: dict[str, Any] = {"error": message, "status": status}
    if parameter:
        body["parameter"] = parameter
    return view.json(body, status=status)


def busy(view: web.View, exc: ViewBusy) -> web.Response:
    """Answer 429: Redis is up but every connection stayed busy; the client should come back shortly."""
    return view.json({"error": f"too many concurrent requests ({exc}); retry after {RETRY_AFTER_SECONDS} s",
                      "status": 429}, status=429, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def bearer_matches(authorization: str | None, token: str) -> bool:
    """Return whether an `Authorization` header carries `Bearer <token>` (constant-time comparison)."""
    scheme, _, given = (authorization or "").strip().partition(" ")
    # compare_digest's time does not depend on where the strings differ, so the token cannot be guessed
    # byte by byte from response times.
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def unauthorized(view: web.View, request: web.Request, token: str) -> web.Response | None:
    """Return a 401 response unless the request carries the API token (None when no token is set)."""
    if not token:
        return None
    header = request.headers.get("Authorization")
    if bearer_matches(header, token):
        return None
    error = "invalid_token" if header else "invalid_request"
    message = "invalid API token" if header else "missing API token: send `Authorization: Bearer <token>`"
    return view.json({"error": message, "status": 401}, status=401,
                     headers={"WWW-Authenticate": f'Bearer realm="healthmon", error="{error}"'})
