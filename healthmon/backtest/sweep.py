"""`healthmon backtest --sweep PATH=V1,V2,...`: policy variants by path, scored in one replay, one table.

Each `--sweep` names a path into the policy document (`warning_lines[0].above`,
`tiers.key.warning_lines.gone_quiet.above_by_active_days.1`) and the values to try there (YAML scalars or
flow collections, separated by commas outside brackets). Every combination of the values is one variant of
the base policy; all variants are replayed together over one decode and sort of the input. The table's
figures per variant: precision, recall and the median delay (`--truth`) or lead time (`--labels`), firing
alerts per account per 30 days and the share of accounts alerted. A variant no other one beats on all of
them (at least as good on each, better on one) is on the frontier.
"""

from __future__ import annotations

import copy
import itertools
import re
from typing import Any, NamedTuple

import yaml

from healthmon.backtest.truth import SILENCE
from healthmon.core import Policy, PolicyError, parse_policy

__all__ = ["MAX_VARIANTS", "Column", "Sweep", "SweepError", "columns", "frontier", "parse_sweep", "set_path",
           "sweep_rows", "variants"]

#: combinations beyond this are refused: each one keeps every account's state in memory
MAX_VARIANTS = 64
_TOKEN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*|\d+)|\[(-?\d+)\]")


class SweepError(ValueError):
    """A `--sweep` that cannot be applied; the message names it."""


class Sweep(NamedTuple):
    """One `--sweep`: a path into the policy document and the values to try there."""

    path: str
    values: list[Any]


def _split_values(text: str) -> list[str]:
    """Split at the commas outside brackets and braces."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return [v.strip() for v in out]


def _tokens(path: str) -> list[str | int]:
    """Return the keys (str) and list indices (int) of a path like `warning_lines[0].above`."""
    tokens: list[str | int] = []
    pos = 0
    while pos < len(path):
        if tokens and path[pos] == ".":
            pos += 1
        match = _TOKEN.match(path, pos)
        if match is None:
            raise SweepError(f"{path}: not a policy path (like warning_lines[0].above or bands.green)")
        tokens.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        pos = match.end()
    if not tokens:
        raise SweepError("an empty path")
    return tokens


def parse_sweep(spec: str) -> Sweep:
    """Parse `PATH=V1,V2,...`; each value is YAML (`30`, `0.5`, `true`, `{1: 45, 2: 180}`)."""
    path, eq, raw = spec.partition("=")
    path = path.strip()
    if not eq or not path or not raw.strip():
        raise SweepError(f"{spec!r}: expected PATH=V1,V2,... (for example warning_lines[0].above=30,60,90)")
    _tokens(path)
    values = []
    for text in _split_values(raw):
        if not text:
            raise SweepError(f"{spec!r}: an empty value")
        try:
            values.append(yaml.safe_load(text))
        except yaml.YAMLError as exc:
            raise SweepError(f"{spec!r}: {text!r} is not a YAML value: {exc}") from None
    return Sweep(path, values)


def _key(mapping: dict[Any, Any], token: str) -> Any:
    """Return the key `token` names: as written, or as a number where the mapping is keyed by numbers."""
    if token in mapping or not token.isdigit():
        return token
    number = int(token)
    if number in mapping or any(isinstance(k, int) for k in mapping):
        return number
    return token


def set_path(doc: Any, path: str, value: Any) -> None:
    """Set `value` at `path` in a policy document in place; missing mappings on the way are created."""
    tokens = _tokens(path)
    node, where = doc, "<root>"
    for n, token in enumerate(tokens):
        last = n == len(tokens) - 1
        if isinstance(token, int):
            if not isinstance(node, list):
                raise SweepError(f"{path}: {where} is not a list in the policy")
            if not -len(node) <= token < len(node):
                raise SweepError(f"{path}: index {token} is out of range ({len(node)} items)")
            if last:
                node[token] = value
            else:
                node, where = node[token], f"{where}[{token}]"
            continue
        if not isinstance(node, dict):
            raise SweepError(f"{path}: {where} is not a mapping in the policy")
        key = _key(node, token)
        if last:
            node[key] = value
        else:
            node, where = node.setdefault(key, {}), token if where == "<root>" else f"{where}.{token}"


def variants(doc: dict[str, Any], sweeps: list[Sweep]) -> list[tuple[dict[str, Any], Policy]]:
    """Return every combination of the sweeps' values as ({path: value}, validated policy), in order."""
    count = 1
    for sweep in sweeps:
        count *= len(sweep.values)
    if count > MAX_VARIANTS:
        raise SweepError(f"{count} combinations: at most {MAX_VARIANTS} (each one replays every account)")
    out = []
    for combo in itertools.product(*(sweep.values for sweep in sweeps)):
        values = {sweep.path: value for sweep, value in zip(sweeps, combo)}
        variant = copy.deepcopy(doc)
        for path, value in values.items():
            set_path(variant, path, value)
        label = ", ".join(f"{p}={v}" for p, v in values.items())
        try:
            out.append((values, parse_policy(variant, label)))
        except PolicyError as exc:
            raise SweepError(str(exc)) from None
    return out


class Column(NamedTuple):
    """A figure of the sweep table: where it comes from in a policy's report entry, and which way is better."""

    name: str
    higher_is_better: bool


def columns(report: dict[str, Any]) -> tuple[str | None, list[Column]]:
    """Return the scored rule (None: no truth and no labels) and the table's columns."""
    noise = [Column("alerts_per_account_per_30d", False), Column("accounts_alerted_ratio", False)]
    if "truth" in report:
        return SILENCE, [Column("precision", True), Column("recall", True), Column("delay_days_median", False),
                         *noise]
    if "labels" in report:
        return "overall", [Column("precision", True), Column("recall", True), Column("lead_days_median", True),
                           *noise]
    return None, noise


def _figures(entry: dict[str, Any], rule: str | None) -> dict[str, Any]:
    noise = entry["noise"]
    out: dict[str, Any] = {"alerts_per_account_per_30d": noise["per_account_per_30d"]["mean"],
                           "accounts_alerted_ratio": noise["accounts_alerted_ratio"]}
    rates = entry.get("truth") if "truth" in entry else entry.get("hit_rate")
    if rule is not None:
        scored = (rates or {}).get(rule) or {}
        keys = ("precision", "recall", "delay_days_median", "alerts", "left_out") if "truth" in entry \
            else ("precision", "recall", "lead_days_median", "alerts")
        out |= {key: scored.get(key, 0 if key in ("alerts", "left_out") else None) for key in keys}
    return out


def _better_or_equal(a: Any, b: Any, column: Column) -> tuple[bool, bool]:
    """Return (a at least as good as b, a strictly better); no figure is worse than any figure."""
    if a is None or b is None:
        return b is None, a is not None and b is None
    if column.higher_is_better:
        return a >= b, a > b
    return a <= b, a < b


def frontier(rows: list[dict[str, Any]], cols: list[Column]) -> list[bool]:
    """Return, per row, whether no other row beats it: as good on every column and better on one."""
    marks = []
    for row in rows:
        beaten = False
        for other in rows:
            if other is row:
                continue
            checks = [_better_or_equal(other[c.name], row[c.name], c) for c in cols]
            if all(ok for ok, _ in checks) and any(strict for _, strict in checks):
                beaten = True
                break
        marks.append(not beaten)
    return marks


def sweep_rows(report: dict[str, Any], values: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the sweep's table as data: one row per variant, with its frontier mark."""
    rule, cols = columns(report)
    rows = [{"values": vals, "version": entry["version"], **_figures(entry, rule)}
            for vals, entry in zip(values, report["policies"])]
    for row, mark in zip(rows, frontier(rows, cols)):
        row["frontier"] = mark
    return {"rule": rule, "columns": [c._asdict() for c in cols], "variants": rows}
