"""The backtest's rate on the standard workload, beside the in-process processor's on the same events.

`python -m healthmon.bench.backtest [--events N] [--accounts N] [--run-lines N] [--no-inprocess]` writes
the workload as a backtest input directory (one event a line), then times `healthmon backtest` over it
(sort, merge, decode, process, report) and, unless told not to, `healthmon.bench.inprocess` with
single-event messages: the same per-message path without the sort and the report.
"""

from __future__ import annotations

import argparse
import io
import resource
import tempfile
import time
from pathlib import Path

from healthmon.backtest import BacktestOptions, run_backtest
from healthmon.backtest.files import write_input_files
from healthmon.backtest.inputs import RUN_LINES, file_names
from healthmon.bench.workload import workload_records
from healthmon.config import Settings
from healthmon.core import load_policy

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    """Run from the command line and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--accounts", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--run-lines", type=int, default=RUN_LINES, help="lines per sorted run before spilling")
    parser.add_argument("--no-inprocess", action="store_true", help="skip the in-process comparison")
    args = parser.parse_args(argv)
    # The in-process bench's settings: 4 partitions, lateness 40 days (the workload is not late anywhere).
    settings = Settings(topics={"partitions": 4}, engine={"lateness_seconds": 40 * 86_400}, redis={"url": ""})
    with tempfile.TemporaryDirectory(prefix="healthmon-bench-backtest-") as tmp:
        directory = Path(tmp)
        counts = write_input_files(workload_records(args.events, args.accounts, args.seed), directory,
                                   file_names(settings))
        size = sum(p.stat().st_size for p in directory.iterdir())
        out = io.BytesIO()
        started = time.perf_counter()
        policy = load_policy(settings.engine.policy_file)
        report = run_backtest(settings, BacktestOptions(policies=[("default", policy)],
                                                        input_dir=directory, out=out, run_lines=args.run_lines))
        seconds = time.perf_counter() - started
    lines = sum(counts.values())
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"backtest: {lines:,} lines ({size / 2**20:.0f} MiB) in {seconds:.2f} s, {lines / seconds:,.0f} lines/s "
          f"(replay alone {report['input']['lines_per_s']:,} lines/s); "
          f"{report['policies'][0]['noise']['alerts']:,} alerts; peak RSS {rss_mib:.0f} MiB")
    if not args.no_inprocess:
        from healthmon.bench.inprocess import run_inprocess

        result = run_inprocess(args.events, args.accounts, args.seed, batch_size=None)
        print(f"in-process, single-event messages: {result.events:,} events in {result.seconds:.2f} s, "
              f"{result.events_per_s:,.0f} events/s; {result.alerts:,} alerts")


if __name__ == "__main__":
    main()
