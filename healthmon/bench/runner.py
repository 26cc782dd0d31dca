"""Run the whole benchmark: one broker, the workload produced once per shape, every run in turn."""

from __future__ import annotations

import asyncio
import math
import os
import signal
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import orjson

from healthmon import __version__
from healthmon.bench.changelog import changelog_stats
from healthmon.bench.children import Child, settings_env
from healthmon.bench.latency import LATENCY_POLICY, percentile, run_latency
from healthmon.bench.pipeline import PipelineRun, run_pipeline
from healthmon.bench.report import check_targets
from healthmon.bench.workload import (WORKLOADS, dense_accounts, envelope_messages, produce_messages,
                                      single_messages, workload_records)
from healthmon.core.compiled import core_mode
from healthmon.broker import EmbeddedBroker, free_port
from healthmon.connect import bootstrap_of
from streams.redis_security import redis_kwargs
from streams.settings import Settings

__all__ = ["BenchOptions", "run_bench"]

PARTITIONS = 4
#: Faust does not align its fetches of the four input topics by time, so a backfill of 30 days can
#: reach an account's tickets weeks before its usage; the runs accept that lateness so every event counts.
LATENESS_S = 40 * 86_400


@dataclass(frozen=True)
class BenchOptions:
    """What to run."""

    events: int = 1_000_000
    accounts: int = 10_000
    seed: int = 42
    batch_size: int = 100
    workers: int = 2
    #: accounts of the dense workload (0: 300 at a million events, proportionally fewer below)
    dense_accounts: int = 0
    #: a speed-up of several workers measured over less than this is measured again on more events (0: never)
    workers_min_seconds: float = 10.0
    latency_seconds: float = 25.0
    latency_rate: float = 5000.0
    #: send the latency run's background load as per-partition envelopes (else one event per message)
    latency_envelopes: bool = True
    profile: bool = False
    workdir: Path | None = None


def _ratio(a: float, b: float) -> float:
    """Return a / b to 4 significant digits (a tiny smoke run's ratio must not round to 0)."""
    return float(f"{a / b:.4g}")


def _redis_url() -> str:
    """Return REDIS_URL if a Redis answers there, else "" (the runs then have no Redis view)."""
    import redis

    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1, **redis_kwargs(Settings())).ping()
    except (redis.RedisError, OSError, ValueError):
        return ""
    return url


def _floor(argv: list[str], env: dict[str, str], workdir: Path, name: str, timeout_s: float) -> dict[str, Any]:
    result = workdir / f"{name}.json"
    child = Child([sys.executable, "-m", "healthmon.bench.floors", *argv, str(result)], env,
                  workdir / f"{name}.log")
    try:
        code = child.wait(timeout_s)
        if not result.exists():
            raise RuntimeError(f"{name}: no result (exit {code}):\n{child.log_tail()}")
        out = orjson.loads(result.read_bytes())
        out["peak_rss_bytes"] = child.peak_rss_bytes
        return out
    finally:
        child.stop()


def _run_dict(events: int, messages: int, seconds: float, rss: int, **extra: Any) -> dict[str, Any]:
    return {"events": events, "messages": messages, "seconds": round(seconds, 3),
            "events_per_s": round(events / seconds, 1) if seconds > 0 else None, "peak_rss_bytes": rss, **extra}


def _pipeline_dict(run: PipelineRun, expect: int, messages: int, changelog: int) -> dict[str, Any]:
    return {"events": expect, "measured_events": run.events, "messages": messages, "seconds": round(run.seconds, 3),
            "events_per_s": round(run.events_per_s, 1), "peak_rss_bytes": run.peak_rss_bytes,
            "outcomes": run.outcomes, "per_worker_events": run.per_worker_events,
            "changelog_messages": changelog, "changelog_messages_per_event": round(changelog / expect, 4)}


def run_bench(opts: BenchOptions, say: Callable[[str], None] = lambda line: None) -> dict[str, Any]:
    """Run every benchmark run and return the result (see BENCHMARKS.md for the fields)."""
    # SIGTERM unwinds like Ctrl-C, so the workers and the broker are stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = opts.workdir or Path(tempfile.mkdtemp(prefix="healthmon-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    say(f"bench: logs and profiles in {workdir}")
    configured = Settings().kafka_broker_url
    broker = None if configured else EmbeddedBroker(Settings().tansu_bin, log_path=workdir / "tansu.log").start()
    broker_url = configured or broker.url  # type: ignore[union-attr]
    bootstrap = bootstrap_of(broker_url)
    redis_url = _redis_url()
    run_id = uuid.uuid4().hex[:6]

    def settings(topics: str, app: str, **kw: Any) -> Settings:
        return Settings(kafka_broker_url=broker_url, app_id=f"bench-{run_id}-{app}",
                        topic_prefix=f"bench-{run_id}-{topics}-", redis_url=redis_url,
                        redis_prefix=f"bench-{run_id}-{app}:", web_port=free_port(), data_dir=workdir / f"data-{app}",
                        partitions=PARTITIONS, log_level="warning", lateness_seconds=LATENESS_S, **kw)

    try:
        return _run_all(opts, settings, bootstrap, workdir, say, broker_url, redis_url)
    finally:
        if broker is not None:
            broker.stop()


def _inprocess(opts: BenchOptions, workdir: Path, timeout_s: float) -> dict[str, Any]:
    """Run the in-process bench (both workloads, cost model, RSS per live account) in a child process."""
    argv = [sys.executable, "-m", "healthmon.bench.inprocess", "--events", str(opts.events), "--accounts",
            str(opts.accounts), "--seed", str(opts.seed), "--cost-model", "--json"]
    log = workdir / "inprocess.log"
    child = Child(argv, dict(os.environ), log)
    try:
        code = child.wait(timeout_s)
        lines = log.read_bytes().strip().splitlines()
        if code != 0 or not lines or not lines[-1].startswith(b"{"):
            raise RuntimeError(f"in-process bench: exit {code}:\n{child.log_tail()}")
        return orjson.loads(lines[-1])
    finally:
        child.stop()


def _run_workload(opts: BenchOptions, workload: str, accounts: int, settings: Callable[..., Settings],
                  bootstrap: str, workdir: Path, say: Callable[[str], None]) -> dict[str, Any]:
    """Run the floors and the pipeline (single events, envelopes, several workers) on one workload."""
    from streams.topics import ensure_topics

    expect = opts.events + accounts  # every run also consumes one profile per account
    w = workload
    single, batch, batch2 = (settings(f"{w}-single", f"{w}-single"), settings(f"{w}-batch", f"{w}-batch"),
                             settings(f"{w}-batch2", f"{w}-batch2"))
    for s in (single, batch, batch2):
        asyncio.run(ensure_topics(bootstrap, s))

    def records():
        return workload_records(opts.events, accounts, opts.seed, workload)

    say(f"bench [{w}]: producing {opts.events:,} events + {accounts:,} profiles as single-event messages")
    sent_single = asyncio.run(produce_messages(bootstrap, single.input_topics, single_messages(records())))
    say(f"bench [{w}]: ... {sent_single.messages:,} messages in {sent_single.seconds:.1f} s; now as envelopes of "
        f"{opts.batch_size}")
    sent_batch = asyncio.run(produce_messages(bootstrap, batch.input_topics,
                                              envelope_messages(records(), PARTITIONS, opts.batch_size)))
    say(f"bench [{w}]: ... {sent_batch.messages:,} messages in {sent_batch.seconds:.1f} s")
    assert sent_single.events == sent_batch.events == expect, (sent_single, sent_batch, expect)
    runs: dict[str, Any] = {}
    timeout = 600 + expect / 1000

    say(f"bench [{w}]: run 1, raw aiokafka consume + orjson decode")
    raw = _floor(["raw", bootstrap, ",".join(single.input_topics.values()), f"bench-raw-{uuid.uuid4().hex[:6]}",
                  str(expect)], dict(os.environ), workdir, f"{w}-raw", timeout)
    runs["raw_aiokafka"] = _run_dict(raw["events"], sent_single.messages, raw["seconds"], raw["peak_rss_bytes"])

    say(f"bench [{w}]: run 2, bare Faust agent that only decodes")
    bare_settings = settings(f"{w}-single", f"{w}-bare")
    bare = _floor(["faust", str(expect)], settings_env(bare_settings), workdir, f"{w}-bare-faust", timeout)
    runs["bare_faust"] = _run_dict(bare["events"], sent_single.messages, bare["seconds"], bare["peak_rss_bytes"])

    say(f"bench [{w}]: run 3, full pipeline on single-event messages")
    run3 = run_pipeline([single], expect, workdir, f"{w}-pipeline-single", profile=opts.profile)
    cl3 = asyncio.run(changelog_stats(bootstrap, single.app_id, read_states=False))
    runs["pipeline_single"] = _pipeline_dict(run3, expect, sent_single.messages, cl3.messages)

    say(f"bench [{w}]: run 4, full pipeline on envelopes of {opts.batch_size}")
    run4 = run_pipeline([batch], expect, workdir, f"{w}-pipeline-batch", profile=opts.profile)
    cl4 = asyncio.run(changelog_stats(bootstrap, batch.app_id, read_states=True))
    runs["pipeline_batch"] = _pipeline_dict(run4, expect, sent_batch.messages, cl4.messages)
    runs["pipeline_batch"]["events_per_message"] = round(expect / sent_batch.messages, 2)

    if opts.workers > 1:
        say(f"bench [{w}]: run 5, as run 4 with {opts.workers} workers in one group")
        group = [batch2] + [settings(f"{w}-batch2", f"{w}-batch2").model_copy(
            update={"data_dir": workdir / f"data-{w}-batch2-{i}"}) for i in range(1, opts.workers)]

        def produce_after_join() -> None:
            time.sleep(8.0)  # let every worker join the group before the data arrives
            asyncio.run(produce_messages(bootstrap, batch2.input_topics,
                                         envelope_messages(records(), PARTITIONS, opts.batch_size)))

        run5 = run_pipeline(group, expect, workdir, f"{w}-pipeline-batch-workers", before_data=produce_after_join)
        cl5 = asyncio.run(changelog_stats(bootstrap, batch2.app_id, read_states=False))
        runs["pipeline_batch_workers"] = _pipeline_dict(run5, expect, sent_batch.messages, cl5.messages)

    if opts.workers > 1 and runs["pipeline_batch_workers"]["seconds"] < opts.workers_min_seconds:
        _scaled_workers_runs(opts, workload, accounts, settings, bootstrap, workdir, say, runs)

    def eps(key: str) -> float | None:
        return runs[key]["events_per_s"] if key in runs else None

    scaled = "pipeline_batch_workers_scaled" in runs
    workers_key = "pipeline_batch_workers_scaled" if scaled else "pipeline_batch_workers"
    one_key = "pipeline_batch_scaled" if scaled else "pipeline_batch"
    return {
        "workload": workload, "accounts": accounts, "input_events": expect, "runs": runs,
        "raw_events_per_s": eps("raw_aiokafka"), "bare_faust_events_per_s": eps("bare_faust"),
        "single_events_per_s": eps("pipeline_single"), "batch_events_per_s": eps("pipeline_batch"),
        "batch_workers_events_per_s": eps("pipeline_batch_workers"),
        "ratio_single_to_bare_faust": _ratio(eps("pipeline_single"), eps("bare_faust")),
        "ratio_batch_to_raw": _ratio(eps("pipeline_batch"), eps("raw_aiokafka")),
        "speedup_workers": (_ratio(eps(workers_key), eps(one_key)) if workers_key in runs else None),
        "workers_seconds": runs[workers_key]["seconds"] if workers_key in runs else None,
        "workers_events": runs[workers_key]["events"] if workers_key in runs else None,
        "peak_rss_bytes": max(runs["pipeline_single"]["peak_rss_bytes"], runs["pipeline_batch"]["peak_rss_bytes"]),
        "state_bytes_per_account": round(cl4.state_bytes_per_account, 1), "state_accounts": cl4.accounts,
        "state_bytes_max": cl4.state_bytes_max,
        "single_changelog_messages_per_event": runs["pipeline_single"]["changelog_messages_per_event"],
        "batch_changelog_messages_per_event": runs["pipeline_batch"]["changelog_messages_per_event"],
    }


def _scaled_workers_runs(opts: BenchOptions, workload: str, accounts: int, settings: Callable[..., Settings],
                         bootstrap: str, workdir: Path, say: Callable[[str], None], runs: dict[str, Any]) -> None:
    """Measure 1 and `opts.workers` workers again on a workload large enough for 10 s of measurement.

    On a fast workload the envelopes run is over in a few seconds, too short to trust a speed-up. The
    same accounts then get as many more events as that takes, and both runs read that larger set.
    """
    from streams.topics import ensure_topics

    target_s = opts.workers_min_seconds * 1.5  # the one-worker run, which the speed-up divides
    factor = max(2, math.ceil(target_s / max(runs["pipeline_batch"]["seconds"], 0.1)))
    events = opts.events * factor
    expect = events + accounts
    w = workload
    one, group0 = settings(f"{w}-scaled1", f"{w}-scaled1"), settings(f"{w}-scaled2", f"{w}-scaled2")
    for s in (one, group0):
        asyncio.run(ensure_topics(bootstrap, s))

    def messages():
        return envelope_messages(workload_records(events, accounts, opts.seed, workload), PARTITIONS,
                                 opts.batch_size)

    say(f"bench [{w}]: run 5 took under {opts.workers_min_seconds:g} s; again on {events:,} events "
        f"({factor}x), 1 worker then {opts.workers}")
    sent = asyncio.run(produce_messages(bootstrap, one.input_topics, messages()))
    run = run_pipeline([one], expect, workdir, f"{w}-pipeline-batch-scaled")
    cl = asyncio.run(changelog_stats(bootstrap, one.app_id, read_states=False))
    runs["pipeline_batch_scaled"] = _pipeline_dict(run, expect, sent.messages, cl.messages)
    group = [group0] + [settings(f"{w}-scaled2", f"{w}-scaled2").model_copy(
        update={"data_dir": workdir / f"data-{w}-scaled2-{i}"}) for i in range(1, opts.workers)]

    def produce_after_join() -> None:
        time.sleep(8.0)  # let every worker join the group before the data arrives
        asyncio.run(produce_messages(bootstrap, group0.input_topics, messages()))

    run = run_pipeline(group, expect, workdir, f"{w}-pipeline-batch-workers-scaled", before_data=produce_after_join)
    cl = asyncio.run(changelog_stats(bootstrap, group0.app_id, read_states=False))
    runs["pipeline_batch_workers_scaled"] = _pipeline_dict(run, expect, sent.messages, cl.messages)


def _run_all(opts: BenchOptions, settings: Callable[..., Settings], bootstrap: str, workdir: Path,
             say: Callable[[str], None], broker_url: str, redis_url: str) -> dict[str, Any]:
    say("bench: in-process, both workloads (cost model, RSS per live account)")
    inproc = _inprocess(opts, workdir, 1200 + opts.events / 500)
    for name in WORKLOADS:
        say(f"bench: ... in-process {name}: {inproc[name]['events_per_s']:,.0f} events/s")
    sparse = _run_workload(opts, "sparse", opts.accounts, settings, bootstrap, workdir, say)
    dense_n = opts.dense_accounts or dense_accounts(opts.events)
    dense = _run_workload(opts, "dense", dense_n, settings, bootstrap, workdir, say)

    latency: dict[str, Any] | None = None
    if opts.latency_seconds > 0:
        say(f"bench: latency at {opts.latency_rate:,.0f} events/s for {opts.latency_seconds:.0f} s")
        lat = run_latency(settings("latency", "latency", policy_file=LATENCY_POLICY), bootstrap, workdir,
                          rate=opts.latency_rate, seconds=opts.latency_seconds,
                          envelopes=opts.latency_envelopes)
        latency = {"offered_events_per_s": lat.rate, "envelopes": opts.latency_envelopes, "seconds": lat.seconds, "sent_events": lat.sent_events,
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
        "cores": os.cpu_count(), "broker": "external" if Settings().kafka_broker_url else "embedded-tansu",
        "redis_view": bool(redis_url), "core_mode": core_mode(),
        **{k: v for k, v in sparse.items() if k not in ("workload", "accounts")},
        "dense": dense,
        "dense_batch_events_per_s": dense["batch_events_per_s"],
        "sparse_batch_events_per_s": sparse["batch_events_per_s"],
        "ratio_dense_batch_to_raw": dense["ratio_batch_to_raw"],
        "ratio_sparse_batch_to_raw": sparse["ratio_batch_to_raw"],
        "ratio_dense_single_to_bare_faust": dense["ratio_single_to_bare_faust"],
        "speedup_workers_dense": dense["speedup_workers"],
        "inprocess": inproc,
        "inprocess_dense_events_per_s": inproc["dense"]["events_per_s"],
        "inprocess_sparse_events_per_s": inproc["sparse"]["events_per_s"],
        "us_per_evaluation": inproc["sparse"]["us_per_evaluation"],
        "evaluations_per_event_sparse": inproc["sparse"]["evaluations_per_event"],
        "rss_bytes_per_account_100k": inproc["rss_bytes_per_account"]["100000"],
        "latency_p50_s": latency and latency["p50_s"], "latency_p99_s": latency and latency["p99_s"],
        "latency": latency,
    }
    result["peak_rss_bytes"] = max(sparse["peak_rss_bytes"], dense["peak_rss_bytes"])
    result["targets"] = check_targets(result)
    return result
