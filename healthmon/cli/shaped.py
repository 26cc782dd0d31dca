"""`healthmon generate --format ...`: the generated traffic in the shapes of real sources, sent or written."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import click

from healthmon.kafka.broker import BrokerError

__all__ = ["generate_shaped"]


def _plan(formats: str, inputs_file: Path | None) -> tuple[Any, dict[tuple[str, str], str]]:
    from healthmon.generator.formats import EXAMPLE_TOPICS, check_topics, plan_formats, topics_of
    from healthmon.ingest.inputs import InputsError, load_inputs

    try:
        plan = plan_formats([f.strip() for f in formats.split(",") if f.strip()])
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--format") from None
    topics = EXAMPLE_TOPICS
    if inputs_file is not None:
        try:
            topics = topics_of(load_inputs(inputs_file))
        except InputsError as exc:
            raise click.ClickException(f"invalid inputs file {inputs_file}:\n" +
                                       "\n".join(f"  {e}" for e in exc.errors)) from None
    missing = check_topics(plan, topics)
    if missing:
        raise click.BadParameter(f"{inputs_file or 'the inputs file'} has no input for {', '.join(missing)}",
                                 param_hint="--inputs")
    return plan, topics


def generate_shaped(settings: Any, formats: str, inputs_file: Path | None, *, accounts: int, scenario: str,
                    seed: int, days: int, start_ms: int, rate: float, batch_size: int, to_dir: Path | None) -> None:
    """Generate the scenario's traffic shaped by `formats`, and send it (or write it to `to_dir`)."""
    from healthmon.backtest.inputs import file_names
    from healthmon.generator import generate
    from healthmon.generator.formats import shape_traffic

    plan, topics = _plan(formats, inputs_file)
    if batch_size > 1:
        raise click.BadParameter("batch envelopes are healthmon's own shape: leave --batch-size at 1 with --format",
                                 param_hint="--batch-size")
    traffic = generate(accounts=accounts, scenario=scenario, seed=seed, start_ms=start_ms, days=days)
    if to_dir is not None:
        # Files hold message values only: CloudEvents stay in structured mode there (binary mode needs headers).
        messages = shape_traffic(traffic, plan, topics, file_names(settings), binary=False)
        counts = _write(messages, to_dir)
        click.echo(f"wrote {sum(counts.values()):,} lines to {to_dir}: "
                   + ", ".join(f"{topic}.jsonl {n:,}" for topic, n in sorted(counts.items())))
        return
    _send(settings, shape_traffic(traffic, plan, topics, settings.topics.input_names), rate)


def _write(messages: Any, directory: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    handles: dict[str, Any] = {}
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for message in messages:
            handle = handles.get(message.topic)
            if handle is None:
                handle = handles[message.topic] = open(directory / f"{message.topic}.jsonl", "wb")  # noqa: SIM115
            handle.write((message.value or b"null") + b"\n")
            counts[message.topic] += 1
    except OSError as exc:
        raise click.ClickException(f"cannot write {directory}: {exc}") from None
    finally:
        for handle in handles.values():
            handle.close()
    return counts


def _send(settings: Any, messages: Any, rate: float) -> None:
    from healthmon.kafka.broker_watch import watch_broker
    from healthmon.kafka.clientguard import Interrupted, guarded
    from healthmon.kafka.connect import require_broker_url
    from healthmon.produce import ProduceStats, produce_messages

    try:
        broker_url = require_broker_url(settings.kafka, timeout_s=settings.kafka.client_wait_seconds)
    except BrokerError as exc:
        raise click.ClickException(str(exc)) from None
    stats = ProduceStats()
    watch = watch_broker(settings.kafka.broker_timeout_seconds, settings.kafka.client_wait_seconds)
    try:
        asyncio.run(guarded(produce_messages(settings, broker_url, messages, rate=rate, stats=stats),
                            watch=watch, wait_s=settings.kafka.client_wait_seconds, what="healthmon generate",
                            say=lambda line: click.echo(line, err=True)))
    except BrokerError as exc:
        raise click.ClickException(f"{exc}; {stats.messages:,} messages were handed to the producer") from None
    except Interrupted as exc:
        click.echo(f"healthmon generate: stopped by {exc.signum.name} after {stats.messages:,} messages", err=True)
        sys.exit(128 + exc.signum)
    click.echo(f"sent {stats.messages:,} messages in {stats.seconds:.1f} s "
               f"({stats.messages / max(stats.seconds, 1e-9):,.0f} messages/s)")
