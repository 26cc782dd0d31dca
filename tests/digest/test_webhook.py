"""The webhook is retried on 5xx, 429 and network errors; any other 4xx is a clear error at once."""

from __future__ import annotations

import pytest

from healthmon.digest import WebhookError, post_webhook
from tests.digest.receiver import receiver

PAYLOAD = {"text": "*Health digest*"}


def _post(url: str, waits: list[float], **kwargs) -> int:
    return post_webhook(url, PAYLOAD, sleep=waits.append, **kwargs)


def test_a_message_is_posted_as_json() -> None:
    waits: list[float] = []
    with receiver() as hook:
        assert _post(hook.url, waits) == 1
    assert hook.received == [{"content_type": "application/json", "body": PAYLOAD}] and waits == []


@pytest.mark.parametrize(("answers", "tries", "waits"), [
    pytest.param((500,), 2, [1.0], id="5xx-retried"),
    pytest.param((502, 503, 504), 4, [1.0, 2.0, 4.0], id="backoff-doubles"),
    pytest.param(((429, {"Retry-After": "7"}),), 2, [7.0], id="429-waits-retry-after"),
    pytest.param((429,), 2, [1.0], id="429-without-retry-after"),
])
def test_5xx_and_429_are_retried_until_taken(answers, tries, waits) -> None:
    slept: list[float] = []
    with receiver(*answers) as hook:
        assert _post(hook.url, slept) == tries
    assert slept == waits and len(hook.received) == tries


@pytest.mark.parametrize("status", [400, 403, 404, 410])
def test_a_4xx_is_a_clear_error_and_not_retried(status: int) -> None:
    with receiver(status) as hook, pytest.raises(WebhookError, match=f"refused the message \\(HTTP {status}"):
        _post(hook.url, [])
    assert len(hook.received) == 1


def test_giving_up_names_the_last_failure() -> None:
    slept: list[float] = []
    with receiver(500, 500, 500) as hook, pytest.raises(WebhookError, match="failed 3 times, last: HTTP 500"):
        _post(hook.url, slept, attempts=3)
    assert len(hook.received) == 3 and slept == [1.0, 2.0]


def test_an_unreachable_webhook_is_retried_then_named() -> None:
    slept: list[float] = []
    with pytest.raises(WebhookError, match="cannot reach it"):
        _post("http://127.0.0.1:1/hook", slept, attempts=2)
    assert slept == [1.0]
