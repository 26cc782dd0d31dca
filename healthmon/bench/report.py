"""The benchmark's report: a human table, then one JSON line, and the targets of issues #5, #14 and #23."""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["TARGETS", "check_targets", "render_table", "render_json"]

#: target name -> (JSON key, comparison, bound)
TARGETS: dict[str, tuple[str, str, float]] = {
    "inprocess_dense_events_per_s>=150000": ("inprocess_dense_events_per_s", ">=", 150_000),
    "inprocess_sparse_events_per_s>=30000": ("inprocess_sparse_events_per_s", ">=", 30_000),
    "us_per_evaluation<=7": ("us_per_evaluation", "<=", 7.0),
    "dense_batch_vs_raw_ratio>=0.3": ("ratio_dense_batch_to_raw", ">=", 0.3),
    "sparse_batch_vs_raw_ratio>=0.12": ("ratio_sparse_batch_to_raw", ">=", 0.12),
    "dense_single_vs_bare_faust_ratio>=0.85": ("ratio_dense_single_to_bare_faust", ">=", 0.85),
    "sparse_single_vs_bare_faust_ratio>=0.6": ("ratio_sparse_single_to_bare_faust", ">=", 0.6),
    "dense_single_vs_raw_ratio>=0.035": ("ratio_dense_single_to_raw", ">=", 0.035),
    "speedup_workers_dense>=1.5": ("speedup_workers_dense", ">=", 1.5),
    "rss_bytes_per_account_100k<=4096": ("rss_bytes_per_account_100k", "<=", 4096),
    "state_bytes_per_account<=2048": ("state_bytes_per_account", "<=", 2048),
    "batch_changelog_messages_per_event<=0.1": ("batch_changelog_messages_per_event", "<=", 0.1),
    "latency_p99_s<=1": ("latency_p99_s", "<=", 1.0),
    "history_bytes_per_account<=1024": ("history_bytes_per_account", "<=", 1024),
    "repartitioned_vs_direct_single_ratio>=0.8": ("ratio_repartitioned_to_direct_single", ">=", 0.8),
    "evaluations_per_event_dormant<=5": ("evaluations_per_event_dormant", "<=", 5.0),
    "segment_vs_native_dense_ratio>=0.9": ("ratio_segment_to_native_dense", ">=", 0.9),
}


def check_targets(result: dict[str, Any]) -> dict[str, bool | None]:
    """Return whether each target is met (None: not measured in this run)."""
    out: dict[str, bool | None] = {}
    for name, (key, op, bound) in TARGETS.items():
        value = result.get(key)
        out[name] = None if value is None else (value >= bound if op == ">=" else value <= bound)
    return out


def _num(v: float | None, digits: int = 0) -> str:
    if v is None:
        return "-"
    return f"{v:,.{digits}f}"


def _runs_table(part: dict[str, Any], batch_size: int, workers: int) -> list[str]:
    rows = [("run", "events", "messages", "seconds", "events/s", "peak RSS MB", "changelog msgs/event")]
    for key, label in (("raw_aiokafka", "1 raw aiokafka + orjson"), ("bare_faust", "2 bare Faust agent"),
                       ("pipeline_single", "3 pipeline, single events"),
                       ("pipeline_batch", f"4 pipeline, envelopes of {batch_size}"),
                       ("pipeline_batch_workers", f"5 as 4, {workers} workers"),
                       ("pipeline_batch_scaled", "4' as 4, more events"),
                       ("pipeline_batch_workers_scaled", f"5' as 4', {workers} workers")):
        run = part["runs"].get(key)
        if not run:
            continue
        rows.append((label, _num(run["events"]), _num(run.get("messages")), _num(run["seconds"], 2),
                     _num(run["events_per_s"]), _num(run["peak_rss_bytes"] / 2**20, 0),
                     _num(run.get("changelog_messages_per_event"), 3)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(
        f"ratio 3/2 (single vs bare Faust): {_num(part.get('ratio_single_to_bare_faust'), 3)}   "
        f"ratio 4/1 (batch vs raw): {_num(part.get('ratio_batch_to_raw'), 3)}   "
        f"speed-up 1 -> {workers} workers: {_num(part.get('speedup_workers'), 2)} "
        f"(over {_num(part.get('workers_seconds'), 1)} s, {_num(part.get('workers_events'))} events; CPU s per s: "
        f"1 worker {_num(part.get('one_worker_cpu_per_s'), 2)}, {workers} workers "
        f"{' + '.join(_num(c, 2) for c in part.get('workers_cpu_per_s') or [])})")
    lines.append(
        f"state: {_num(part.get('state_bytes_per_account'))} bytes per account (mean of "
        f"{_num(part.get('state_accounts'))} accounts, max {_num(part.get('state_bytes_max'))})")
    return lines


def _single_tables(result: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for name in ("sparse", "dense"):
        part = result[name]
        lines += [f"{name} workload ({part['accounts']:,} accounts), core {result.get('core_mode')}"]
        lines += _runs_table(part, 0, 0)[:-2]  # runs 1 to 3 only: no batch, workers or state lines
        lines += [f"ratio 3/2 (single vs bare Faust): {_num(part['ratio_single_to_bare_faust'], 3)}   "
                  f"ratio 3/1 (single vs raw): {_num(part['ratio_single_to_raw'], 4)}", ""]
    return lines


def render_table(result: dict[str, Any]) -> str:
    """Return the human-readable tables of a benchmark result: each workload, in-process, latency, targets."""
    if "batch_size" not in result and "single_events_per_s" in result.get("dense", {}):  # the single runs alone
        return "\n".join([*_single_tables(result), _targets(result, measured_only=True)])
    if "batch_size" not in result and "segment" in result:  # the segment run alone
        from healthmon.bench.segment import render_segment

        return "\n".join([render_segment(result["segment"]), _targets(result, measured_only=True)])
    if "batch_size" not in result:  # the repartitioned run alone
        from healthmon.bench.repartitioned import render_repartitioned

        return "\n".join([render_repartitioned(result["repartitioned"]), _targets(result, measured_only=True)])
    batch, workers = result["batch_size"], result["workers"]
    lines = [f"sparse workload ({result['accounts']:,} accounts, 30 days), core {result.get('core_mode')}"]
    lines += _runs_table(result, batch, workers)
    dense = result.get("dense")
    if dense:
        lines += ["", f"dense workload ({dense['accounts']:,} accounts, 2 days)"]
        lines += _runs_table(dense, batch, workers)
    if result.get("repartitioned"):
        from healthmon.bench.repartitioned import render_repartitioned

        lines += ["", render_repartitioned(result["repartitioned"])]
    if result.get("segment"):
        from healthmon.bench.segment import render_segment

        lines += ["", render_segment(result["segment"])]
    inproc = result.get("inprocess") or {}
    lines.append("")
    for name in ("sparse", "dense"):
        fig = inproc.get(name)
        if fig:
            lines.append(
                f"in-process {name}: {_num(fig['events_per_s'])} events/s; "
                f"decode {_num(fig.get('us_per_event_decode'), 2)}"
                f" µs/event, apply and glue {_num(fig.get('us_per_event_apply'), 2)} µs/event, "
                f"{_num(fig.get('evaluations_per_event'), 3)} evaluations/event at "
                f"{_num(fig.get('us_per_evaluation'), 2)} µs each")
    dormant = result.get("dormant")
    if dormant:
        lines.append(f"dormant ({_num(dormant['accounts'])} accounts, {_num(dormant['purchases'])} purchases): "
                     f"{_num(dormant['evaluations_per_event'], 3)} evaluations per purchase; backtest "
                     f"{_num(dormant['backtest_lines_per_s'])} lines/s")
    day_close = result.get("day_close")
    if day_close:
        lines.append(f"day closes (dense, in process): {_num(day_close['day_closes_per_evaluation_dense'], 4)} per "
                     f"full evaluation, {_num(day_close['us_per_day_close'], 2)} µs each "
                     f"({_num(day_close['day_close_us_per_event_dense'], 3)} µs/event)")
    rss = inproc.get("rss_bytes_per_account") or {}
    if rss:
        lines.append("RSS per live account: "
                     + ", ".join(f"{_num(v)} B at {int(k):,} accounts" for k, v in rss.items()))
    lat = result.get("latency") or {}
    lines += [
        f"latency at {_num(lat.get('offered_events_per_s'))} events/s ({lat.get('probes', 0)} probes): "
        f"p50 {_num(lat.get('p50_s'), 3)} s, p99 {_num(lat.get('p99_s'), 3)} s; after the evaluation boundary "
        f"p50 {_num(lat.get('p50_after_boundary_s'), 3)} s, p99 {_num(lat.get('p99_after_boundary_s'), 3)} s",
        f"peak RSS {_num((result.get('peak_rss_bytes') or 0) / 2**20)} MB",
        f"score history in Redis: {_num(result.get('history_bytes_per_account'))} bytes per account "
        f"(MEMORY USAGE, {_num(result.get('history_days'))} days, {_num(result.get('history_accounts'))} accounts)",
        _targets(result),
    ]
    return "\n".join(lines)


def _targets(result: dict[str, Any], measured_only: bool = False) -> str:
    return "targets: " + ", ".join(f"{k} {'met' if v else 'MISSED' if v is not None else 'not measured'}"
                                   for k, v in result["targets"].items() if v is not None or not measured_only)


def render_json(result: dict[str, Any]) -> str:
    """Return the result as one JSON line."""
    return orjson.dumps(result).decode()
