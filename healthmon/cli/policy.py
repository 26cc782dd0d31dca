"""The policy commands: `policy check`, `policy explain` and `backtest`."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

import click

from healthmon.cli.base import cli, inputs_or_exit, policy_or_exit, settings_from_env
from healthmon.kafka.broker import BrokerError

__all__ = ["backtest", "policy", "policy_check", "policy_explain"]


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


def _progress_printer() -> tuple[Callable[[Any], None], Callable[[], None]]:
    """Return a progress callback: one rewritten line on a terminal, a plain line every 10 s otherwise."""
    from datetime import datetime

    tty = sys.stderr.isatty()
    last = [0.0]

    def show(stats: Any) -> None:
        now = time.monotonic()
        if now - last[0] < (0.5 if tty else 10):
            return
        last[0] = now
        rate = stats.lines / stats.seconds if stats.seconds else 0
        at = datetime.fromtimestamp(stats.end_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M") \
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


def _require_input_files(settings: Any, input_dir: Path) -> None:
    from healthmon.backtest.inputs import input_files
    from healthmon.backtest.sources import input_sources

    stems = {source.name: source.stem for source in input_sources(settings)}
    if not input_files(input_dir, stems):
        expected = ", ".join(f"{stem}.jsonl" for stem in stems.values())
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
@click.option("--scores-out", "scores_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the health-scores records of --policy here, one JSON object a line: what a worker sends "
                   "to the health-scores topic for this history.")
@click.option("--report-json", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the report as JSON here.")
@click.option("--compare", "compare_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="A second policy: both side by side, and what only one of them fires.")
@click.option("--truth", "truth_text", default=None, metavar="inactivity:DAYS",
              help="Judge silence alerts without labels: right when the account sends no usage in the DAYS after "
                   "them; recall over the accounts that went quiet for good.")
@click.option("--sweep", "sweep_specs", multiple=True, metavar="PATH=V1,V2,...",
              help="Vary a policy value by its path (e.g. warning_lines[0].above=30,60,90); repeat to combine. "
                   "Prints one table of every combination, the frontier marked.")
def backtest(policy_file: Path, input_dir: Path | None, from_kafka: bool, labels_file: Path | None,
             horizon_days: int, out_file: Path | None, scores_file: Path | None, report_json: Path | None,
             compare_file: Path | None, truth_text: str | None, sweep_specs: tuple[str, ...]) -> None:
    """Replay a history through the worker's engine under a policy; report its noise and hit rate."""
    import orjson
    from aiokafka.errors import KafkaError

    from healthmon.backtest import BacktestOptions, run_backtest
    from healthmon.backtest.labels import LabelsError, load_labels
    from healthmon.backtest.render import render_report, render_sweep
    from healthmon.backtest.sweep import sweep_rows
    from healthmon.kafka.connect import require_broker_url

    if (input_dir is None) == (not from_kafka):
        raise click.UsageError("give exactly one of --input DIR and --from-kafka")
    if labels_file is not None and truth_text is not None:
        raise click.UsageError("give --labels or --truth, not both")
    if sweep_specs and (compare_file is not None or out_file is not None or scores_file is not None):
        raise click.UsageError("--sweep replays variants of --policy: it takes neither --compare, --out nor "
                               "--scores-out")
    if out_file is not None and scores_file is not None and out_file.resolve() == scores_file.resolve():
        raise click.UsageError("--out and --scores-out name the same file: give each its own")
    if input_dir is not None and not input_dir.is_dir():
        raise click.BadParameter(f"{input_dir} is not a directory", param_hint="--input")
    settings = settings_from_env()
    inputs_or_exit(settings)  # a broken inputs file: every error, before anything is read
    if input_dir is not None:
        _require_input_files(settings, input_dir)
    policies = [(str(policy_file), policy_or_exit(policy_file))]
    if compare_file is not None:
        policies.append((str(compare_file), policy_or_exit(compare_file)))
    values = _sweep_variants(policy_file, sweep_specs) if sweep_specs else None
    if values is not None:
        policies = [(", ".join(f"{p}={v}" for p, v in vals.items()), variant) for vals, variant in values]
    truth = _truth_or_exit(truth_text)
    try:
        labels = load_labels(labels_file) if labels_file is not None else None
    except LabelsError as exc:
        raise click.ClickException(f"invalid labels:\n{exc}") from None
    broker_url = None
    if from_kafka:
        try:
            broker_url = require_broker_url(settings.kafka)
        except BrokerError as exc:
            raise click.ClickException(str(exc)) from None
    show, done = _progress_printer()
    files: dict[Path, Any] = {}
    try:
        for path in (out_file, scores_file):
            if path is not None:
                files[path] = open(path, "wb")  # noqa: SIM115
    except OSError as exc:
        for f in files.values():
            f.close()
        raise click.ClickException(f"cannot write {exc.filename}: {exc.strerror}") from None
    try:
        report = run_backtest(settings, BacktestOptions(policies=policies, input_dir=input_dir, broker_url=broker_url,
                                                        labels=labels, horizon_days=horizon_days,
                                                        out=files.get(out_file) if out_file else None,
                                                        scores_out=files.get(scores_file) if scores_file else None,
                                                        truth=truth, sweep=values is not None),
                              progress=show)
    except (OSError, KafkaError) as exc:
        raise click.ClickException(f"backtest failed: {exc}") from None
    finally:
        done()
        for f in files.values():
            f.close()
    if values is not None:
        report["sweep"] = sweep_rows(report, [vals for vals, _ in values])
        click.echo(render_sweep(report))
    else:
        click.echo(render_report(report))
    if report_json is not None:
        # A swept value may be a table keyed by numbers (`above_by_active_days`): JSON writes the keys as strings.
        report_json.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS) + b"\n")


def _truth_or_exit(text: str | None) -> Any:
    from healthmon.backtest.truth import TruthError, parse_truth

    try:
        return parse_truth(text) if text is not None else None
    except TruthError as exc:
        raise click.BadParameter(str(exc), param_hint="--truth") from None


def _sweep_variants(policy_file: Path, specs: tuple[str, ...]) -> list[tuple[dict[str, Any], Any]]:
    import yaml

    from healthmon.backtest.sweep import SweepError, parse_sweep, variants

    try:
        sweeps = [parse_sweep(spec) for spec in specs]
        paths = [s.path for s in sweeps]
        if len(set(paths)) < len(paths):
            raise SweepError("a path is swept twice: give all its values in one --sweep")
        # The document as written (already validated): tier overrides stay overrides.
        return variants(yaml.safe_load(policy_file.read_text(encoding="utf-8")), sweeps)
    except SweepError as exc:
        raise click.BadParameter(str(exc), param_hint="--sweep") from None


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
    settings = settings_from_env()
    inputs_or_exit(settings)
    _require_input_files(settings, input_dir)
    loaded = policy_or_exit(file)
    rows = asyncio.run(explain_account(settings, loaded, account_id, input_dir))
    if not rows:
        raise click.ClickException(f"account {account_id!r} is not in {input_dir}")
    click.echo(render_explain(rows, loaded))
