"""`healthmon generate`: synthetic traffic to the input topics, or to backtest input files."""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from healthmon.cli.base import cli, settings_from_env
from healthmon.kafka.broker import BrokerError

__all__ = ["generate", "traffic_start_ms"]


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
@click.option("--format", "formats", default="healthmon", show_default=True, metavar="FORMAT[,FORMAT...]",
              help="Shape the traffic as a source sends it: segment, rudderstack, snowplow, cloudevents, zendesk, "
                   "intercom, delighted, debezium (each kind takes the first listed format that carries it; the "
                   "rest stay in healthmon's own shape). See docs/inputs.md.")
@click.option("--inputs", "inputs_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Take the shaped traffic's topics from this inputs file (default: those of "
                   "deploy/inputs.example.yaml).")
def generate(accounts: int, rate: float, scenario: str, seed: int, days: int, batch_size: int,
             until: datetime | None, to_dir: Path | None, formats: str, inputs_file: Path | None) -> None:
    """Send realistic synthetic traffic (profiles, usage, tickets, NPS) to the input topics."""
    from healthmon.generator import generate as make_traffic
    from healthmon.generator import scenario_names
    from healthmon.kafka.broker_watch import watch_broker
    from healthmon.kafka.clientguard import Interrupted, guarded
    from healthmon.kafka.connect import require_broker_url
    from healthmon.produce import ProduceStats, produce

    if scenario not in scenario_names():
        raise click.BadParameter(f"unknown scenario {scenario!r}; choose from {', '.join(scenario_names())}",
                                 param_hint="--scenario")
    settings = settings_from_env()
    start_ms = traffic_start_ms(days, until, settings.ingest.max_future_skew_seconds)
    if formats != "healthmon":
        from healthmon.cli.shaped import generate_shaped

        generate_shaped(settings, formats, inputs_file, accounts=accounts, scenario=scenario, seed=seed, days=days,
                        start_ms=start_ms, rate=rate, batch_size=batch_size, to_dir=to_dir)
        return
    if to_dir is not None:
        _generate_to_dir(settings, to_dir, accounts=accounts, scenario=scenario, seed=seed, days=days,
                         start_ms=start_ms)
        return
    try:
        broker_url = require_broker_url(settings.kafka, timeout_s=settings.kafka.client_wait_seconds)
    except BrokerError as exc:
        raise click.ClickException(str(exc)) from None
    traffic = make_traffic(accounts=accounts, scenario=scenario, seed=seed, start_ms=start_ms, days=days)
    stats = ProduceStats()
    watch = watch_broker(settings.kafka.broker_timeout_seconds, settings.kafka.client_wait_seconds)
    try:
        asyncio.run(guarded(produce(settings, broker_url, traffic.records(), rate=rate, batch_size=batch_size,
                                    stats=stats),
                            watch=watch, wait_s=settings.kafka.client_wait_seconds, what="healthmon generate",
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


def traffic_start_ms(days: int, until: datetime | None, max_future_skew_seconds: int) -> int:
    """Return where `days` days of traffic start: ending at `until` (UTC), or a day ago."""
    now_ms = int(time.time() * 1000)
    if until is None:
        return now_ms - (days + 1) * 86_400_000
    end_ms = int(until.replace(tzinfo=UTC).timestamp() * 1000)
    if end_ms > now_ms + max_future_skew_seconds * 1000:
        raise click.BadParameter(f"{until:%Y-%m-%dT%H:%M:%S}Z is in the future: the worker would dead-letter "
                                 "those events as future_timestamp", param_hint="--until")
    return end_ms - days * 86_400_000


def _generate_to_dir(settings: Any, directory: Path, *, accounts: int, scenario: str, seed: int, days: int,
                     start_ms: int) -> None:
    from healthmon.backtest.files import write_input_files
    from healthmon.backtest.inputs import file_names
    from healthmon.backtest.labels import write_labels
    from healthmon.generator import generate as make_traffic

    traffic = make_traffic(accounts=accounts, scenario=scenario, seed=seed, start_ms=start_ms, days=days)
    labels = traffic.churn_labels()
    try:
        counts = write_input_files(traffic.records(), directory, file_names(settings))
        write_labels(labels, directory / "labels.csv")
    except OSError as exc:
        raise click.ClickException(f"cannot write {directory}: {exc}") from None
    click.echo(f"wrote {sum(counts.values()):,} lines to {directory}: "
               + ", ".join(f"{name}.jsonl {counts[kind]:,}" for kind, name in file_names(settings).items())
               + f"; labels.csv: {len(labels)} accounts that churn")
