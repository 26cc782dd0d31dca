"""`healthmon digest` as a user runs it, against a real Redis view and a local webhook receiver."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import orjson
import pytest
import redis
from click.testing import CliRunner

from healthmon.cli import cli
from healthmon.core.history import DayPoint, add_point
from healthmon.serving.metrics import Metrics
from healthmon.serving.redis_view import RedisView
from tests.digest.receiver import receiver
from tests.fixtures import unique_id

pytestmark = pytest.mark.integration

DAY_MS = 86_400_000
LAST = 20_600


def _history(scores: list[float]) -> bytes:
    blob = b""
    for n, score in enumerate(scores):
        band = "green" if score >= 75 else "yellow" if score >= 50 else "red"
        blob = add_point(blob, DayPoint(LAST - len(scores) + 1 + n, score, band, ("weekly_active_ratio",)), 180)
    return blob


async def _write(redis_url: str, prefix: str, rows: tuple[tuple[str, str | None, list[int]], ...]) -> None:
    """Write (account, csm, daily scores) rows into the view under `prefix`."""
    view = RedisView(redis_url, prefix, Metrics())
    for account, csm, scores in rows:
        score = scores[-1]
        view.put_snapshot(account, {
            "account_id": account, "name": f"Account {account}", "tier": "key", "csm": csm, "score": score,
            "band": "red" if score < 50 else "yellow" if score < 75 else "green",
            "measures": [{"name": "weekly_active_ratio", "value": 0.22, "score": 22.0, "weight": 1,
                          "contribution": 22.0}],
            "updated_at": (LAST + 1) * DAY_MS + 1, "as_of": (LAST + 1) * DAY_MS + 2})
        view.put_history(account, _history(scores))
    assert await view.flush()
    await view.close()


@pytest.fixture
def view_env(redis_url: str) -> Iterator[dict[str, str]]:
    """A Redis view of three accounts of two CSMs; the environment that points the CLI at it."""
    prefix = f"hmtest-digest-{unique_id()}:"

    asyncio.run(_write(redis_url, prefix, (("acc-1", "ann", [80] * 3 + [60, 50, 45, 41, 41]),
                                           ("acc-2", "ann", [90] * 8), ("acc-3", "bob", [70] * 8))))
    yield {"REDIS_URL": redis_url, "HEALTHMON_REDIS_PREFIX": prefix}
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def test_markdown_lists_each_csm_with_the_fall_first(view_env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["digest"], env=view_env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "## ann: 7 days, 2026-05-21 to 2026-05-27 (event time)" and "## bob: 7 days" in result.output
    assert lines[3] == ("1. **Account acc-1** (key): score 41 (−39 in 7 days), red: weekly active users (share of "
                        "seats) 22%")
    assert CliRunner().invoke(cli, ["digest"], env=view_env).output == result.output  # same view, same text


def test_json_is_one_webhook_message_per_csm(view_env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["digest", "--format", "json", "--csm", "bob"], env=view_env)
    assert result.exit_code == 0, result.output
    messages = [orjson.loads(line) for line in result.output.splitlines()]
    assert len(messages) == 1 and set(messages[0]) == {"text"}
    assert messages[0]["text"].startswith("*Health digest for bob: 7 days")


def test_the_webhook_gets_one_message_per_csm_and_a_4xx_is_a_clear_error(view_env: dict[str, str]) -> None:
    with receiver() as hook:
        result = CliRunner().invoke(cli, ["digest", "--slack-webhook", hook.url], env=view_env)
    assert result.exit_code == 0, result.output
    assert [m["body"]["text"].splitlines()[0][:30] for m in hook.received] == [
        "*Health digest for ann: 7 days", "*Health digest for bob: 7 days"]
    with receiver(404) as hook:
        result = CliRunner().invoke(cli, ["digest", "--slack-webhook", hook.url], env=view_env)
    assert result.exit_code == 1 and len(hook.received) == 1
    assert "posting the digest of ann: the webhook refused the message (HTTP 404" in result.output


@pytest.mark.parametrize(("wanted", "header", "listed"), [
    ("Carol Diaz", "## Carol Diaz: 7 days", "acc-4"),  # the profile's name
    ("carol-diaz", "## Carol Diaz: 7 days", "acc-4"),  # its slug, the dashboard's csm label
    ("CAROL DIAZ", "## Carol Diaz: 7 days", "acc-4"),
    ("none", "## (no CSM): 7 days", "acc-5"),  # the accounts without a CSM
])
def test_csm_takes_a_name_or_its_slug(view_env: dict[str, str], redis_url: str, wanted: str, header: str,
                                      listed: str) -> None:
    asyncio.run(_write(redis_url, view_env["HEALTHMON_REDIS_PREFIX"],
                       (("acc-4", "Carol Diaz", [70] * 4 + [60] * 4), ("acc-5", None, [65] * 4 + [55] * 4))))
    result = CliRunner().invoke(cli, ["digest", "--csm", wanted], env=view_env)
    assert result.exit_code == 0, result.output
    assert [line for line in result.output.splitlines() if line.startswith("## ")] == [
        header + ", 2026-05-21 to 2026-05-27 (event time)"]
    accounts = set(re.findall(r"Account (acc-\d)", result.output))
    assert accounts == {listed}, result.output


@pytest.mark.parametrize(("args", "env", "says"), [
    (["--slack-webhook", "hooks.slack.com/x"], {}, "is no http(s) URL"),
    ([], {"REDIS_URL": "redis://127.0.0.1:1/0"}, "cannot read the Redis view at redis://127.0.0.1:1/0"),
    ([], {"REDIS_URL": ""}, "the digest reads the Redis view: set REDIS_URL"),
    (["--slack-webhook", "http://127.0.0.1:1/x", "--csm", "nobody"], {}, "nothing to post"),
])
def test_bad_input_is_a_clear_error(view_env: dict[str, str], args, env, says) -> None:
    result = CliRunner().invoke(cli, ["digest", *args], env={**view_env, **env})
    assert result.exit_code in (1, 2) and says in result.output, result.output
