"""Validate the warning lines of a policy document: absolute, relative and rhythm lines, and their overrides."""

from __future__ import annotations

import re
from typing import Any

from healthmon.core.checker import Checker
from healthmon.core.measures import METRICS, RELATIVE_METRICS

__all__ = ["LINE_OVERRIDE_KEYS", "RESERVED_RULES", "RHYTHM_METRIC", "line_values", "warning_lines"]

KINDS = ("absolute", "relative", "rhythm")
#: the one metric a rhythm line watches
RHYTHM_METRIC = "days_since_last_activity"
RESERVED_RULES = ("health", "ingest_stalled")
_NAME = re.compile(r"[a-z][a-z0-9_]{0,49}\Z")

_LINE_COMMON = ("for_seconds", "cooldown_seconds", "enabled")
_LINE_FIELDS = {"absolute": ("below", "exit_above", "above", "exit_below"),
                "relative": ("drop", "exit_drop", "min_baseline"),
                "rhythm": ("above_by_active_days", "gap_multiple", "min_above", "max_above", "exit_below")}
_ALL_LINE_FIELDS = tuple(dict.fromkeys(k for fields in _LINE_FIELDS.values() for k in fields))
#: an absolute line's two directions: (enter, exit) keys of "low is bad" and of "high is bad"
_DIRECTIONS = (("below", "exit_above"), ("above", "exit_below"))


def _direction(data: dict[str, Any], base: dict[str, Any]) -> tuple[str, str] | None:
    """Return the (enter, exit) keys of an absolute line, from its own keys or else its base line's."""
    for pair in _DIRECTIONS:
        if any(k in data for k in pair):
            return pair
    for pair in _DIRECTIONS:
        if base.get(pair[0]) is not None:
            return pair
    return None


def line_values(c: Checker, data: dict[str, Any], path: str, kind: str | None,
                base: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "for_seconds": c.number(data, "for_seconds", path, base.get("for_seconds", 0), low=0, integer=True),
        "cooldown_seconds": c.number(data, "cooldown_seconds", path, base.get("cooldown_seconds", 0), low=0,
                                     integer=True),
        "enabled": base.get("enabled", True),
    }
    if "enabled" in data:
        if isinstance(data["enabled"], bool):
            values["enabled"] = data["enabled"]
        else:
            c.error(f"{path}.enabled", "must be true or false")
    if kind is not None:
        for key in _ALL_LINE_FIELDS:
            if key in data and key not in _LINE_FIELDS[kind]:
                owners = " and ".join(k for k, fields in _LINE_FIELDS.items() if key in fields)
                c.error(f"{path}.{key}", f"only for {owners} lines")
    if kind == "rhythm":
        values.update(_rhythm_values(c, data, path, base))
    elif kind == "absolute":
        pair = _direction(data, base)
        if pair is None:
            c.error(path, "an absolute line needs below and exit_above, or above and exit_below")
            return values
        enter, leave = pair
        opposite = _DIRECTIONS[1] if pair == _DIRECTIONS[0] else _DIRECTIONS[0]
        mixed = [k for k in opposite if k in data]
        if mixed:
            mine = [k for k in pair if k in data]
            c.error(f"{path}.{mixed[0]}", f"cannot be combined with {mine[0]}: a line is either below/exit_above "
                                          "(low is bad) or above/exit_below (high is bad)")
            return values
        if base and base.get(enter) is None:
            c.error(f"{path}.{enter}", "cannot change the direction of the line it overrides")
            return values
        for key in pair:
            if key not in data and base.get(key) is None:
                c.error(f"{path}.{key}", "required")
        values[enter] = c.number(data, enter, path, base.get(enter))
        values[leave] = c.number(data, leave, path, base.get(leave))
        if values[enter] is not None and values[leave] is not None:
            if enter == "below" and values[leave] <= values[enter]:
                c.error(f"{path}.exit_above", f"must be greater than below ({values['below']:g})")
            elif enter == "above" and values[leave] >= values[enter]:
                c.error(f"{path}.exit_below", f"must be smaller than above ({values['above']:g})")
    elif kind == "relative":
        values["drop"] = c.number(data, "drop", path, base.get("drop"), low=0, high=1)
        values["exit_drop"] = c.number(data, "exit_drop", path, base.get("exit_drop"), low=0, high=1)
        values["min_baseline"] = c.number(data, "min_baseline", path, base.get("min_baseline", 1), low=0)
        if values["drop"] is not None and values["exit_drop"] is not None \
                and values["exit_drop"] >= values["drop"]:
            c.error(f"{path}.exit_drop", f"must be smaller than drop ({values['drop']:g})")
    return values


def _rhythm_table(c: Checker, data: dict[str, Any], path: str, base: dict[str, Any]) -> dict[str, Any] | None:
    """Return `above_by_active_days` with string keys ("1", "2", ...) in order of the number of days."""
    if "above_by_active_days" not in data:
        return base.get("above_by_active_days")
    raw, tpath = data["above_by_active_days"], f"{path}.above_by_active_days"
    if not isinstance(raw, dict) or not raw:
        c.error(tpath, "must be a non-empty mapping of active days so far (1, 2, ...) to a line in days")
        return None
    table: dict[int, Any] = {}
    for key in raw:
        count = key if isinstance(key, int) and not isinstance(key, bool) else \
            int(key) if isinstance(key, str) and key.isdigit() else 0
        if count < 1:
            c.error(f"{tpath}.{key}", "must be a whole number of active days, at least 1")
        elif count in table:
            c.error(f"{tpath}.{key}", f"duplicate number of active days ({count})")
        else:
            table[count] = c.number(raw, key, tpath, low=0)
    return {str(n): table[n] for n in sorted(table)}


def _rhythm_values(c: Checker, data: dict[str, Any], path: str, base: dict[str, Any]) -> dict[str, Any]:
    table = _rhythm_table(c, data, path, base)
    gap = c.number(data, "gap_multiple", path, base.get("gap_multiple"), low=0, strict_low=True)
    low = c.number(data, "min_above", path, base.get("min_above"), low=0)
    high = c.number(data, "max_above", path, base.get("max_above"), low=0)
    exit_below = c.number(data, "exit_below", path, base.get("exit_below", 0), low=0)
    out = {"above_by_active_days": table, "gap_multiple": gap, "min_above": low, "max_above": high,
           "exit_below": exit_below}
    if "above_by_active_days" not in data and "gap_multiple" not in data and not base:
        c.error(path, "a rhythm line needs above_by_active_days, gap_multiple, or both")
        return out
    lines = [v for v in (table or {}).values() if v is not None]
    if gap is not None or "gap_multiple" in data:
        for key in ("min_above", "max_above"):
            if key not in data and base.get(key) is None:
                c.error(f"{path}.{key}", "required with gap_multiple")
        if low is not None and high is not None and low > high:
            c.error(f"{path}.max_above", f"must be at least min_above ({low:g})")
        for key in table or {}:
            if int(key) >= 2:
                c.error(f"{path}.above_by_active_days.{key}",
                        "unused: with gap_multiple, the line of an account with 2 active days or more is its gap "
                        "times gap_multiple")
        lines += [v for v in (low,) if v is not None]
    else:
        for key in ("min_above", "max_above"):
            if key in data:
                c.error(f"{path}.{key}", "only with gap_multiple")
    if exit_below is not None and lines and exit_below >= min(lines):
        c.error(f"{path}.exit_below", f"must be smaller than every line (the smallest is {min(lines):g})")
    return out


def warning_lines(c: Checker, raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        c.error("warning_lines", "must be a list")
        return []
    out: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for i, item in enumerate(raw):
        path = f"warning_lines[{i}]"
        kind_raw = item.get("kind") if isinstance(item, dict) else None
        allowed = ("name", "metric", "kind", *_LINE_COMMON, *_ALL_LINE_FIELDS)
        # An absolute line's keys depend on its direction; `_line_values` requires them.
        required = ("name", "metric", "kind", *(("drop", "exit_drop") if kind_raw == "relative" else ()))
        data = c.mapping(item, path, allowed, required)
        name = data.get("name")
        if "name" in data:
            if not isinstance(name, str) or not _NAME.match(name):
                c.error(f"{path}.name", "must be 1-50 characters of a-z, 0-9 and _, starting with a letter")
            elif name in RESERVED_RULES:
                c.error(f"{path}.name", "is reserved")
            elif name in seen:
                c.error(f"{path}.name", f"duplicate name (also {seen[name]})")
            else:
                seen[name] = path
        kind = c.choice(data, "kind", path, KINDS)
        metric = data.get("metric")
        if "metric" in data:
            if metric not in METRICS:
                c.error(f"{path}.metric", f"unknown metric {metric!r} (expected one of {', '.join(METRICS)})")
            elif kind == "relative" and metric not in RELATIVE_METRICS:
                c.error(f"{path}.metric", f"relative lines support {', '.join(RELATIVE_METRICS)}")
            elif kind == "rhythm" and metric != RHYTHM_METRIC:
                c.error(f"{path}.metric", f"rhythm lines watch {RHYTHM_METRIC}")
        out.append({"name": name, "metric": metric, "kind": kind, **line_values(c, data, path, kind, {})})
    return out


#: the keys a tier may override in a warning line
LINE_OVERRIDE_KEYS = (*_LINE_COMMON, *_ALL_LINE_FIELDS)
