"""`healthmon bench` end to end on a tiny workload: a well-formed JSON line whose counts add up (no timing)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

# The whole bench in one subprocess, several workers in turn: minutes on a loaded 2-core machine.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

EVENTS, ACCOUNTS = 3000, 60


@pytest.fixture(scope="module")
def bench_result(broker_url: str, redis_url: str,
                 tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str, Path]:
    env = {**os.environ, "KAFKA_BROKER_URL": broker_url, "REDIS_URL": redis_url}
    workdir = tmp_path_factory.mktemp("bench")
    proc = subprocess.run(
        [sys.executable, "-m", "healthmon", "bench", "--events", str(EVENTS), "--accounts", str(ACCOUNTS),
         "--workers", "2", "--workers-min-seconds", "0", "--latency-seconds", "3", "--latency-rate", "500",
         "--repartitioned-rounds", "1", "--workdir", str(workdir)],
        env=env, capture_output=True, text=True, timeout=840)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    return orjson.loads(lines[-1]), proc.stdout, workdir


def test_the_last_line_is_the_json_result_and_the_table_comes_before_it(bench_result):
    result, stdout, _ = bench_result
    assert result["bench"] == "healthmon" and result["events"] == EVENTS and result["accounts"] == ACCOUNTS
    assert "1 raw aiokafka" in stdout and "4 pipeline, envelopes of 100" in stdout
    for key in ("raw_events_per_s", "bare_faust_events_per_s", "single_events_per_s", "batch_events_per_s",
                "batch_workers_events_per_s", "ratio_single_to_bare_faust", "ratio_batch_to_raw",
                "speedup_workers", "peak_rss_bytes", "state_bytes_per_account",
                "batch_changelog_messages_per_event"):
        assert isinstance(result[key], (int, float)) and result[key] > 0, key
    for key in ("dense_batch_events_per_s", "sparse_batch_events_per_s", "ratio_dense_batch_to_raw",
                "ratio_sparse_batch_to_raw", "ratio_dense_single_to_bare_faust", "inprocess_dense_events_per_s",
                "inprocess_sparse_events_per_s", "us_per_evaluation", "evaluations_per_event_sparse",
                "rss_bytes_per_account_100k", "speedup_workers_dense", "evaluations_per_event_dormant",
                "backtest_dormant_lines_per_s", "us_per_day_close", "day_closes_per_evaluation_dense"):
        assert isinstance(result[key], (int, float)) and not isinstance(result[key], bool) and result[key] > 0, key
    assert result["sparse_batch_events_per_s"] == result["batch_events_per_s"]
    assert result["core_mode"] in ("compiled", "pure")
    assert set(result["targets"]) == {
        "inprocess_dense_events_per_s>=150000", "inprocess_sparse_events_per_s>=30000", "us_per_evaluation<=7",
        "dense_batch_vs_raw_ratio>=0.3", "sparse_batch_vs_raw_ratio>=0.12", "dense_single_vs_bare_faust_ratio>=0.85",
        "speedup_workers_dense>=1.5", "rss_bytes_per_account_100k<=4096", "state_bytes_per_account<=2048",
        "batch_changelog_messages_per_event<=0.1", "latency_p99_s<=1", "repartitioned_vs_direct_single_ratio>=0.8",
        "evaluations_per_event_dormant<=5", "history_bytes_per_account<=1024", "segment_vs_native_dense_ratio>=0.9",
        "sparse_single_vs_bare_faust_ratio>=0.6", "dense_single_vs_raw_ratio>=0.035"}
    assert result["ratio_repartitioned_to_direct_single"] > 0
    assert result["ratio_segment_to_native_dense"] > 0 and "ratio segment/native" in stdout
    assert "dense workload" in stdout and "in-process dense" in stdout


def test_every_run_consumed_every_event_and_the_pipeline_accepted_them_all(bench_result):
    result, _, _ = bench_result
    total = EVENTS + ACCOUNTS  # one profile per account besides the events
    assert result["input_events"] == total
    runs = result["runs"]
    assert set(runs) == {"raw_aiokafka", "bare_faust", "pipeline_single", "pipeline_batch", "pipeline_batch_workers"}
    for name, run in runs.items():
        assert run["events"] == total, name
    assert runs["raw_aiokafka"]["messages"] == runs["pipeline_single"]["messages"] == total
    assert runs["pipeline_batch"]["messages"] < total / 2  # envelopes hold several events each
    for name in ("pipeline_single", "pipeline_batch", "pipeline_batch_workers"):
        assert runs[name]["outcomes"] == {"ok": total, "dead_letter": 0, "duplicate": 0, "too_late": 0,
                                          "ignored": 0}, name
        assert 0 < runs[name]["changelog_messages"] <= total, name
    workers = runs["pipeline_batch_workers"]["per_worker_events"]
    assert len(workers) == 2 and sum(workers) == total
    # each worker's CPU over the measured polls, to tell a saturated worker from a waiting one
    for name, count in (("pipeline_single", 1), ("pipeline_batch", 1), ("pipeline_batch_workers", 2)):
        assert len(runs[name]["per_worker_cpu_seconds"]) == count, name
        assert runs[name]["cpu_us_per_event"] >= 0 and runs[name]["cpu_wall_seconds"] >= 0, name
    assert result["workers_cpu_per_s"] is None or len(result["workers_cpu_per_s"]) == 2
    assert result["state_accounts"] == ACCOUNTS


def test_the_dense_workload_runs_the_same_runs_on_fewer_accounts(bench_result):
    result, _, _ = bench_result
    dense = result["dense"]
    total = EVENTS + dense["accounts"]
    assert dense["accounts"] == result["dense_accounts"] == 1  # one per 3,000 events
    assert set(dense["runs"]) == set(result["runs"])  # no run measured again on more events (min 0 s)
    assert dense["workers_events"] == total and result["workers_events"] == EVENTS + ACCOUNTS
    for name, run in dense["runs"].items():
        assert run["events"] == total, name
    for name in ("pipeline_single", "pipeline_batch", "pipeline_batch_workers"):
        assert dense["runs"][name]["outcomes"] == {"ok": total, "dead_letter": 0, "duplicate": 0,
                                                   "too_late": 0, "ignored": 0}, name
    inproc = result["inprocess"]
    assert inproc["dense"]["events"] == total and inproc["sparse"]["events"] == EVENTS + ACCOUNTS


def test_the_latency_probe_timed_probe_alerts(bench_result):
    latency = bench_result[0]["latency"]
    # Background load runs on after the last probe, so every probe's evaluation boundary is crossed.
    assert 0 < latency["alerts"] == latency["probes"]
    assert latency["p50_s"] <= latency["p99_s"]
    assert latency["p50_after_boundary_s"] <= latency["p99_after_boundary_s"]


def test_each_worker_says_once_at_start_which_core_it_runs(bench_result):
    result, _, workdir = bench_result
    log = (workdir / "sparse-pipeline-single-0.log").read_text()
    lines = [line for line in log.splitlines() if line.startswith("healthmon: worker ")]
    assert len(lines) == 1 and f"core {result['core_mode']}," in lines[0]


def test_the_repartitioned_run_alone_reads_every_event_on_both_sides_with_no_partition_read_again(
        broker_url: str, redis_url: str, tmp_path: Path):
    env = {**os.environ, "KAFKA_BROKER_URL": broker_url, "REDIS_URL": redis_url}
    proc = subprocess.run([sys.executable, "-m", "healthmon", "bench", "--repartitioned", "--events", str(EVENTS),
                           "--dense-accounts", "30", "--repartitioned-rounds", "1", "--workdir", str(tmp_path)],
                          env=env, capture_output=True, text=True, timeout=480)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = orjson.loads(proc.stdout.strip().splitlines()[-1])
    part = result["repartitioned"]
    assert part["input_events"] == EVENTS + part["accounts"]
    assert part["messages_away_from_their_partition"] > EVENTS // 2  # CRC32 places most away from murmur2
    for side in ("direct", "repartitioned"):
        [run] = part["runs"][side]
        assert run["outcomes"]["ok"] == part["input_events"], (side, run)
        assert run["partition_rereads"] == 0, (side, run)
    assert result["ratio_repartitioned_to_direct_single"] > 0
    assert result["targets"]["repartitioned_vs_direct_single_ratio>=0.8"] is not None  # measured, met or not
    assert "ratio repartitioned/direct" in proc.stdout


def test_the_single_runs_alone_give_the_single_event_ratios_of_both_workloads(broker_url: str, redis_url: str,
                                                                             tmp_path: Path):
    env = {**os.environ, "KAFKA_BROKER_URL": broker_url, "REDIS_URL": redis_url}
    proc = subprocess.run([sys.executable, "-m", "healthmon", "bench", "--single", "--events", str(EVENTS),
                           "--accounts", str(ACCOUNTS), "--dense-accounts", "30", "--workdir", str(tmp_path)],
                          env=env, capture_output=True, text=True, timeout=480)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = orjson.loads(proc.stdout.strip().splitlines()[-1])
    for name in ("sparse", "dense"):
        part = result[name]
        assert set(part["runs"]) == {"raw_aiokafka", "bare_faust", "pipeline_single"}, name
        for run in part["runs"].values():
            assert run["events"] == part["input_events"] == EVENTS + part["accounts"], (name, run)
        assert part["runs"]["pipeline_single"]["outcomes"]["ok"] == part["input_events"], name
    for key in ("ratio_dense_single_to_bare_faust", "ratio_sparse_single_to_bare_faust", "ratio_dense_single_to_raw"):
        assert result[key] > 0, key
    assert result["targets"]["dense_single_vs_raw_ratio>=0.035"] is not None  # measured, met or not
    assert "ratio 3/2 (single vs bare Faust)" in proc.stdout
