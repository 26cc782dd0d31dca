"""The runs of one workload: the floors (raw aiokafka, bare Faust) and the pipeline (single events,
envelopes, several workers), each in its own child process, reading what the workload produced once."""

from __future__ import annotations

import asyncio
import math
import os
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from healthmon.bench.changelog import changelog_stats
from healthmon.bench.children import Child, settings_env
from healthmon.bench.options import PARTITIONS, BenchOptions
from healthmon.bench.pipeline import PipelineRun, run_pipeline
from healthmon.bench.workload import envelope_messages, produce_messages, single_messages, workload_records
from healthmon.config import Settings

__all__ = ["ratio", "run_single", "run_workload", "workers_scale_factor"]


def ratio(a: float | None, b: float | None) -> float | None:
    """Return a / b to 4 significant digits (a tiny smoke run's ratio must not round to 0); None without both."""
    if a is None or b is None:
        return None
    return float(f"{a / b:.4g}")


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
            "changelog_messages": changelog, "changelog_messages_per_event": round(changelog / expect, 4),
            "cpu_us_per_event": round(run.cpu_us_per_event, 2),
            "per_worker_cpu_seconds": [round(c, 2) for c in run.per_worker_cpu_seconds],
            "cpu_wall_seconds": round(run.cpu_wall_seconds, 2)}


def run_workload(opts: BenchOptions, workload: str, accounts: int, settings: Callable[..., Settings],
                  bootstrap: str, workdir: Path, say: Callable[[str], None]) -> dict[str, Any]:
    """Run the floors and the pipeline (single events, envelopes, several workers) on one workload."""
    from healthmon.kafka.admin import ensure_topics

    expect = opts.events + accounts  # every run also consumes one profile per account
    w = workload
    single, batch, batch2 = (settings(f"{w}-single", f"{w}-single"), settings(f"{w}-batch", f"{w}-batch"),
                             settings(f"{w}-batch2", f"{w}-batch2"))
    for s in (single, batch, batch2):
        asyncio.run(ensure_topics(bootstrap, s.topics, s.kafka, app_id=s.worker.app_id))

    def records():
        return workload_records(opts.events, accounts, opts.seed, workload)

    say(f"bench [{w}]: producing {opts.events:,} events + {accounts:,} profiles as single-event messages")
    sent_single = asyncio.run(produce_messages(bootstrap, single.topics.input_names, single_messages(records())))
    say(f"bench [{w}]: ... {sent_single.messages:,} messages in {sent_single.seconds:.1f} s; now as envelopes of "
        f"{opts.batch_size}")
    sent_batch = asyncio.run(produce_messages(bootstrap, batch.topics.input_names,
                                              envelope_messages(records(), PARTITIONS, opts.batch_size)))
    say(f"bench [{w}]: ... {sent_batch.messages:,} messages in {sent_batch.seconds:.1f} s")
    assert sent_single.events == sent_batch.events == expect, (sent_single, sent_batch, expect)
    runs: dict[str, Any] = {}
    timeout = 600 + expect / 1000

    runs.update(_floors(w, single, settings(f"{w}-single", f"{w}-bare"), bootstrap, expect, sent_single.messages,
                        workdir, timeout, say))

    say(f"bench [{w}]: run 3, full pipeline on single-event messages")
    run3 = run_pipeline([single], expect, workdir, f"{w}-pipeline-single", profile=opts.profile)
    cl3 = asyncio.run(changelog_stats(bootstrap, single.worker.app_id, read_states=False))
    runs["pipeline_single"] = _pipeline_dict(run3, expect, sent_single.messages, cl3.messages)

    say(f"bench [{w}]: run 4, full pipeline on envelopes of {opts.batch_size}")
    run4 = run_pipeline([batch], expect, workdir, f"{w}-pipeline-batch", profile=opts.profile)
    cl4 = asyncio.run(changelog_stats(bootstrap, batch.worker.app_id, read_states=True))
    runs["pipeline_batch"] = _pipeline_dict(run4, expect, sent_batch.messages, cl4.messages)
    runs["pipeline_batch"]["events_per_message"] = round(expect / sent_batch.messages, 2)

    if opts.workers > 1:
        say(f"bench [{w}]: run 5, as run 4 with {opts.workers} workers in one group")
        group = [batch2] + [settings(f"{w}-batch2", f"{w}-batch2").replace(
            store={"data_dir": workdir / f"data-{w}-batch2-{i}"}) for i in range(1, opts.workers)]

        def produce_after_join() -> None:
            time.sleep(8.0)  # let every worker join the group before the data arrives
            asyncio.run(produce_messages(bootstrap, batch2.topics.input_names,
                                         envelope_messages(records(), PARTITIONS, opts.batch_size)))

        run5 = run_pipeline(group, expect, workdir, f"{w}-pipeline-batch-workers", before_data=produce_after_join)
        cl5 = asyncio.run(changelog_stats(bootstrap, batch2.worker.app_id, read_states=False))
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
        "ratio_single_to_bare_faust": ratio(eps("pipeline_single"), eps("bare_faust")),
        "ratio_single_to_raw": ratio(eps("pipeline_single"), eps("raw_aiokafka")),
        "ratio_batch_to_raw": ratio(eps("pipeline_batch"), eps("raw_aiokafka")),
        "speedup_workers": (ratio(eps(workers_key), eps(one_key)) if workers_key in runs else None),
        "workers_seconds": runs[workers_key]["seconds"] if workers_key in runs else None,
        "workers_events": runs[workers_key]["events"] if workers_key in runs else None,
        # each worker's CPU seconds per wall-clock second over the measured polls (1: one core saturated)
        "workers_cpu_per_s": ([round(c / runs[workers_key]["cpu_wall_seconds"], 3)
                               for c in runs[workers_key]["per_worker_cpu_seconds"]]
                              if workers_key in runs and runs[workers_key]["cpu_wall_seconds"] > 0 else None),
        "one_worker_cpu_per_s": (round(runs[one_key]["per_worker_cpu_seconds"][0] / runs[one_key]["cpu_wall_seconds"],
                                       3) if one_key in runs and runs[one_key]["cpu_wall_seconds"] > 0 else None),
        "peak_rss_bytes": max(runs["pipeline_single"]["peak_rss_bytes"], runs["pipeline_batch"]["peak_rss_bytes"]),
        "state_bytes_per_account": round(cl4.state_bytes_per_account, 1), "state_accounts": cl4.accounts,
        "state_bytes_max": cl4.state_bytes_max,
        "single_changelog_messages_per_event": runs["pipeline_single"]["changelog_messages_per_event"],
        "batch_changelog_messages_per_event": runs["pipeline_batch"]["changelog_messages_per_event"],
    }



def _floors(w: str, single: Settings, bare_settings: Settings, bootstrap: str, expect: int, messages: int,
            workdir: Path, timeout: float, say: Callable[[str], None]) -> dict[str, Any]:
    """Runs 1 and 2, the floors: raw aiokafka and a bare Faust agent over the single-event messages."""
    say(f"bench [{w}]: run 1, raw aiokafka consume + orjson decode")
    raw = _floor(["raw", bootstrap, ",".join(single.topics.input_names.values()), f"bench-raw-{uuid.uuid4().hex[:6]}",
                  str(expect)], dict(os.environ), workdir, f"{w}-raw", timeout)
    say(f"bench [{w}]: run 2, bare Faust agent that only decodes")
    bare = _floor(["faust", str(expect)], settings_env(bare_settings), workdir, f"{w}-bare-faust", timeout)
    return {"raw_aiokafka": _run_dict(raw["events"], messages, raw["seconds"], raw["peak_rss_bytes"]),
            "bare_faust": _run_dict(bare["events"], messages, bare["seconds"], bare["peak_rss_bytes"])}

def run_single(opts: BenchOptions, workload: str, accounts: int, settings: Callable[..., Settings],
               bootstrap: str, workdir: Path, say: Callable[[str], None]) -> dict[str, Any]:
    """Run runs 1 to 3 only (raw aiokafka, bare Faust, the pipeline on single-event messages) on one workload."""
    from healthmon.kafka.admin import ensure_topics

    expect = opts.events + accounts
    w = workload
    single = settings(f"{w}-single", f"{w}-single")
    asyncio.run(ensure_topics(bootstrap, single.topics, single.kafka, app_id=single.worker.app_id))
    say(f"bench [{w}]: producing {opts.events:,} events + {accounts:,} profiles as single-event messages")
    sent = asyncio.run(produce_messages(bootstrap, single.topics.input_names,
                                        single_messages(workload_records(opts.events, accounts, opts.seed, w))))
    assert sent.events == expect, (sent, expect)
    runs: dict[str, Any] = {}
    timeout = 600 + expect / 1000
    runs.update(_floors(w, single, settings(f"{w}-single", f"{w}-bare"), bootstrap, expect, sent.messages, workdir,
                        timeout, say))
    say(f"bench [{w}]: run 3, full pipeline on single-event messages")
    run3 = run_pipeline([single], expect, workdir, f"{w}-pipeline-single", profile=opts.profile)
    runs["pipeline_single"] = _pipeline_dict(run3, expect, sent.messages, 0)
    single_eps = runs["pipeline_single"]["events_per_s"]
    return {"workload": w, "accounts": accounts, "input_events": expect, "runs": runs,
            "raw_events_per_s": runs["raw_aiokafka"]["events_per_s"],
            "bare_faust_events_per_s": runs["bare_faust"]["events_per_s"], "single_events_per_s": single_eps,
            "ratio_single_to_bare_faust": ratio(single_eps, runs["bare_faust"]["events_per_s"]),
            "ratio_single_to_raw": ratio(single_eps, runs["raw_aiokafka"]["events_per_s"])}


def workers_scale_factor(workers_seconds: float, min_seconds: float) -> int:
    """Return by how much to multiply the events so the several-worker run measures `min_seconds` or more.

    Its measurement is what is left once the producer has finished (the workers share the cores with
    it before), so it scales with the events; 20% on top absorbs the noise.
    """
    return max(2, math.ceil(min_seconds * 1.2 / max(workers_seconds, 0.1)))


def _scaled_workers_runs(opts: BenchOptions, workload: str, accounts: int, settings: Callable[..., Settings],
                         bootstrap: str, workdir: Path, say: Callable[[str], None], runs: dict[str, Any]) -> None:
    """Measure 1 and `opts.workers` workers again on a workload large enough for 10 s of measurement.

    On a fast workload the envelopes run is over in a few seconds, too short to trust a speed-up. The
    same accounts then get as many more events as that takes, and both runs read that larger set.
    """
    from healthmon.kafka.admin import ensure_topics

    factor = workers_scale_factor(runs["pipeline_batch_workers"]["seconds"], opts.workers_min_seconds)
    events = opts.events * factor
    expect = events + accounts
    w = workload
    one, group0 = settings(f"{w}-scaled1", f"{w}-scaled1"), settings(f"{w}-scaled2", f"{w}-scaled2")
    for s in (one, group0):
        asyncio.run(ensure_topics(bootstrap, s.topics, s.kafka, app_id=s.worker.app_id))

    def messages():
        return envelope_messages(workload_records(events, accounts, opts.seed, workload), PARTITIONS,
                                 opts.batch_size)

    say(f"bench [{w}]: run 5 took under {opts.workers_min_seconds:g} s; again on {events:,} events "
        f"({factor}x), 1 worker then {opts.workers}")
    sent = asyncio.run(produce_messages(bootstrap, one.topics.input_names, messages()))
    run = run_pipeline([one], expect, workdir, f"{w}-pipeline-batch-scaled")
    cl = asyncio.run(changelog_stats(bootstrap, one.worker.app_id, read_states=False))
    runs["pipeline_batch_scaled"] = _pipeline_dict(run, expect, sent.messages, cl.messages)
    group = [group0] + [settings(f"{w}-scaled2", f"{w}-scaled2").replace(
        store={"data_dir": workdir / f"data-{w}-scaled2-{i}"}) for i in range(1, opts.workers)]

    def produce_after_join() -> None:
        time.sleep(8.0)  # let every worker join the group before the data arrives
        asyncio.run(produce_messages(bootstrap, group0.topics.input_names, messages()))

    run = run_pipeline(group, expect, workdir, f"{w}-pipeline-batch-workers-scaled", before_data=produce_after_join)
    cl = asyncio.run(changelog_stats(bootstrap, group0.worker.app_id, read_states=False))
    runs["pipeline_batch_workers_scaled"] = _pipeline_dict(run, expect, sent.messages, cl.messages)


