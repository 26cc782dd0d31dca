"""The benchmark's report: a human table, then one JSON line, and the targets from issue #5."""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["TARGETS", "check_targets", "render_table", "render_json"]

#: target name -> (JSON key, comparison, bound)
TARGETS: dict[str, tuple[str, str, float]] = {
    "single_vs_bare_faust_ratio>=0.9": ("ratio_single_to_bare_faust", ">=", 0.9),
    "batch_events_per_s>=100000": ("batch_events_per_s", ">=", 100_000),
    "batch_vs_raw_ratio>=0.3": ("ratio_batch_to_raw", ">=", 0.3),
    "state_bytes_per_account<=2048": ("state_bytes_per_account", "<=", 2048),
    "batch_changelog_messages_per_event<=0.1": ("batch_changelog_messages_per_event", "<=", 0.1),
    "latency_p99_s<=1": ("latency_p99_s", "<=", 1.0),
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


def render_table(result: dict[str, Any]) -> str:
    """Return the human-readable table of a benchmark result."""
    rows = [("run", "events", "messages", "seconds", "events/s", "peak RSS MB", "changelog msgs/event")]
    for key, label in (("raw_aiokafka", "1 raw aiokafka + orjson"), ("bare_faust", "2 bare Faust agent"),
                       ("pipeline_single", "3 pipeline, single events"),
                       ("pipeline_batch", f"4 pipeline, envelopes of {result['batch_size']}"),
                       ("pipeline_batch_workers", f"5 as 4, {result['workers']} workers")):
        run = result["runs"].get(key)
        if not run:
            continue
        rows.append((label, _num(run["events"]), _num(run.get("messages")), _num(run["seconds"], 2),
                     _num(run["events_per_s"]), _num(run["peak_rss_bytes"] / 2**20, 0),
                     _num(run.get("changelog_messages_per_event"), 3)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lat = result.get("latency") or {}
    lines += [
        "",
        f"ratio 3/2 (single vs bare Faust): {_num(result.get('ratio_single_to_bare_faust'), 3)}   "
        f"ratio 4/1 (batch vs raw): {_num(result.get('ratio_batch_to_raw'), 3)}   "
        f"speed-up 1 -> {result['workers']} workers: {_num(result.get('speedup_workers'), 2)}",
        f"latency at {_num(lat.get('offered_events_per_s'))} events/s ({lat.get('probes', 0)} probes): "
        f"p50 {_num(lat.get('p50_s'), 3)} s, p99 {_num(lat.get('p99_s'), 3)} s; after the evaluation boundary "
        f"p50 {_num(lat.get('p50_after_boundary_s'), 3)} s, p99 {_num(lat.get('p99_after_boundary_s'), 3)} s",
        f"state: {_num(result.get('state_bytes_per_account'))} bytes per account (mean of "
        f"{_num(result.get('state_accounts'))} accounts, max {_num(result.get('state_bytes_max'))})   "
        f"peak RSS {_num((result.get('peak_rss_bytes') or 0) / 2**20)} MB",
        "targets: " + ", ".join(f"{k} {'met' if v else 'MISSED' if v is not None else 'not measured'}"
                                for k, v in result["targets"].items()),
    ]
    return "\n".join(lines)


def render_json(result: dict[str, Any]) -> str:
    """Return the result as one JSON line."""
    return orjson.dumps(result).decode()
