"""Render a backtest report (the data `run_backtest` returns) as text for a terminal."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

__all__ = ["render_report", "render_sweep"]


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d") if ms else "-"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"


def _hit_rows(rates: dict[str, dict[str, Any]]) -> list[str]:
    rows = [f"    {'rule':<28} {'alerts':>7} {'precision':>9} {'recall':>8} {'lead p10':>8} {'median':>7} "
            f"{'p90':>6}  (days)"]
    for rule, hr in rates.items():
        rows.append(f"    {rule:<28} {hr['alerts']:>7} {_pct(hr['precision']):>9} {_pct(hr['recall']):>8} "
                    f"{_num(hr['lead_days_p10']):>8} {_num(hr['lead_days_median']):>7} {_num(hr['lead_days_p90']):>6}")
    return rows


def _truth_rows(rates: dict[str, dict[str, Any]]) -> list[str]:
    rows = [f"    {'rule':<28} {'judged':>7} {'left out':>8} {'precision':>9} {'recall':>8} {'delay p10':>9} "
            f"{'median':>7} {'p90':>6}  (days)"]
    for rule, tr in rates.items():
        rows.append(f"    {rule:<28} {tr['alerts']:>7} {tr['left_out']:>8} {_pct(tr['precision']):>9} "
                    f"{_pct(tr['recall']):>8} {_num(tr['delay_days_p10']):>9} {_num(tr['delay_days_median']):>7} "
                    f"{_num(tr['delay_days_p90']):>6}")
    return rows


def _truth_head(truth: dict[str, Any]) -> str:
    return (f"no usage in the {truth['days']} days after an alert (alerts up to {_day(truth['judged_until_ms'])} "
            f"judged; {truth['gone']} accounts went quiet for good)")


def render_report(report: dict[str, Any]) -> str:
    """Return the report as readable lines."""
    inp = report["input"]
    out = [f"input: {inp['lines']:,} lines ({_counts(inp['by_kind'])}), event time {_day(inp['start_ms'])} to "
           f"{_day(inp['end_ms'])}; {inp['seconds']:.1f} s"
           + (f", {inp['lines_per_s']:,} lines/s" if inp["lines_per_s"] else ""),
           f"dead letters: {_counts(inp['dead_letters'])}", *_floor_note(inp)]
    for policy in report["policies"]:
        n = policy["noise"]
        rate = n["per_account_per_30d"]
        out += ["", f"policy {policy['name']} ({policy['version']})",
                f"  alerts: {n['alerts']:,} ({n['firing']:,} firing) over {n['days']:g} days, "
                f"{n['accounts']:,} accounts",
                f"    by kind: {_counts(n['by_kind'])}",
                f"    by rule: {_counts(n['by_rule'])}",
                f"    by tier: {_counts(n['by_tier'])}",
                f"    by status: {_counts(n['by_status'])}",
                f"  firing alerts per account per 30 days: mean {rate['mean']:.2f}, p90 {rate['p90']:.2f}, "
                f"max {rate['max']:.2f}",
                f"  accounts alerted: {_pct(n['accounts_alerted_ratio'])}",
                f"  re-fires within 7 days of a resolve (flapping): {n['flapping_refires']}",
                "  noisiest accounts: " + (", ".join(f"{a} ({c})" for a, c in n["noisiest"]) or "none"),
                "  time in each announced band: " + (", ".join(f"{b} {_pct(r)}" for b, r in n["band_ratio"].items())
                                                     or "-"),
                "  firing alerts per CSM per week: " + (", ".join(f"{c} {r:.2f}"
                                                                  for c, r in n["per_csm_per_week"].items()) or "-")]
        if "hit_rate" in policy:
            out.append(f"  against churn labels (horizon {report['labels']['horizon_days']} days):")
            out += _hit_rows(policy["hit_rate"])
        if "truth" in policy:
            out.append(f"  silence alerts against {_truth_head(report['truth'])}:")
            out += _truth_rows(policy["truth"])
    if "truth" in report:
        out += ["", f"baseline, no usage for N days, against {_truth_head(report['truth'])}:"]
        out += _truth_rows(report["baseline"])
    elif "baseline" in report:
        lab = report["labels"]
        out += ["", f"baseline, no usage for N days ({lab['known']} of {lab['accounts']} labelled accounts "
                    f"are in the input):"]
        out += _hit_rows(report["baseline"])
    if "compare" in report:
        first, second = (p["name"] for p in report["policies"])
        for key, name, other in (("only_first", first, second), ("only_second", second, first)):
            items = report["compare"][key]
            out += ["", f"fires under {name} only, never under {other}: {len(items)} (account, kind, rule)"]
            out += [f"    {a}  {k}  {r}" for a, k, r in items[:20]]
            if len(items) > 20:
                out.append(f"    ... and {len(items) - 20} more (see --report-json)")
    return "\n".join(out)


_HEADS = {"precision": "precision", "recall": "recall", "delay_days_median": "delay median",
          "lead_days_median": "lead median", "alerts_per_account_per_30d": "alerts/account/30d",
          "accounts_alerted_ratio": "accounts alerted"}


def _cell(name: str, value: Any) -> str:
    if name in ("precision", "recall", "accounts_alerted_ratio"):
        return _pct(value)
    return _num(value, 2 if name == "alerts_per_account_per_30d" else 1)


def _floor_note(inp: dict[str, Any]) -> list[str]:
    """Return the line naming HEALTHMON_MIN_OCCURRED_AT when most of the input fell under it."""
    under = inp.get("under_min_occurred_at")
    if under is None:
        return []
    return [f"note: {under['events']:,} events of {inp['lines']:,} lines are before {under['setting']} "
            f"({under['value']}) and were dead-lettered; to replay an older archive, set {under['setting']} "
            "to a date before its first event"]


def render_sweep(report: dict[str, Any]) -> str:
    """Return a sweep's report: the input, one row per variant (frontier marked `*`), then the baseline."""
    inp, sweep = report["input"], report["sweep"]
    out = [f"input: {inp['lines']:,} lines ({_counts(inp['by_kind'])}), event time {_day(inp['start_ms'])} to "
           f"{_day(inp['end_ms'])}; {len(sweep['variants'])} variants replayed together in {inp['seconds']:.1f} s",
           f"dead letters: {_counts(inp['dead_letters'])}", *_floor_note(inp), ""]
    if "truth" in report:
        out.append(f"{sweep['rule']} alerts against {_truth_head(report['truth'])}; * no other variant is as good "
                   "on every figure and better on one")
    elif "labels" in report:
        out.append(f"all alerts against churn labels (horizon {report['labels']['horizon_days']} days); * no other "
                   "variant is as good on every figure and better on one")
    else:
        out.append("alert noise (add --truth or --labels for precision and recall); * no other variant is quieter")
    paths = list(sweep["variants"][0]["values"]) if sweep["variants"] else []
    widths = [max(len(p), *(len(str(v["values"][p])) for v in sweep["variants"])) for p in paths]
    names = [c["name"] for c in sweep["columns"]]
    head = "  ".join(f"{p:<{w}}" for p, w in zip(paths, widths))
    out.append(f"   {head}  " + "  ".join(f"{_HEADS[n]:>{max(9, len(_HEADS[n]))}}" for n in names))
    for row in sweep["variants"]:
        cells = "  ".join(f"{str(row['values'][p]):<{w}}" for p, w in zip(paths, widths))
        figures = "  ".join(f"{_cell(n, row[n]):>{max(9, len(_HEADS[n]))}}" for n in names)
        out.append(f" {'*' if row['frontier'] else ' '} {cells}  {figures}")
    if "truth" in report:
        out += ["", f"baseline, no usage for N days, against {_truth_head(report['truth'])}:"]
        out += _truth_rows(report["baseline"])
    elif "baseline" in report:
        out += ["", "baseline, no usage for N days, against the churn labels:"]
        out += _hit_rows(report["baseline"])
    return "\n".join(out)
