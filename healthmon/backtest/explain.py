"""`healthmon policy explain`: one account's score, band and warning lines over its history, day by day."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from healthmon.backtest.inputs import merged
from healthmon.backtest.run import load_sorted
from healthmon.backtest.runner import Replay, replay
from healthmon.backtest.sources import input_sources
from healthmon.config import Settings
from healthmon.core import Policy
from healthmon.core.lifecycle import line_value
from healthmon.core.measures import compute_metrics, format_value
from healthmon.core.policy import WarningLine

__all__ = ["ExplainRow", "explain_account", "render_explain"]


@dataclass
class ExplainRow:
    """The account as of one UTC midnight of event time, or one of its alerts."""

    at_ms: int
    score: float | None = None
    band: str | None = None
    #: the band last announced (hysteresis and dwell applied)
    alert_band: str | None = None
    #: warning line -> (value, enter line, past the enter line)
    lines: dict[str, tuple[Any, Any, bool]] = field(default_factory=dict)
    firing: list[str] = field(default_factory=list)
    #: set on an alert row: its one-line summary
    alert: str | None = None
    tier: str | None = None


async def explain_account(settings: Settings, policy: Policy, account_id: str, input_dir: Path | None,
                          broker_url: str | None = None) -> list[ExplainRow]:
    """Replay the input under `policy`; return the account's daily rows with its alerts between them."""
    rows: list[ExplainRow] = []

    def on_alert(alert: dict[str, Any]) -> None:
        if alert.get("account_id") == account_id:
            rows.append(ExplainRow(alert["event_time"], alert.get("score_after"), alert.get("band_after"),
                                   alert=f"{alert['status'].upper()} {alert['rule']}: {alert['summary']}"))

    # Processing time is now: events later than now (plus the allowed skew) are rejected, as a worker would.
    run = Replay(settings, policy, processing_ms=int(time.time() * 1000), on_alert=on_alert)

    def on_day(day_ms: int) -> None:
        state = run.processor.state_of(account_id)
        if state is None or not (state.first_ms or state.tier):
            return
        snap = run.engine.snapshot(state, day_ms)
        metrics = compute_metrics(state, snap["as_of"])
        lines = {}
        for line in policy.for_tier(state.tier).warning_lines:
            value, entered, _, details = line_value(line, metrics)
            lines[line.name] = (value, details["line"], entered)
        rows.append(ExplainRow(day_ms, snap["score"], snap["band"], snap["alert_band"], lines, snap["firing"],
                               tier=state.tier))

    sources = input_sources(settings)
    sorters = await load_sorted(settings, input_dir, broker_url, sources=sources)
    try:
        await replay(merged(dict(sorters)), [run], {s.name: s.topic for s in sources}, on_day=on_day,
                     kinds={s.name: s.kind for s in sources})
    finally:
        for sorter in sorters.values():
            sorter.close()
    # A partition ticks when its own stream time passes an instant, so an alert can arrive after the
    # midnight row that follows it: show them in event-time order.
    return sorted(rows, key=lambda row: row.at_ms)


def _value(line: WarningLine, value: Any) -> str:
    if value is None:
        return "-"
    if line.kind == "relative":
        return f"down {value * 100:.0f}%" if value >= 0 else f"up {-value * 100:.0f}%"
    return format_value(line.metric, value)


def render_explain(rows: list[ExplainRow], policy: Policy) -> str:
    """Return the rows as a small table: one line a day (lines of the account's latest tier), alerts between."""
    tier = next((row.tier for row in reversed(rows) if row.alert is None), None)
    lines = {line.name: line for line in policy.for_tier(tier).warning_lines}
    names = list(lines)
    header = f"{'as of (UTC)':<17} {'score':>5} {'band':<7} {'alerted':<7} " + " ".join(f"{n:<27}" for n in names)
    out = [header, "-" * len(header)]
    for row in rows:
        stamp = datetime.fromtimestamp(row.at_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")
        if row.alert is not None:
            out.append(f"{stamp:<17} {'':>5} {'':<7} {'':<7} >> {row.alert}")
            continue
        score = "-" if row.score is None else f"{row.score:.1f}"
        cells = []
        for name in names:
            value, line, entered = row.lines.get(name, (None, None, False))
            mark = "!" if entered else " "
            cells.append(f"{mark}{_value(lines[name], value)} (line {_value(lines[name], line)})"[:27].ljust(27))
        out.append(f"{stamp:<17} {score:>5} {row.band or '-':<7} {row.alert_band or '-':<7} " + " ".join(cells))
    return "\n".join(out)
