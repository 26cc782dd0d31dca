"""Run the whole benchmark: one broker, the workload produced once per shape, every run in turn."""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from healthmon import __version__
from healthmon.bench.children import Child
from healthmon.bench.history import history_bytes_per_account
from healthmon.bench.latency import LATENCY_POLICY, percentile, run_latency
from healthmon.bench.options import LATENESS_S, PARTITIONS, BenchOptions
from healthmon.bench.repartitioned import run_repartitioned
from healthmon.bench.report import check_targets
from healthmon.bench.segment import run_segment
from healthmon.bench.workload import (
    DORMANT_ACCOUNTS,
    WORKLOADS,
    dense_accounts,
)
from healthmon.bench.workload_runs import run_single, run_workload
from healthmon.config import Settings
from healthmon.core.compiled import core_mode
from healthmon.kafka.broker import EmbeddedBroker, free_port
from healthmon.kafka.connect import bootstrap_of
from healthmon.serving.redis_clients import redis_kwargs

__all__ = ["BenchOptions", "run_bench"]

def _redis_url() -> str:
    """Return REDIS_URL if a Redis answers there, else "" (the runs then have no Redis view)."""
    import redis

    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1, **redis_kwargs(Settings().redis)).ping()
    except (redis.RedisError, OSError, ValueError):
        return ""
    return url


def run_bench(opts: BenchOptions, say: Callable[[str], None] = lambda line: None) -> dict[str, Any]:
    """Run every benchmark run and return the result (see BENCHMARKS.md for the fields)."""
    # SIGTERM unwinds like Ctrl-C, so the workers and the broker are stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = opts.workdir or Path(tempfile.mkdtemp(prefix="healthmon-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    say(f"bench: logs and profiles in {workdir}")
    configured = Settings().kafka.broker_url
    broker = None if configured else EmbeddedBroker(Settings().kafka.tansu_bin, log_path=workdir / "tansu.log").start()
    broker_url = configured or broker.url  # type: ignore[union-attr]
    bootstrap = bootstrap_of(broker_url)
    redis_url = _redis_url()
    run_id = uuid.uuid4().hex[:6]

    def settings(topics: str, app: str) -> Settings:
        return Settings(kafka={"broker_url": broker_url},
                        worker={"app_id": f"bench-{run_id}-{app}", "log_level": "warning"},
                        topics={"prefix": f"bench-{run_id}-{topics}-", "partitions": PARTITIONS},
                        redis={"url": redis_url, "prefix": f"bench-{run_id}-{app}:"}, http={"port": free_port()},
                        store={"data_dir": workdir / f"data-{app}"}, engine={"lateness_seconds": LATENESS_S})

    try:
        if opts.only == "repartitioned":
            return _run_repartitioned_only(opts, settings, bootstrap, workdir, say)
        if opts.only == "segment":
            return _run_segment_only(opts, settings, bootstrap, workdir, say)
        if opts.only == "single":
            return _run_single_only(opts, settings, bootstrap, workdir, say)
        return _run_all(opts, settings, bootstrap, workdir, say, broker_url, redis_url)
    finally:
        if broker is not None:
            broker.stop()


def _run_repartitioned_only(opts: BenchOptions, settings: Callable[..., Settings], bootstrap: str, workdir: Path,
                            say: Callable[[str], None]) -> dict[str, Any]:
    """Run the repartitioned comparison alone (`healthmon bench --repartitioned`)."""
    part = run_repartitioned(opts, opts.dense_accounts or dense_accounts(opts.events), settings, bootstrap, workdir,
                             say, rounds=opts.repartitioned_rounds)
    result: dict[str, Any] = {
        "bench": "healthmon", "version": __version__, "events": opts.events, "seed": opts.seed,
        "partitions": PARTITIONS, "cores": os.cpu_count(), "core_mode": core_mode(), "repartitioned": part,
        "ratio_repartitioned_to_direct_single": part["ratio_repartitioned_to_direct_single"]}
    result["targets"] = check_targets(result)
    return result


def _run_segment_only(opts: BenchOptions, settings: Callable[..., Settings], bootstrap: str, workdir: Path,
                      say: Callable[[str], None]) -> dict[str, Any]:
    """Run the segment comparison alone (`healthmon bench --segment`)."""
    part = run_segment(opts, opts.dense_accounts or dense_accounts(opts.events), settings, bootstrap, workdir, say,
                       rounds=opts.repartitioned_rounds)
    result: dict[str, Any] = {
        "bench": "healthmon", "version": __version__, "events": opts.events, "seed": opts.seed,
        "partitions": PARTITIONS, "cores": os.cpu_count(), "core_mode": core_mode(), "segment": part}
    # the target is for calls keyed by account, which measure the mapping; unkeyed ones measure the moves too
    ratio_key = "ratio_segment_to_native_dense" if part["keyed"] else "ratio_unkeyed_segment_to_native_dense"
    result[ratio_key] = part["ratio_segment_to_native_dense"]
    result["targets"] = check_targets(result)
    return result


def _run_single_only(opts: BenchOptions, settings: Callable[..., Settings], bootstrap: str, workdir: Path,
                     say: Callable[[str], None]) -> dict[str, Any]:
    """Run the floors and the single-event pipeline alone on both workloads (`healthmon bench --single`)."""
    sparse = run_single(opts, "sparse", opts.accounts, settings, bootstrap, workdir, say)
    dense = run_single(opts, "dense", opts.dense_accounts or dense_accounts(opts.events), settings, bootstrap,
                       workdir, say)
    result: dict[str, Any] = {
        "bench": "healthmon", "version": __version__, "events": opts.events, "seed": opts.seed,
        "partitions": PARTITIONS, "cores": os.cpu_count(), "core_mode": core_mode(), "sparse": sparse,
        "dense": dense, **_single_ratios(dense, sparse)}
    result["targets"] = check_targets(result)
    return result


def _single_ratios(dense: dict[str, Any], sparse: dict[str, Any]) -> dict[str, Any]:
    return {"ratio_dense_single_to_bare_faust": dense["ratio_single_to_bare_faust"],
            "ratio_sparse_single_to_bare_faust": sparse["ratio_single_to_bare_faust"],
            "ratio_dense_single_to_raw": dense["ratio_single_to_raw"]}


def _inprocess(opts: BenchOptions, workdir: Path, timeout_s: float) -> dict[str, Any]:
    """Run the in-process bench (both workloads, cost model, RSS per live account) in a child process."""
    return _child_json("inprocess", ["--events", str(opts.events), "--accounts", str(opts.accounts), "--seed",
                                     str(opts.seed), "--cost-model", "--json"], workdir, timeout_s)


def _child_json(module: str, args: list[str], workdir: Path, timeout_s: float) -> dict[str, Any]:
    """Run `healthmon.bench.<module>` in a child process; return the JSON line it prints last."""
    log = workdir / f"{module}.log"
    child = Child([sys.executable, "-m", f"healthmon.bench.{module}", *args], dict(os.environ), log)
    try:
        code = child.wait(timeout_s)
        lines = log.read_bytes().strip().splitlines()
        if code != 0 or not lines or not lines[-1].startswith(b"{"):
            raise RuntimeError(f"{module} bench: exit {code}:\n{child.log_tail()}")
        return orjson.loads(lines[-1])
    finally:
        child.stop()


def _run_all(opts: BenchOptions, settings: Callable[..., Settings], bootstrap: str, workdir: Path,
             say: Callable[[str], None], broker_url: str, redis_url: str) -> dict[str, Any]:
    say("bench: in-process, both workloads (cost model, RSS per live account)")
    inproc = _inprocess(opts, workdir, 1200 + opts.events / 500)
    for name in WORKLOADS:
        say(f"bench: ... in-process {name}: {inproc[name]['events_per_s']:,.0f} events/s")
    say("bench: dormant (purchase-like) workload, in process and as a backtest")
    # 21,000 accounts (63,000 purchases) from 210,000 events up: the CDNOW-like history of issue #25
    dormant_n = min(DORMANT_ACCOUNTS, max(100, opts.events // 10))
    dormant = _child_json("dormant", ["--accounts", str(dormant_n), "--seed", str(opts.seed), "--json"], workdir,
                          1800)
    say(f"bench: ... {dormant['evaluations_per_event']} evaluations per purchase, backtest "
        f"{dormant['backtest_lines_per_s']:,} lines/s")
    say("bench: day closes (the score history's extra scoring per account per day), dense workload in process")
    day_close = _child_json("day_close", ["--events", str(opts.events), "--seed", str(opts.seed), "--json"], workdir,
                            600 + opts.events / 1000)
    say(f"bench: ... {day_close['day_closes_per_evaluation_dense']} day closes per evaluation at "
        f"{day_close['us_per_day_close']} µs each")
    sparse = run_workload(opts, "sparse", opts.accounts, settings, bootstrap, workdir, say)
    dense_n = opts.dense_accounts or dense_accounts(opts.events)
    dense = run_workload(opts, "dense", dense_n, settings, bootstrap, workdir, say)
    repartitioned = run_repartitioned(opts, dense_n, settings, bootstrap, workdir, say,
                                      rounds=opts.repartitioned_rounds)
    segment = run_segment(opts, dense_n, settings, bootstrap, workdir, say, rounds=opts.repartitioned_rounds)

    latency: dict[str, Any] | None = None
    if opts.latency_seconds > 0:
        say(f"bench: latency at {opts.latency_rate:,.0f} events/s for {opts.latency_seconds:.0f} s")
        latency_settings = settings("latency", "latency").replace(engine={"policy_file": LATENCY_POLICY})
        lat = run_latency(latency_settings, bootstrap, workdir, rate=opts.latency_rate, seconds=opts.latency_seconds,
                          envelopes=opts.latency_envelopes)
        latency = {"offered_events_per_s": lat.rate, "envelopes": opts.latency_envelopes, "seconds": lat.seconds,
                   "sent_events": lat.sent_events,
                   "probes": lat.probes, "alerts": len(lat.total_s),
                   "p50_s": percentile(lat.total_s, 0.5), "p99_s": percentile(lat.total_s, 0.99),
                   "p50_after_boundary_s": percentile(lat.after_boundary_s, 0.5),
                   "p99_after_boundary_s": percentile(lat.after_boundary_s, 0.99),
                   "peak_rss_bytes": lat.peak_rss_bytes}

    # The keys of the sparse (standard) workload keep their names from issue #5; the dense ones are added.
    result: dict[str, Any] = {
        "bench": "healthmon", "version": __version__, "events": opts.events, "accounts": opts.accounts,
        "dense_accounts": dense_n,
        "seed": opts.seed, "batch_size": opts.batch_size, "workers": opts.workers, "partitions": PARTITIONS,
        "cores": os.cpu_count(), "broker": "external" if Settings().kafka.broker_url else "embedded-tansu",
        "redis_view": bool(redis_url), "core_mode": core_mode(),
        **{k: v for k, v in sparse.items() if k not in ("workload", "accounts")},
        "dense": dense,
        "dense_batch_events_per_s": dense["batch_events_per_s"],
        "sparse_batch_events_per_s": sparse["batch_events_per_s"],
        "ratio_dense_batch_to_raw": dense["ratio_batch_to_raw"],
        "ratio_sparse_batch_to_raw": sparse["ratio_batch_to_raw"],
        **_single_ratios(dense, sparse),
        "speedup_workers_dense": dense["speedup_workers"],
        "repartitioned": repartitioned,
        "ratio_repartitioned_to_direct_single": repartitioned["ratio_repartitioned_to_direct_single"],
        "segment": segment,
        "ratio_segment_to_native_dense": segment["ratio_segment_to_native_dense"],
        "inprocess": inproc,
        "inprocess_dense_events_per_s": inproc["dense"]["events_per_s"],
        "inprocess_sparse_events_per_s": inproc["sparse"]["events_per_s"],
        "us_per_evaluation": inproc["sparse"]["us_per_evaluation"],
        "evaluations_per_event_sparse": inproc["sparse"]["evaluations_per_event"],
        "rss_bytes_per_account_100k": inproc["rss_bytes_per_account"]["100000"],
        "dormant": dormant,
        "evaluations_per_event_dormant": dormant["evaluations_per_event"],
        "backtest_dormant_lines_per_s": dormant["backtest_lines_per_s"],
        "day_close": day_close,
        "us_per_day_close": day_close["us_per_day_close"],
        "day_closes_per_evaluation_dense": day_close["day_closes_per_evaluation_dense"],
        "latency_p50_s": latency and latency["p50_s"], "latency_p99_s": latency and latency["p99_s"],
        "latency": latency,
    }
    if redis_url:
        say("bench: score history in Redis (MEMORY USAGE per account)")
        result.update(history_bytes_per_account(settings("history", "history")))
    result["peak_rss_bytes"] = max(sparse["peak_rss_bytes"], dense["peak_rss_bytes"])
    result["targets"] = check_targets(result)
    return result
