"""The `healthmon` command line: worker, generate, demo, tail, alertmanager, policy check/explain, backtest, bench."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import click
from pydantic import ValidationError

from healthmon import __version__
from healthmon.broker import BrokerError

__all__ = ["main", "cli"]


def _settings():
    from pydantic import SecretStr

    from streams.settings import Settings, env_name

    try:
        return Settings()
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_url=False):
            if not err["loc"]:  # a bad combination: each line of the message names its variable
                lines.extend(f"  {line}" for line in err["msg"].splitlines())
                continue
            field = str(err["loc"][0])
            var = env_name(field) if field in Settings.model_fields else field
            secret = field in Settings.model_fields and Settings.model_fields[field].annotation is SecretStr
            lines.append(f"  {var}: {err['msg']}" + ("" if secret else f" (got {err.get('input')!r})"))
        raise click.ClickException("invalid configuration:\n" + "\n".join(lines)) from None


def _load_policy(path: Path):
    from healthmon.core import PolicyError, load_policy

    try:
        return load_policy(path)
    except PolicyError as exc:
        raise click.ClickException(f"invalid policy {path}:\n" + "\n".join(f"  {e}" for e in exc.errors)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="healthmon")
def cli() -> None:
    """healthmon: score every account continuously from Kafka events and alert like a pager."""


def _stop_starting(signum: int, frame: object) -> None:
    name = signal.Signals(signum).name
    click.echo(f"healthmon: {name} received while the worker was starting; exiting", err=True)
    raise SystemExit(128 + signum)


@cli.command()
def worker() -> None:
    """Run a Faust worker (starts an embedded broker when KAFKA_BROKER_URL is unset)."""
    from healthmon.connect import bootstrap_of, connect_broker
    from healthmon.worker import build_worker
    from streams.topics import ensure_topics
    from streams.shutdown import BoundedStopWorker

    settings = _settings()
    policy = _load_policy(settings.policy_file)
    # Until Faust installs its own handlers, a signal ends the start-up with one line (and the embedded
    # broker is stopped by the `finally` clauses below).
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _stop_starting)
    try:
        broker_url, embedded = connect_broker(settings)
    except BrokerError as exc:
        raise click.ClickException(str(exc)) from None
    if embedded is not None:
        click.echo(f"healthmon: embedded Tansu broker at {broker_url}; "
                   f"export KAFKA_BROKER_URL={broker_url} to point generate/tail at it", err=True)
    try:
        asyncio.run(ensure_topics(bootstrap_of(broker_url), settings))
    except (OSError, asyncio.TimeoutError, Exception) as exc:  # noqa: BLE001 - report any admin failure plainly
        if embedded is not None:
            embedded.stop()
        raise click.ClickException(f"cannot create topics on {broker_url}: {exc}") from None
    asyncio.set_event_loop(asyncio.new_event_loop())
    built = build_worker(settings, policy, broker_url)
    from healthmon.core.compiled import core_mode

    click.echo(f"healthmon: worker {settings.app_id} policy {policy.version}, core {core_mode()}, API and metrics "
               f"on http://{settings.web_host}:{settings.web_port}", err=True)
    try:
        BoundedStopWorker(built.app, stop_timeout_s=settings.stop_timeout_seconds, contact=built.contact,
                          on_hard_exit=(lambda: embedded.stop(grace_s=1.0)) if embedded is not None else lambda: None,
                          loglevel=settings.log_level.upper(), quiet=True,
                          redirect_stdouts=False).execute_from_commandline()
    finally:
        if embedded is not None:
            embedded.stop(grace_s=2.0)  # in-memory: nothing to flush, and the stop must stay within bounds


@cli.command()
@click.option("--accounts", type=click.IntRange(1, 1_000_000), default=50, show_default=True,
              help="How many accounts to simulate.")
@click.option("--rate", type=click.FloatRange(0), default=1000, show_default=True,
              help="Events per second to send (0: as fast as possible).")
@click.option("--scenario", default="mixed", show_default=True,
              help="Traffic scenario: mixed, healthy, drop, silent, ticket_spike, recover, ingest_stall.")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed; the same seed sends the same events.")
@click.option("--days", type=click.IntRange(2, 400), default=42, show_default=True,
              help="Days of event time to generate, ending now.")
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=1, show_default=True,
              help="Events per message; above 1, messages are {\"events\": [...]} envelopes.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]), default=None, metavar="DATE",
              help="Anchor event times: the traffic ends at this UTC date (or date and time) instead of a day "
                   "ago, so two runs with the same seed send byte-identical events.")
@click.option("--to-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Write the traffic as a backtest input directory (one .jsonl per topic) instead of sending it.")
def generate(accounts: int, rate: float, scenario: str, seed: int, days: int, batch_size: int,
             until: datetime | None, to_dir: Path | None) -> None:
    """Send realistic synthetic traffic (profiles, usage, tickets, NPS) to the input topics."""
    from healthmon.clientguard import Interrupted, guarded, watch_broker
    from healthmon.connect import require_broker_url
    from healthmon.generator import generate as make_traffic, scenario_names
    from healthmon.produce import ProduceStats, produce

    if scenario not in scenario_names():
        raise click.BadParameter(f"unknown scenario {scenario!r}; choose from {', '.join(scenario_names())}",
                                 param_hint="--scenario")
    settings = _settings()
    start_ms = _traffic_start_ms(days, until, settings.max_future_skew_seconds)
    if to_dir is not None:
        _generate_to_dir(settings, to_dir, accounts=accounts, scenario=scenario, seed=seed, days=days,
                         start_ms=start_ms)
        return
    try:
        broker_url = require_broker_url(settings, timeout_s=settings.client_wait_seconds)
    except BrokerError as exc:
        raise click.ClickException(str(exc)) from None
    traffic = make_traffic(accounts=accounts, scenario=scenario, seed=seed, start_ms=start_ms, days=days)
    stats = ProduceStats()
    contact = watch_broker(settings.broker_timeout_seconds, settings.client_wait_seconds)
    try:
        asyncio.run(guarded(produce(settings, broker_url, traffic.records(), rate=rate, batch_size=batch_size,
                                    stats=stats),
                            contact=contact, wait_s=settings.client_wait_seconds, what="healthmon generate",
                            say=lambda line: click.echo(line, err=True)))
    except BrokerError as exc:
        raise click.ClickException(f"{exc}; {stats.events:,} events were handed to the producer, the last "
                                   "of them may not have reached Kafka (the same --seed sends the same events)"
                                   ) from None
    except Interrupted as exc:
        click.echo(f"healthmon generate: stopped by {exc.signum.name} after {stats.events:,} events "
                   f"in {stats.messages:,} messages", err=True)
        sys.exit(128 + exc.signum)
    click.echo(f"sent {stats.events:,} events in {stats.messages:,} messages in {stats.seconds:.1f} s "
               f"({stats.events / max(stats.seconds, 1e-9):,.0f} events/s)")


def _traffic_start_ms(days: int, until: datetime | None, max_future_skew_seconds: int) -> int:
    """Return where `days` days of traffic start: ending at `until` (UTC), or a day ago."""
    now_ms = int(time.time() * 1000)
    if until is None:
        return now_ms - (days + 1) * 86_400_000
    end_ms = int(until.replace(tzinfo=timezone.utc).timestamp() * 1000)
    if end_ms > now_ms + max_future_skew_seconds * 1000:
        raise click.BadParameter(f"{until:%Y-%m-%dT%H:%M:%S}Z is in the future: the worker would dead-letter "
                                 "those events as future_timestamp", param_hint="--until")
    return end_ms - days * 86_400_000


def _generate_to_dir(settings, directory: Path, *, accounts: int, scenario: str, seed: int, days: int,
                     start_ms: int) -> None:
    from healthmon.backtest.files import write_input_files
    from healthmon.backtest.inputs import file_names
    from healthmon.generator import generate as make_traffic

    traffic = make_traffic(accounts=accounts, scenario=scenario, seed=seed, start_ms=start_ms, days=days)
    try:
        counts = write_input_files(traffic.records(), directory, file_names(settings))
    except OSError as exc:
        raise click.ClickException(f"cannot write {directory}: {exc}") from None
    click.echo(f"wrote {sum(counts.values()):,} lines to {directory}: "
               + ", ".join(f"{name}.jsonl {counts[kind]:,}" for kind, name in file_names(settings).items()))


@cli.command()
@click.option("--duration", type=click.FloatRange(10), default=90, show_default=True,
              help="Longest the demo runs, in seconds.")
@click.option("--accounts", type=click.IntRange(5, 2000), default=30, show_default=True,
              help="How many accounts to simulate.")
@click.option("--seed", type=int, default=7, show_default=True, help="Traffic seed.")
@click.option("--alertmanager", "alertmanager_url", default="", metavar="URL",
              help="Also run the Alertmanager bridge, pushing the demo's alerts to this Alertmanager.")
def demo(duration: float, accounts: int, seed: int, alertmanager_url: str) -> None:
    """Run broker, worker and generator together and print alerts as they happen."""
    from healthmon.demo import run_demo

    if alertmanager_url and not alertmanager_url.startswith(("http://", "https://")):
        raise click.BadParameter(f"{alertmanager_url!r} is not an http(s) URL", param_hint="--alertmanager")
    sys.exit(run_demo(_settings(), duration_s=duration, accounts=accounts, seed=seed,
                      out=lambda line: click.echo(line), alertmanager_url=alertmanager_url.rstrip("/")))


@cli.command()
@click.option("--from-beginning", is_flag=True, help="Start at the oldest alert instead of new ones.")
@click.option("--json", "as_json", is_flag=True, help="Print each alert as one JSON line.")
def tail(from_beginning: bool, as_json: bool) -> None:
    """Print alerts from the alerts topic as they arrive (Ctrl-C to stop)."""
    import orjson

    from healthmon.clientguard import Interrupted, guarded, watch_broker
    from healthmon.connect import require_broker_url
    from healthmon.tail import format_alert, iter_alerts
    from streams.kafka_security import aiokafka_kwargs

    settings = _settings()
    try:
        broker_url = require_broker_url(settings, timeout_s=settings.client_wait_seconds)
    except BrokerError as exc:
        raise click.ClickException(str(exc)) from None

    async def run() -> None:
        async for alert in iter_alerts(broker_url, settings.topic(settings.alerts_topic),
                                       from_beginning=from_beginning, security=aiokafka_kwargs(settings)):
            click.echo(orjson.dumps(alert).decode() if as_json else format_alert(alert))

    contact = watch_broker(settings.broker_timeout_seconds, settings.client_wait_seconds)
    try:
        asyncio.run(guarded(run(), contact=contact, wait_s=settings.client_wait_seconds, what="healthmon tail",
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
    from streams.settings import Settings

    settings = _settings()
    overrides: dict[str, object] = {}
    if urls:
        overrides["alertmanager_urls"] = ",".join(urls)
    if resend_seconds is not None:
        overrides["alertmanager_resend_seconds"] = resend_seconds
    if port is not None:
        overrides["bridge_port"] = port
    try:
        settings = Settings(**{**settings.model_dump(), **overrides})
    except ValidationError as exc:
        raise click.ClickException("invalid option: " + "; ".join(e["msg"] for e in exc.errors())) from None
    if not settings.alertmanager_url_list:
        raise click.UsageError("no Alertmanager: pass --url URL or set HEALTHMON_ALERTMANAGER_URLS")
    from healthmon.alerting.run import run_bridge
    from healthmon.connect import require_broker_url

    try:
        broker_url = require_broker_url(settings)
    except BrokerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"healthmon: alertmanager bridge {settings.topic(settings.alerts_topic)} -> "
               f"{', '.join(settings.alertmanager_url_list)}; metrics on "
               f"http://{settings.bridge_host}:{settings.bridge_port}/metrics", err=True)
    sys.exit(run_bridge(settings, broker_url))


@cli.group()
def policy() -> None:
    """Work with scoring policy files."""


@policy.command("check")
@click.argument("file", type=click.Path(path_type=Path))
def policy_check(file: Path) -> None:
    """Validate a policy file; print its version, or every error with its path."""
    from healthmon.core import PolicyError, load_policy

    try:
        loaded = load_policy(file)
    except PolicyError as exc:
        for error in exc.errors:
            click.echo(f"{file}: {error}", err=True)
        click.echo(f"{file}: {len(exc.errors)} error(s)", err=True)
        sys.exit(1)
    click.echo(f"{file}: ok (version {loaded.version})")


def _progress_printer():
    """Return a progress callback: one rewritten line on a terminal, a plain line every 10 s otherwise."""
    from datetime import datetime, timezone

    tty = sys.stderr.isatty()
    last = [0.0]

    def show(stats) -> None:
        now = time.monotonic()
        if now - last[0] < (0.5 if tty else 10):
            return
        last[0] = now
        rate = stats.lines / stats.seconds if stats.seconds else 0
        at = datetime.fromtimestamp(stats.end_ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M") \
            if stats.end_ms else "-"
        line = f"backtest: {stats.lines:,} lines, {rate:,.0f} lines/s, event time {at}"
        if tty:
            click.echo("\r" + line + "   ", nl=False, err=True)
        else:
            click.echo(line, err=True)

    def done() -> None:
        if tty and last[0]:
            click.echo("", err=True)

    return show, done


def _require_input_files(settings, input_dir: Path) -> None:
    from healthmon.backtest.inputs import file_names, input_files

    if not input_files(input_dir, file_names(settings)):
        expected = ", ".join(f"{name}.jsonl" for name in file_names(settings).values())
        raise click.ClickException(f"no input files in {input_dir} (expected any of {expected}, or .jsonl.gz)")


@cli.command()
@click.option("--policy", "policy_file", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="The policy to replay.")
@click.option("--input", "input_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Directory of accounts.jsonl, product-usage.jsonl, support-tickets.jsonl, nps-responses.jsonl "
                   "(any may be missing; .jsonl.gz too).")
@click.option("--from-kafka", is_flag=True,
              help="Read the input topics' retained history from KAFKA_BROKER_URL instead (no consumer group, "
                   "nothing written).")
@click.option("--labels", "labels_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Churn labels, CSV or JSONL with account_id and churned_at: adds precision, recall and lead time.")
@click.option("--horizon-days", type=click.IntRange(1, 3650), default=90, show_default=True,
              help="An alert counts as a hit if the account churned within this many days after it.")
@click.option("--out", "out_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write every alert of --policy here, one JSON object a line.")
@click.option("--report-json", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the report as JSON here.")
@click.option("--compare", "compare_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="A second policy: both side by side, and what only one of them fires.")
def backtest(policy_file: Path, input_dir: Path | None, from_kafka: bool, labels_file: Path | None,
             horizon_days: int, out_file: Path | None, report_json: Path | None, compare_file: Path | None) -> None:
    """Replay a history through the worker's engine under a policy; report its noise and hit rate."""
    import orjson
    from aiokafka.errors import KafkaError

    from healthmon.backtest import BacktestOptions, run_backtest
    from healthmon.backtest.labels import LabelsError, load_labels
    from healthmon.backtest.render import render_report
    from healthmon.connect import require_broker_url

    if (input_dir is None) == (not from_kafka):
        raise click.UsageError("give exactly one of --input DIR and --from-kafka")
    if input_dir is not None and not input_dir.is_dir():
        raise click.BadParameter(f"{input_dir} is not a directory", param_hint="--input")
    settings = _settings()
    if input_dir is not None:
        _require_input_files(settings, input_dir)
    policies = [(str(policy_file), _load_policy(policy_file))]
    if compare_file is not None:
        policies.append((str(compare_file), _load_policy(compare_file)))
    try:
        labels = load_labels(labels_file) if labels_file is not None else None
    except LabelsError as exc:
        raise click.ClickException(f"invalid labels:\n{exc}") from None
    broker_url = None
    if from_kafka:
        try:
            broker_url = require_broker_url(settings)
        except BrokerError as exc:
            raise click.ClickException(str(exc)) from None
    show, done = _progress_printer()
    try:
        out = open(out_file, "wb") if out_file is not None else None  # noqa: SIM115
    except OSError as exc:
        raise click.ClickException(f"cannot write {out_file}: {exc}") from None
    try:
        report = run_backtest(settings, BacktestOptions(policies=policies, input_dir=input_dir, broker_url=broker_url,
                                                        labels=labels, horizon_days=horizon_days, out=out),
                              progress=show)
    except (OSError, KafkaError) as exc:
        raise click.ClickException(f"backtest failed: {exc}") from None
    finally:
        done()
        if out is not None:
            out.close()
    click.echo(render_report(report))
    if report_json is not None:
        report_json.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")


@policy.command("explain")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("account_id")
@click.option("--input", "input_dir", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="Backtest input directory (see `healthmon backtest --input`).")
def policy_explain(file: Path, account_id: str, input_dir: Path) -> None:
    """Replay the input under a policy and show one account's score, band and warning lines day by day."""
    from healthmon.backtest.explain import explain_account, render_explain

    if not input_dir.is_dir():
        raise click.BadParameter(f"{input_dir} is not a directory", param_hint="--input")
    settings = _settings()
    _require_input_files(settings, input_dir)
    loaded = _load_policy(file)
    rows = asyncio.run(explain_account(settings, loaded, account_id, input_dir))
    if not rows:
        raise click.ClickException(f"account {account_id!r} is not in {input_dir}")
    click.echo(render_explain(rows, loaded))


@cli.command()
@click.option("--events", type=click.IntRange(0), default=1_000_000, show_default=True,
              help="Events of each workload, sparse and dense (besides one profile per account).")
@click.option("--accounts", type=click.IntRange(1), default=10_000, show_default=True,
              help="Accounts of the sparse workload.")
@click.option("--seed", type=int, default=42, show_default=True, help="Workload seed.")
@click.option("--batch-size", type=click.IntRange(2, 10_000), default=100, show_default=True,
              help="Events per batch envelope in runs 4 and 5.")
@click.option("--workers", type=click.IntRange(1, 8), default=2, show_default=True,
              help="Workers of run 5 (run 4 again in one consumer group); 1 skips it.")
@click.option("--workers-min-seconds", type=click.FloatRange(0), default=10, show_default=True,
              help="When run 5 is shorter, measure 1 and several workers again on more events (0: never).")
@click.option("--dense-accounts", type=click.IntRange(0), default=0, show_default=True,
              help="Accounts of the dense workload (0: 300 at a million events, one per 3,000 events below).")
@click.option("--latency-seconds", type=click.FloatRange(0), default=25, show_default=True,
              help="How long to offer load for the latency probe; 0 skips it.")
@click.option("--latency-rate", type=click.FloatRange(1), default=5000, show_default=True,
              help="Offered load of the latency probe, events/s.")
@click.option("--latency-envelopes/--latency-single", default=True, show_default=True,
              help="Send the latency probe's background load as per-partition envelopes every 10 ms, or one "
                   "event per message.")
@click.option("--json-only", is_flag=True, help="Print only the final JSON line.")
@click.option("--profile", is_flag=True, help="Run the pipeline workers under pyinstrument (profiles in the work dir).")
@click.option("--workdir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Where logs and profiles go (default: a new temporary directory).")
def bench(events: int, accounts: int, seed: int, batch_size: int, workers: int, workers_min_seconds: float,
          dense_accounts: int,
          latency_seconds: float,
          latency_rate: float, latency_envelopes: bool, json_only: bool, profile: bool, workdir: Path | None) -> None:
    """Measure throughput floors, the pipeline, latency, memory and state size; print a table and JSON."""
    from healthmon.bench import BenchOptions, render_json, render_table, run_bench

    opts = BenchOptions(events=events, accounts=accounts, seed=seed, batch_size=batch_size, workers=workers,
                        dense_accounts=dense_accounts, workers_min_seconds=workers_min_seconds,
                        latency_seconds=latency_seconds, latency_rate=latency_rate,
                        latency_envelopes=latency_envelopes, profile=profile,
                        workdir=workdir)
    try:
        result = run_bench(opts, say=(lambda line: None) if json_only else (lambda line: click.echo(line, err=True)))
    except (BrokerError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from None
    if not json_only:
        click.echo(render_table(result))
    click.echo(render_json(result))


def main() -> None:
    """Run the CLI."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cli()
