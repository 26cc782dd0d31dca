"""`healthmon view check [--repair]` against the embedded broker and the real Redis."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from healthmon.cli import cli
from healthmon.core import state_to_bytes
from healthmon.kafka.changelog import changelog_topic
from healthmon.serving.metrics import Metrics
from healthmon.serving.redis_view import RedisView
from tests.conftest import settings_env
from tests.fixtures import run
from tests.pipeline.test_processor import _messages, _processor

pytestmark = pytest.mark.integration


@pytest.fixture
def deployment(settings_factory, topic_io):
    """A changelog of 4 accounts' saved states, and a view holding one right, one old, one missing, one right."""
    settings = settings_factory()
    processor = _processor(settings.replace(redis={"url": ""}), {})
    messages = _messages(settings, accounts=4, days=20)

    async def build() -> tuple[dict, dict]:
        for n, (message, _) in enumerate(messages):
            await processor.on_message(*message)
            if n == len(messages) // 2:
                processor.flush_states()
                older = {a: processor.saved_view(a)[:2] for a in processor.states.live}
        processor.flush_states()
        final = {a: processor.saved_view(a)[:2] for a in processor.states.live}
        for account, state in processor.states.live.items():
            await topic_io.send(changelog_topic(settings.worker.app_id), [state_to_bytes(state)],
                                key=account.encode(), partition=0)
        return older, final

    older, final = run(build())
    accounts = sorted(final)
    assert len(accounts) == 4 and older[accounts[1]] != final[accounts[1]]

    async def write() -> None:
        view = RedisView(settings.redis.url, settings.redis.prefix, Metrics())
        view.put_snapshot(accounts[0], *final[accounts[0]])
        view.put_snapshot(accounts[1], *older[accounts[1]])
        view.put_snapshot(accounts[3], *final[accounts[3]])
        assert await view.flush()
        await view.close()

    run(write())
    return settings, accounts, final


def _check(settings, *args: str):
    return CliRunner().invoke(cli, ["view", "check", *args], env=settings_env(settings))


def test_check_names_the_stale_and_missing_accounts_and_repair_rewrites_them(deployment):
    settings, accounts, final = deployment
    result = _check(settings)
    assert result.exit_code == 1, result.output
    assert f"{accounts[1]}: STALE: " in result.output and "as_of" in result.output
    assert f"{accounts[2]}: STALE: missing" in result.output
    assert accounts[0] not in result.output and accounts[3] not in result.output
    assert "4 accounts saved, 2 stale in the view, 0 ahead" in result.output

    repaired = _check(settings, "--repair")
    assert repaired.exit_code == 0 and "repaired 2 accounts" in repaired.output, repaired.output
    again = _check(settings)
    assert again.exit_code == 0 and "0 stale" in again.output, again.output

    async def held() -> dict:
        view = RedisView(settings.redis.url, settings.redis.prefix, Metrics())
        try:
            return {a: (await view.get_account(a))["account"] for a in accounts}
        finally:
            await view.close()

    assert run(held()) == {a: final[a][0] for a in accounts}


def test_an_unknown_deployment_is_a_clear_error(settings_factory):
    settings = settings_factory()
    result = _check(settings.replace(worker={"app_id": "nobody-deployed-this"}))
    assert result.exit_code == 1
    assert "no changelog topic 'nobody-deployed-this-account-state-changelog'" in result.output
