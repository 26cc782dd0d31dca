"""The commands that run things: `worker`, `demo`, `tail` and `alertmanager`."""

from __future__ import annotations

import asyncio
import signal
import sys

import click
from pydantic import ValidationError

from healthmon.cli.base import cli, inputs_or_exit, policy_or_exit, settings_from_env
from healthmon.kafka.broker import BrokerError

__all__ = ["alertmanager", "demo", "tail", "worker"]


def _stop_starting(signum: int, frame: object) -> None:
    name = signal.Signals(signum).name
    click.echo(f"healthmon: {name} received while the worker was starting; exiting", err=True)
    raise SystemExit(128 + signum)


@cli.command()
def worker() -> None:
    """Run a Faust worker (starts an embedded broker when KAFKA_BROKER_URL is unset)."""
    from healthmon.kafka.admin import ensure_topics
    from healthmon.kafka.connect import bootstrap_of, connect_broker
    from healthmon.serving.redis_clients import RedisRefused, check_redis
    from healthmon.worker import build_worker
    from streams.shutdown import BoundedStopWorker

    settings = settings_from_env()
    policy = policy_or_exit(settings.engine.policy_file)
    inputs = inputs_or_exit(settings)
    # Until Faust installs its own handlers, a signal ends the start-up with one line (and the embedded
    # broker is stopped by the `finally` clauses below).
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _stop_starting)
    if settings.redis.url:
        try:
            unreachable = asyncio.run(check_redis(settings.redis))
        except RedisRefused as exc:
            raise click.ClickException(str(exc)) from None
        if unreachable:
            click.echo(f"healthmon: {unreachable}", err=True)
    try:
        broker_url, embedded = connect_broker(settings.kafka)
    except BrokerError as exc:
        raise click.ClickException(str(exc)) from None
    if embedded is not None:
        click.echo(f"healthmon: embedded Tansu broker at {broker_url}; "
                   f"export KAFKA_BROKER_URL={broker_url} to point generate/tail at it", err=True)
    try:
        asyncio.run(ensure_topics(bootstrap_of(broker_url), settings.topics, settings.kafka,
                                  inputs=[spec.topic for spec in inputs.inputs], app_id=settings.worker.app_id))
    except (TimeoutError, OSError, Exception) as exc:  # noqa: BLE001 - report any admin failure plainly
        if embedded is not None:
            embedded.stop()
        raise click.ClickException(f"cannot create topics on {broker_url}: {exc}") from None
    asyncio.set_event_loop(asyncio.new_event_loop())
    built = build_worker(settings, policy, broker_url, inputs)
    from healthmon.core.compiled import core_mode

    click.echo(f"healthmon: worker {settings.worker.app_id} policy {policy.version}, core {core_mode()}, API and "
               f"metrics on http://{settings.http.host}:{settings.http.port}", err=True)
    try:
        BoundedStopWorker(built.app, stop_timeout_s=settings.worker.stop_timeout_seconds, contact=built.watch.contact,
                          on_hard_exit=(lambda: embedded.stop(grace_s=1.0)) if embedded is not None else lambda: None,
                          loglevel=settings.worker.log_level.upper(), quiet=True,
                          redirect_stdouts=False).execute_from_commandline()
    finally:
        if embedded is not None:
            embedded.stop(grace_s=2.0)  # in-memory: nothing to flush, and the stop must stay within bounds


@cli.command()
@click.option("--duration", type=click.FloatRange(10), default=90, show_default=True,
              help="Longest the demo runs, in seconds.")
@click.option("--accounts", type=click.IntRange(5, 2000), default=30, show_default=True,
              help="How many accounts to simulate.")
@click.option("--seed", type=int, default=7, show_default=True, help="Traffic seed.")
@click.option("--alertmanager", "alertmanager_url", default="", metavar="URL",
              help="Also run the Alertmanager bridge, pushing the demo's alerts to this Alertmanager.")
@click.option("--format", "formats", default="", metavar="FORMAT[,FORMAT...]",
              help="Send the traffic in these sources' shapes (as `generate --format`) and have the worker read "
                   "them through an inputs file (deploy/inputs.example.yaml's inputs).")
def demo(duration: float, accounts: int, seed: int, alertmanager_url: str, formats: str) -> None:
    """Run broker, worker and generator together and print alerts as they happen."""
    from healthmon.demo import run_demo
    from healthmon.generator.formats import plan_formats

    if alertmanager_url and not alertmanager_url.startswith(("http://", "https://")):
        raise click.BadParameter(f"{alertmanager_url!r} is not an http(s) URL", param_hint="--alertmanager")
    chosen = [f.strip() for f in formats.split(",") if f.strip()]
    try:
        if chosen:
            plan_formats(chosen)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--format") from None
    sys.exit(run_demo(settings_from_env(), duration_s=duration, accounts=accounts, seed=seed,
                      out=lambda line: click.echo(line), alertmanager_url=alertmanager_url.rstrip("/"),
                      formats=chosen or None))


@cli.command()
@click.option("--from-beginning", is_flag=True, help="Start at the oldest alert instead of new ones.")
@click.option("--json", "as_json", is_flag=True, help="Print each alert as one JSON line.")
def tail(from_beginning: bool, as_json: bool) -> None:
    """Print alerts from the alerts topic as they arrive (Ctrl-C to stop)."""
    import orjson

    from healthmon.kafka.broker_watch import watch_broker
    from healthmon.kafka.clientguard import Interrupted, guarded
    from healthmon.kafka.connect import require_broker_url
    from healthmon.kafka.security import aiokafka_kwargs
    from healthmon.tail import format_alert, iter_alerts

    settings = settings_from_env()
    try:
        broker_url = require_broker_url(settings.kafka, timeout_s=settings.kafka.client_wait_seconds)
    except BrokerError as exc:
        raise click.ClickException(str(exc)) from None

    async def run() -> None:
        async for alert in iter_alerts(broker_url, settings.topics.alerts_name,
                                       from_beginning=from_beginning, security=aiokafka_kwargs(settings.kafka)):
            click.echo(orjson.dumps(alert).decode() if as_json else format_alert(alert))

    watch = watch_broker(settings.kafka.broker_timeout_seconds, settings.kafka.client_wait_seconds)
    try:
        asyncio.run(guarded(run(), watch=watch, wait_s=settings.kafka.client_wait_seconds, what="healthmon tail",
                            say=lambda line: click.echo(line, err=True)))
    except BrokerError as exc:
        raise click.ClickException(str(exc)) from None
    except Interrupted:
        pass  # Ctrl-C (or SIGTERM) is how tail is meant to end


@cli.command()
@click.option("--url", "urls", multiple=True, metavar="URL",
              help="Alertmanager base URL, e.g. http://127.0.0.1:9093; repeat for each member of an HA "
                   "cluster (each gets every alert). Default: HEALTHMON_ALERTMANAGER_URLS.")
@click.option("--resend-seconds", type=click.FloatRange(min=0.1), default=None,
              help="Re-send interval of firing alerts. Default: HEALTHMON_ALERTMANAGER_RESEND_SECONDS.")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="Port of the bridge's /metrics and /healthz. Default: HEALTHMON_BRIDGE_PORT.")
def alertmanager(urls: tuple[str, ...], resend_seconds: float | None, port: int | None) -> None:
    """Push every alert from the alerts topic to Alertmanager (API v2), re-sending what fires."""
    settings = settings_from_env()
    overrides: dict[str, object] = {}
    if urls:
        overrides["alertmanager_urls"] = ",".join(urls)
    if resend_seconds is not None:
        overrides["alertmanager_resend_seconds"] = resend_seconds
    if port is not None:
        overrides["bridge_port"] = port
    try:
        settings = settings.replace(alerts=overrides)
    except ValidationError as exc:
        raise click.ClickException("invalid option: " + "; ".join(e["msg"] for e in exc.errors())) from None
    if not settings.alerts.alertmanager_url_list:
        raise click.UsageError("no Alertmanager: pass --url URL or set HEALTHMON_ALERTMANAGER_URLS")
    from healthmon.alerting.run import run_bridge
    from healthmon.kafka.connect import require_broker_url

    try:
        broker_url = require_broker_url(settings.kafka)
    except BrokerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"healthmon: alertmanager bridge {settings.topics.alerts_name} -> "
               f"{', '.join(settings.alerts.alertmanager_url_list)}; metrics on "
               f"http://{settings.alerts.bridge_host}:{settings.alerts.bridge_port}/metrics", err=True)
    sys.exit(run_bridge(settings, broker_url))
