"""Post a message to an incoming webhook (Slack, Mattermost): retried on 5xx, 429 and network errors.

A 4xx other than 429 is the request's fault (a revoked hook, a malformed payload): it is not retried and
becomes a `WebhookError` that says what the server answered. A 429 waits its `Retry-After` when it names one.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import orjson

__all__ = ["WebhookError", "post_webhook"]


class WebhookError(RuntimeError):
    """The webhook refused the message, or kept failing until the attempts ran out."""


def _retry_after(headers: Any, default_s: float) -> float:
    try:
        return max(0.0, float(headers.get("Retry-After", default_s)))
    except (TypeError, ValueError):
        return default_s


def post_webhook(url: str, payload: dict[str, Any], *, attempts: int = 5, backoff_s: float = 1.0,
                 max_wait_s: float = 30.0, timeout_s: float = 10.0,
                 sleep: Callable[[float], None] = time.sleep) -> int:
    """POST `payload` as JSON to `url`; return the number of attempts it took."""
    body = orjson.dumps(payload)
    last = ""
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(url, data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        wait = min(max_wait_s, backoff_s * 2 ** (attempt - 1))
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                response.read()
                return attempt
        except urllib.error.HTTPError as exc:
            answer = exc.read(500).decode(errors="replace").strip()
            last = f"HTTP {exc.code} {exc.reason}: {answer or '(empty body)'}"
            if exc.code == 429:
                wait = min(max_wait_s, _retry_after(exc.headers, wait))
            elif exc.code < 500:
                raise WebhookError(f"the webhook refused the message ({last}); check the URL and the payload, "
                                   f"a retry would not help") from None
        except (urllib.error.URLError, OSError) as exc:
            last = f"cannot reach it: {getattr(exc, 'reason', exc)}"
        if attempt < attempts:
            sleep(wait)
    raise WebhookError(f"the webhook failed {attempts} times, last: {last}")
