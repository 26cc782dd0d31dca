"""`healthmon inputs check FILE [--sample TOPIC_OR_JSONL] [--limit N] [--json]`: validate a file, map samples."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import click
import orjson

from healthmon.cli.base import cli, settings_from_env
from healthmon.kafka.broker import BrokerError

__all__ = ["inputs", "inputs_check"]


@cli.group()
def inputs() -> None:
    """Work with inputs files (HEALTHMON_INPUTS_FILE): which topics to read, in which shape."""


@inputs.command("check")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--sample", metavar="TOPIC_OR_JSONL", default=None,
              help="Map real messages: a JSON Lines file (one message value a line, named <topic>.jsonl or "
                   ".jsonl.gz), or one of the file's topics, read from its beginning on KAFKA_BROKER_URL "
                   "(no consumer group, nothing written).")
@click.option("--limit", type=click.IntRange(1), default=1000, show_default=True, help="Messages to map at most.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
def inputs_check(file: Path, sample: str | None, limit: int, as_json: bool) -> None:
    """Validate an inputs file: print its inputs, or every error with its path (exit 1); with --sample,
    map messages and print how many map, and for each field and reason how many fail, with one example."""
    from healthmon.ingest.inputs import InputsError, load_inputs

    try:
        loaded = load_inputs(file)
    except InputsError as exc:
        if as_json:
            click.echo(orjson.dumps({"file": str(file), "ok": False, "errors": exc.errors}).decode())
        else:
            for error in exc.errors:
                click.echo(f"{file}: {error}", err=True)
            click.echo(f"{file}: {len(exc.errors)} error(s)", err=True)
        sys.exit(1)
    if sample is None:
        described = [{"topic": s.topic, "kind": s.kind_name, "format": s.format} for s in loaded.inputs]
        if as_json:
            click.echo(orjson.dumps({"file": str(file), "ok": True, "inputs": described}).decode())
            return
        click.echo(f"{file}: ok, {len(loaded.inputs)} input(s)")
        for item in described:
            click.echo(f"  {item['topic']}: {item['kind']}, {item['format']}")
        return
    report = _sample(loaded, file, sample, limit)
    if as_json:
        click.echo(orjson.dumps({"file": str(file), "ok": True, "sample": report.to_json()}).decode())
    else:
        click.echo(report.render())


def _sample(loaded: Any, file: Path, sample: str, limit: int) -> Any:
    from healthmon.ingest.inputs.sample import SampleReport

    now_ms = int(time.time() * 1000)
    path = Path(sample)
    by_topic = loaded.by_topic()
    if path.is_file():
        stem = path.name.removesuffix(".gz").removesuffix(".jsonl")
        spec = by_topic.get(stem) or (loaded.inputs[0] if len(loaded.inputs) == 1 else None)
        if spec is None:
            names = ", ".join(f"{t}.jsonl" for t in by_topic)
            raise click.BadParameter(f"{path.name} names no topic of {file} (name it one of {names})",
                                     param_hint="--sample")
        report = SampleReport(spec, now_ms)
        _read_lines(report, path, limit)
        return report
    spec = by_topic.get(sample)
    if spec is None:
        raise click.BadParameter(f"{sample!r} is neither a file nor a topic of {file} "
                                 f"(its topics: {', '.join(by_topic)})", param_hint="--sample")
    report = SampleReport(spec, now_ms)
    _read_topic(report, sample, limit)
    return report


def _read_lines(report: Any, path: Path, limit: int) -> None:
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                line = raw.rstrip(b"\r\n")
                if not line.strip():
                    continue
                report.add(f"line {number}", line)
                if report.messages >= limit:
                    break
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc}") from None


def _read_topic(report: Any, topic: str, limit: int) -> None:
    from aiokafka.errors import KafkaError

    from healthmon.kafka.connect import require_broker_url
    from healthmon.kafka.security import aiokafka_kwargs
    from healthmon.sampling import read_sample

    settings = settings_from_env()
    try:
        broker_url = require_broker_url(settings.kafka, timeout_s=settings.kafka.client_wait_seconds)
    except BrokerError as exc:
        raise click.ClickException(str(exc)) from None

    async def run() -> None:
        async for message in read_sample(broker_url, topic, limit, aiokafka_kwargs(settings.kafka)):
            report.add(f"partition {message.partition} offset {message.offset}", message.value, message.key,
                       message.headers)

    try:
        asyncio.run(asyncio.wait_for(run(), timeout=max(60.0, settings.kafka.client_wait_seconds)))
    except (KafkaError, LookupError, TimeoutError, OSError) as exc:
        raise click.ClickException(f"cannot read {topic}: {exc or type(exc).__name__}") from None
