"""A sweep's time against a single backtest on the same input (issue #24: 16 variants within 3x of one).

`python -m healthmon.bench.sweep [--input DIR --policy FILE] [--sweep PATH=V1,...] [--truth inactivity:DAYS]`
times `healthmon backtest` end to end (read, sort, merge, decode, replay, report) under the base policy
alone, then under every variant of the sweeps together (one read, sort and decode shared by all). Without
`--input` it writes the standard workload (`--events`, `--accounts`) and sweeps the default policy's first
warning line over 16 values. Timing belongs here, never in a test.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import yaml

from healthmon.backtest import BacktestOptions, run_backtest
from healthmon.backtest.files import write_input_files
from healthmon.backtest.inputs import file_names
from healthmon.backtest.sweep import parse_sweep, sweep_rows, variants
from healthmon.backtest.truth import parse_truth
from healthmon.bench.workload import workload_records
from healthmon.config import DEFAULT_POLICY_FILE, Settings
from healthmon.core import load_policy

__all__ = ["DEFAULT_SWEEP", "main"]

#: 16 values of the default policy's first line (weekly active users below this share of seats)
DEFAULT_SWEEP = "warning_lines[0].below=" + ",".join(f"{0.1 + 0.015 * n:.3f}" for n in range(16))


def _timed(settings: Settings, opts: BacktestOptions) -> tuple[float, dict]:
    started = time.perf_counter()
    report = run_backtest(settings, opts)
    return time.perf_counter() - started, report


def main(argv: list[str] | None = None) -> None:
    """Run from the command line and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, default=None, help="backtest input directory (default: the workload)")
    parser.add_argument("--policy", type=Path, default=DEFAULT_POLICY_FILE)
    parser.add_argument("--sweep", action="append", default=None, help=f"default: {DEFAULT_SWEEP}")
    parser.add_argument("--truth", default=None, help="inactivity:DAYS")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--accounts", type=int, default=2_000)
    parser.add_argument("--partitions", type=int, default=4)
    args = parser.parse_args(argv)
    settings = Settings(topics={"partitions": args.partitions}, engine={"lateness_seconds": 40 * 86_400},
                        redis={"url": ""})
    base = load_policy(args.policy)
    found = variants(yaml.safe_load(args.policy.read_text(encoding="utf-8")),
                     [parse_sweep(s) for s in args.sweep or [DEFAULT_SWEEP]])
    truth = parse_truth(args.truth) if args.truth else None
    with tempfile.TemporaryDirectory(prefix="healthmon-bench-sweep-") as tmp:
        directory = args.input
        if directory is None:
            directory = Path(tmp)
            write_input_files(workload_records(args.events, args.accounts, 42), directory, file_names(settings))
        single_s, single = _timed(settings, BacktestOptions(policies=[("base", base)], input_dir=directory,
                                                            truth=truth))
        sweep_s, report = _timed(settings, BacktestOptions(policies=[(str(v), p) for v, p in found],
                                                           input_dir=directory, truth=truth, sweep=True))
    table = sweep_rows(report, [v for v, _ in found])
    lines = single["input"]["lines"]
    print(f"single backtest: {lines:,} lines in {single_s:.1f} s ({lines / single_s:,.0f} lines/s); "
          f"{single['policies'][0]['noise']['alerts']:,} alerts")
    print(f"sweep: {len(found)} variants in {sweep_s:.1f} s ({sweep_s / len(found):.1f} s a variant); "
          f"{sum(p['noise']['alerts'] for p in report['policies']):,} alerts, "
          f"{sum(r['frontier'] for r in table['variants'])} on the frontier")
    print(f"ratio: {sweep_s / single_s:.2f}x a single backtest (target: at most 3x for 16 variants)")


if __name__ == "__main__":
    main()
