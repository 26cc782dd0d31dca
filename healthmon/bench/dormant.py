"""The dormant workload: evaluations per purchase, and the backtest's rate, on purchase-like history.

`python -m healthmon.bench.dormant [--accounts N] [--seed N] [--daily] [--json]` generates the dormant
workload (`healthmon.generator.dormant`: 3 purchases per single-seat account over 18 months, 21,000
accounts by default, as the CDNOW-like history of issue #25), runs it through the processor in process
counting evaluations, then times `healthmon backtest` over it as input files, both under the purchases
example policy. `--daily` runs the in-process part with every known account evaluated at least daily (the
behaviour before issue #25), for comparison. `evaluations_per_event` is a count, whatever the machine's
load; the rates are timings, given per wall-clock and per CPU second (the latter holds better on a
machine shared with other work).
"""

from __future__ import annotations

import argparse
import io
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from healthmon.backtest import BacktestOptions, run_backtest
from healthmon.backtest.files import write_input_files
from healthmon.backtest.inputs import file_names
from healthmon.bench.inprocess import run_inprocess
from healthmon.bench.workload import DORMANT, DORMANT_ACCOUNTS, PURCHASES_POLICY_FILE
from healthmon.config import Settings
from healthmon.core import load_policy
from healthmon.generator.dormant import dormant_records

__all__ = ["run_dormant"]


def _cpu_seconds() -> float:
    """Return the CPU time this process has used (user and system): on a shared machine, beside the wall clock."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_dormant(accounts: int = DORMANT_ACCOUNTS, seed: int = 42, daily: bool = False,
                backtest: bool = True) -> dict[str, Any]:
    """Return the dormant workload's figures: evaluations per purchase, in-process and backtest rates."""
    records = list(dormant_records(accounts, seed))
    purchases = sum(1 for r in records if r.kind == "usage")
    cpu = _cpu_seconds()
    result = run_inprocess(0, 0, seed, None, DORMANT, records=records, skip_quiet=not daily)
    inprocess_cpu = _cpu_seconds() - cpu
    out: dict[str, Any] = {
        "accounts": accounts, "purchases": purchases, "lines": len(records), "daily": daily,
        "evaluations": result.evaluations, "evaluations_per_event": round(result.evaluations / purchases, 3),
        "inprocess_seconds": round(result.seconds, 3), "inprocess_lines_per_s": round(len(records) / result.seconds),
        "inprocess_lines_per_cpu_s": round(len(records) / inprocess_cpu),
        "alerts": result.alerts, "alerts_digest": result.alerts_digest, "states_digest": result.states_digest,
    }
    if backtest:
        settings = Settings(topics={"partitions": 4}, engine={"lateness_seconds": 40 * 86_400}, redis={"url": ""})
        with tempfile.TemporaryDirectory(prefix="healthmon-bench-dormant-") as tmp:
            directory = Path(tmp)
            write_input_files(records, directory, file_names(settings))
            started, cpu = time.perf_counter(), _cpu_seconds()
            report = run_backtest(settings, BacktestOptions(
                policies=[("purchases", load_policy(PURCHASES_POLICY_FILE))], input_dir=directory, out=io.BytesIO()))
            seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
        out.update(backtest_seconds=round(seconds, 3), backtest_lines_per_s=round(len(records) / seconds),
                   backtest_lines_per_cpu_s=round(len(records) / cpu),
                   backtest_alerts=report["policies"][0]["noise"]["alerts"])
    return out


def main(argv: list[str] | None = None) -> None:
    """Run from the command line and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=DORMANT_ACCOUNTS)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--daily", action="store_true", help="evaluate every known account at least daily")
    parser.add_argument("--no-backtest", action="store_true", help="the in-process part only")
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    args = parser.parse_args(argv)
    fig = run_dormant(args.accounts, args.seed, args.daily, not args.no_backtest)
    print(f"dormant ({fig['accounts']:,} accounts, {fig['purchases']:,} purchases{', daily' if args.daily else ''}): "
          f"{fig['evaluations_per_event']:,} evaluations per purchase; in process {fig['inprocess_lines_per_s']:,} "
          f"lines/s ({fig['inprocess_lines_per_cpu_s']:,} per CPU second); {fig['alerts']:,} alerts; "
          f"digests alerts {fig['alerts_digest']} states {fig['states_digest']}")
    if "backtest_lines_per_s" in fig:
        print(f"backtest: {fig['lines']:,} lines in {fig['backtest_seconds']:.2f} s, "
              f"{fig['backtest_lines_per_s']:,} lines/s ({fig['backtest_lines_per_cpu_s']:,} per CPU second); "
              f"{fig['backtest_alerts']:,} alerts")
    if args.json:
        print(orjson.dumps(fig).decode())


if __name__ == "__main__":
    main()
