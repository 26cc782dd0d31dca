"""A whole backtest: read and sort the inputs, replay them under one or two policies, build the report."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from healthmon.backtest.inputs import RUN_LINES, Sorter, input_files, merged, read_lines
from healthmon.backtest.report import (
    DAY_MS,
    AlertRow,
    Inactivity,
    baseline_alerts,
    hit_rate,
    noise_report,
    only_in,
    rule_hit_rates,
)
from healthmon.backtest.runner import Replay, ReplayStats, replay
from healthmon.backtest.sources import InputSource, input_sources
from healthmon.backtest.truth import Truth, silence_rates, truth_rate
from healthmon.config import Settings
from healthmon.core import Policy
from healthmon.kafka.security import aiokafka_kwargs

__all__ = ["BacktestOptions", "BASELINE_DAYS", "backtest", "load_sorted", "run_backtest"]

#: The plain "no activity for N days" rules printed beside a policy's hit rate.
BASELINE_DAYS = (30, 60, 90)


@dataclass
class BacktestOptions:
    """What to replay and what to report."""

    #: (name shown in the report, policy); a second one is compared with the first
    policies: list[tuple[str, Policy]]
    input_dir: Path | None = None
    #: read the input topics' history from this broker instead of files
    broker_url: str | None = None
    labels: dict[str, int] | None = None
    horizon_days: int = 90
    #: judge silence alerts by the history after them instead of labels (`--truth inactivity:DAYS`)
    truth: Truth | None = None
    #: the policies are variants of a sweep: no side-by-side comparison of two
    sweep: bool = False
    #: where the first policy's alerts go, one JSON object a line
    out: IO[bytes] | None = None
    #: where the first policy's health-scores records go, one JSON object a line, as the worker sends them
    scores_out: IO[bytes] | None = None
    run_lines: int = RUN_LINES
    #: epoch ms every alert's `processed_at` gets (a replay has no processing time of its own)
    processing_ms: int = field(default_factory=lambda: int(time.time() * 1000))


async def load_sorted(settings: Settings, input_dir: Path | None, broker_url: str | None,
                      run_lines: int = RUN_LINES, sources: list[InputSource] | None = None) -> dict[str, Sorter]:
    """Read every input (files of `input_dir`, or the topics' history) into event-time sorters.

    `sources` are the inputs (`input_sources(settings)`: the inputs file's, or today's four).
    """
    sources = sources if sources is not None else input_sources(settings)
    sorters: dict[str, Sorter] = {source.name: source.sorter(run_lines) for source in sources}
    if broker_url is not None:
        from healthmon.backtest.kafka import read_history

        for source in sources:
            await read_history(broker_url, source.topic, sorters[source.name], aiokafka_kwargs(settings.kafka))
    elif input_dir is not None:
        for item in input_files(input_dir, {source.name: source.stem for source in sources}):
            for raw in read_lines(item.path):
                sorters[item.kind].add(raw)
    return sorters


def run_backtest(settings: Settings, opts: BacktestOptions,
                 progress: Callable[[ReplayStats], None] | None = None) -> dict[str, Any]:
    """Replay the input under each policy; write the first one's alerts; return the report as data."""
    return asyncio.run(backtest(settings, opts, progress))


async def backtest(settings: Settings, opts: BacktestOptions,
                   progress: Callable[[ReplayStats], None] | None = None) -> dict[str, Any]:
    """Do what `run_backtest` does, inside a running event loop."""
    sources = input_sources(settings)
    sorters = await load_sorted(settings, opts.input_dir, opts.broker_url, opts.run_lines, sources)
    collected: list[list[AlertRow]] = [[] for _ in opts.policies]

    def collector(n: int) -> Callable[[dict[str, Any]], None]:
        rows = collected[n]

        def on_alert(alert: dict[str, Any]) -> None:
            rows.append(AlertRow.of(alert))
            if n == 0 and opts.out is not None:
                opts.out.write(orjson.dumps(alert) + b"\n")
        return on_alert

    scores_out = opts.scores_out

    def on_score(value: bytes) -> None:
        assert scores_out is not None
        scores_out.write(value + b"\n")

    runs = [Replay(settings, policy, processing_ms=opts.processing_ms, on_alert=collector(n),
                   on_score=on_score if n == 0 and scores_out is not None else None)
            for n, (_, policy) in enumerate(opts.policies)]
    inactivity = Inactivity(min_gap_ms=min(*BASELINE_DAYS, *((opts.truth.days,) if opts.truth else ())) * DAY_MS)
    lines = merged(dict(sorters))
    try:
        stats = await replay(lines, runs, {s.name: s.topic for s in sources}, progress=progress,
                             inactivity=inactivity, kinds={s.name: s.kind for s in sources})
    finally:
        for sorter in sorters.values():
            sorter.close()
    return build_report(opts, stats, runs, collected, inactivity)


def build_report(opts: BacktestOptions, stats: ReplayStats, runs: list[Replay], collected: list[list[AlertRow]],
                 inactivity: Inactivity) -> dict[str, Any]:
    """Assemble the report data of a finished replay."""
    dead: Counter[str] = runs[0].dead_letters if runs else Counter()
    report: dict[str, Any] = {
        "input": {"lines": stats.lines, "by_kind": dict(sorted(stats.by_kind.items())),
                  "dead_letters": dict(sorted(dead.items())), "start_ms": stats.start_ms, "end_ms": stats.end_ms,
                  "seconds": round(stats.seconds, 3),
                  "lines_per_s": round(stats.lines / stats.seconds) if stats.seconds else None},
        "policies": [],
    }
    if runs and runs[0].under_floor * 2 > stats.lines:
        # An old archive: nearly everything is refused as a clock default; say which setting decides.
        report["input"]["under_min_occurred_at"] = {"events": runs[0].under_floor,
                                                    "setting": "HEALTHMON_MIN_OCCURRED_AT",
                                                    "value": runs[0].min_occurred_at}
    horizon_ms = opts.horizon_days * DAY_MS
    churned = None
    if opts.labels is not None:
        churned = {a: t for a, t in opts.labels.items() if a in stats.accounts}
        gaps = inactivity.finish(stats.start_ms, stats.end_ms)
        report["labels"] = {"accounts": len(opts.labels), "known": len(churned), "horizon_days": opts.horizon_days}
        report["baseline"] = {f"no_activity_{d}d": hit_rate(baseline_alerts(gaps, d), churned, horizon_ms).as_dict()
                              for d in BASELINE_DAYS}
    truth = opts.truth
    if truth is not None:
        # Accounts that never sent usage have no last activity to be silent since: no line watches them.
        gaps = [g for g in inactivity.finish(stats.start_ms, stats.end_ms) if inactivity.last.get(g[0]) is not None]
        baseline = {f"no_activity_{d}d": truth_rate(baseline_alerts(gaps, d), inactivity.gaps, inactivity.last,
                                                    stats.end_ms, truth) for d in BASELINE_DAYS}
        report["truth"] = {"kind": "inactivity", "days": truth.days, "end_ms": stats.end_ms,
                           "judged_until_ms": stats.end_ms - truth.span_ms,
                           "gone": baseline[f"no_activity_{BASELINE_DAYS[0]}d"].gone}
        report["baseline"] = {name: rate.as_dict() for name, rate in baseline.items()}
    for (name, policy), rows, _run, band_days in zip(opts.policies, collected, runs, stats.band_days):
        entry: dict[str, Any] = {"name": name, "version": policy.version,
                                 "noise": noise_report(rows, stats.accounts, stats.start_ms, stats.end_ms,
                                                       dict(band_days))}
        if churned is not None:
            entry["hit_rate"] = {rule: hr.as_dict() for rule, hr in rule_hit_rates(rows, churned, horizon_ms).items()}
        if truth is not None:
            entry["truth"] = {rule: rate.as_dict() for rule, rate in
                              silence_rates(rows, inactivity.gaps, inactivity.last, stats.end_ms, truth).items()}
        report["policies"].append(entry)
    if len(collected) == 2 and not opts.sweep:
        report["compare"] = {"only_first": [list(x) for x in only_in(collected[0], collected[1])],
                             "only_second": [list(x) for x in only_in(collected[1], collected[0])]}
    return report
