"""`healthmon view check [--repair]`: compare what users read with the states the engine saved."""

from __future__ import annotations

import asyncio

import click

from healthmon.cli.base import cli, policy_or_exit, settings_from_env

__all__ = ["view"]


@cli.group()
def view() -> None:
    """The Redis view that /accounts and /accounts/{id} serve."""


@view.command()
@click.option("--repair", is_flag=True, help="Rewrite every stale account from its saved state.")
@click.option("--limit", type=click.IntRange(min=0), default=20, show_default=True,
              help="Most differences printed (all are counted).")
def check(repair: bool, limit: int) -> None:
    """Compare the view with the saved states of every account of this deployment (HEALTHMON_APP_ID).

    Reads the account-state changelog as table recovery does, scores each saved state as the workers
    show it, and reads the view from Redis. Exits 1 if an account is stale (and not repaired). Run it
    with the input idle: while input flows, an owner's view runs ahead of its last commit, and such
    accounts are reported as ahead, not stale.
    """
    from healthmon.core import Engine, EngineConfig, state_from_bytes
    from healthmon.core.saved_view import saved_snapshot, view_version
    from healthmon.kafka.broker import BrokerError
    from healthmon.kafka.changelog import changelog_topic, read_saved_states
    from healthmon.kafka.connect import bootstrap_of, require_broker_url
    from healthmon.kafka.security import aiokafka_kwargs
    from healthmon.serving.metrics import Metrics
    from healthmon.serving.redis_clients import redis_kwargs
    from healthmon.serving.redis_view import RedisView
    from healthmon.serving.view_check import compare_view, repair_view

    settings = settings_from_env()
    if not settings.redis.url:
        raise click.ClickException("HEALTHMON_REDIS_URL is empty: there is no view to check")
    engine = Engine(policy_or_exit(settings.engine.policy_file), EngineConfig.from_settings(settings.engine))
    try:
        broker_url = require_broker_url(settings.kafka, timeout_s=settings.kafka.client_wait_seconds)
    except BrokerError as exc:
        raise click.ClickException(str(exc)) from None

    async def run() -> int:
        topic = changelog_topic(settings.worker.app_id)
        try:
            saved = await read_saved_states(bootstrap_of(broker_url), topic, aiokafka_kwargs(settings.kafka))
        except LookupError as exc:
            raise click.ClickException(str(exc)) from None
        expected = {}
        for account_id, raw in saved.items():
            state = state_from_bytes(raw)
            expected[account_id] = (saved_snapshot(engine, state), view_version(state).progress)
        redis = settings.redis
        target = RedisView(redis.url, redis.prefix, Metrics(), client_kwargs=redis_kwargs(redis))
        try:
            differences = await compare_view(target, expected)
            stale = [d for d in differences if d.stale]
            for d in differences[:limit]:
                what = "ahead (in flight)" if d.ahead else "STALE"
                click.echo(f"{d.account_id}: {what}: {', '.join(d.fields)}")
            click.echo(f"{len(expected)} accounts saved, {len(stale)} stale in the view, "
                       f"{len(differences) - len(stale)} ahead of their saved state")
            if repair and stale:
                click.echo(f"repaired {await repair_view(target, expected, differences)} accounts")
                return 0
            return 1 if stale else 0
        finally:
            await target.close()

    raise SystemExit(asyncio.run(run()))
