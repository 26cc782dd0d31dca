"""`healthmon bench`: the throughput benchmark (see BENCHMARKS.md)."""

from __future__ import annotations

from pathlib import Path

import click

from healthmon.cli.base import cli
from healthmon.kafka.broker import BrokerError

__all__ = ["bench"]


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
@click.option("--history", "history_only", is_flag=True,
              help="Measure only the score history's Redis memory per account (REDIS_URL): history_bytes_per_account.")
@click.option("--day-close", "day_close_only", is_flag=True,
              help="Measure only the day closes on the dense workload in process: us_per_day_close and "
                   "day_closes_per_evaluation_dense (--events, --seed).")
@click.option("--repartitioned", is_flag=True,
              help="Run only the repartitioned comparison: the dense workload produced direct and by "
                   "confluent-kafka (CRC32), one worker on each, in turns.")
@click.option("--repartitioned-rounds", type=click.IntRange(1, 10), default=2, show_default=True,
              help="Rounds of the repartitioned comparison (each times both sides once).")
@click.option("--segment", is_flag=True,
              help="Run only the segment comparison: the dense workload as native messages and as Segment tracks "
                   "and groups, keyed by account_id, one worker on each, in turns (--repartitioned-rounds rounds).")
@click.option("--unkeyed", is_flag=True,
              help="With --segment: send the Segment calls without a key, as Segment's destination does, so that "
                   "every track moves to its account's partition through the repartition topic.")
@click.option("--single", is_flag=True,
              help="Run only runs 1 to 3 (raw aiokafka, bare Faust, the pipeline on single-event messages) on the "
                   "sparse and dense workloads: the single-event ratios in minutes.")
@click.option("--mapping", is_flag=True,
              help="Run only the in-process mapping micro-benchmark: µs per event of each inputs-file preset.")
@click.option("--recovery", "recovery_accounts", type=click.IntRange(1), default=None,
              help="Run only the recovery benchmark: seconds to /readyz with this many accounts in the changelog, "
                   "on each store (100000 in BENCHMARKS.md).")
@click.option("--takeover", "takeover_accounts", type=click.IntRange(4), default=None,
              help="Run only the takeover benchmark: seconds until a SIGKILLed worker's partitions move again on "
                   "the survivor, with this many accounts in the changelog, without and with a standby replica.")
def bench(events: int, accounts: int, seed: int, batch_size: int, workers: int, workers_min_seconds: float,
          dense_accounts: int, latency_seconds: float,
          latency_rate: float, latency_envelopes: bool, json_only: bool, profile: bool, workdir: Path | None,
          repartitioned: bool, repartitioned_rounds: int, segment: bool, unkeyed: bool, single: bool, mapping: bool,
          recovery_accounts: int | None, history_only: bool, day_close_only: bool,
          takeover_accounts: int | None) -> None:
    """Measure throughput floors, the pipeline, latency, memory and state size; print a table and JSON."""
    if history_only:
        import orjson

        from healthmon.bench.history import HISTORY_TARGET_BYTES, history_bytes_per_account
        from healthmon.config import Settings

        settings = Settings()
        if not settings.redis.url:
            raise click.ClickException("--history measures Redis memory: set REDIS_URL")
        try:
            figures = history_bytes_per_account(settings)
        except (RuntimeError, OSError) as exc:
            raise click.ClickException(str(exc)) from None
        figures["target_met"] = figures["history_bytes_per_account"] <= HISTORY_TARGET_BYTES
        click.echo(orjson.dumps(figures).decode())
        return
    if day_close_only:
        import orjson

        from healthmon.bench.day_close import run_day_close

        try:
            figures = run_day_close(events, seed)
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(orjson.dumps(figures).decode())
        return
    if mapping:
        import orjson

        from healthmon.bench.mapping import render_mapping, run_mapping_bench, summary

        try:
            rows = run_mapping_bench()
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from None
        if not json_only:
            click.echo(render_mapping(rows))
        click.echo(orjson.dumps(summary(rows)).decode())
        return
    if recovery_accounts is not None:
        import tempfile

        import orjson

        from healthmon.bench.recovery import recovery_summary, run_recovery
        from healthmon.config import Settings

        where = workdir or Path(tempfile.mkdtemp(prefix="healthmon-recovery-"))
        where.mkdir(parents=True, exist_ok=True)
        try:
            runs = run_recovery(recovery_accounts, where, Settings().kafka.broker_url,
                                say=(lambda line: None) if json_only else (lambda line: click.echo(line, err=True)))
        except (BrokerError, RuntimeError) as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(orjson.dumps(recovery_summary(runs, recovery_accounts)).decode())
        return
    if takeover_accounts is not None:
        import tempfile

        import orjson

        from healthmon.bench.takeover import run_takeover, takeover_summary
        from healthmon.config import Settings

        where = workdir or Path(tempfile.mkdtemp(prefix="healthmon-takeover-"))
        where.mkdir(parents=True, exist_ok=True)
        try:
            say = (lambda line: None) if json_only else (lambda line: click.echo(line, err=True))
            takeovers = run_takeover(takeover_accounts, where, Settings().kafka.broker_url, say=say)
        except (BrokerError, RuntimeError) as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(orjson.dumps(takeover_summary(takeovers, takeover_accounts)).decode())
        return
    from healthmon.bench import BenchOptions, render_json, render_table, run_bench

    opts = BenchOptions(events=events, accounts=accounts, seed=seed, batch_size=batch_size, workers=workers,
                        dense_accounts=dense_accounts, workers_min_seconds=workers_min_seconds,
                        latency_seconds=latency_seconds, latency_rate=latency_rate,
                        latency_envelopes=latency_envelopes, profile=profile,
                        repartitioned_rounds=repartitioned_rounds, segment_keyed=not unkeyed,
                        only=("repartitioned" if repartitioned else "segment" if segment
                              else "single" if single else None),
                        workdir=workdir)
    try:
        result = run_bench(opts, say=(lambda line: None) if json_only else (lambda line: click.echo(line, err=True)))
    except (BrokerError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from None
    if not json_only:
        click.echo(render_table(result))
    click.echo(render_json(result))
