"""Validate a raw policy document, collecting every error with its path, and fill in defaults."""

from __future__ import annotations

import re
from typing import Any

from healthmon.core.measures import METRICS, RELATIVE_METRICS

__all__ = ["SEVERITIES", "SOURCES", "TIERS", "DEFAULT_SEVERITY", "normalise"]

TIERS = ("strategic", "key", "standard")
SEVERITIES = ("critical", "error", "warning", "info")
SOURCES = ("usage", "ticket", "nps", "account")
KINDS = ("absolute", "relative")
DEFAULT_SEVERITY = {"strategic": "critical", "key": "error", "standard": "warning"}
RESERVED_RULES = ("health", "ingest_stalled")
_NAME = re.compile(r"[a-z][a-z0-9_]{0,49}\Z")
_MISSING = object()

_LINE_COMMON = ("for_seconds", "cooldown_seconds", "enabled")
_LINE_FIELDS = {"absolute": ("below", "exit_above", "above", "exit_below"),
                "relative": ("drop", "exit_drop", "min_baseline")}
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


class _Checker:
    """Walks the document; every check appends `path: message` to `errors` and returns a usable value."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def mapping(self, value: Any, path: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.error(path, "must be a mapping")
            return {}
        prefix = "" if path == "<root>" else f"{path}."
        for key in value:
            if key not in allowed:
                self.error(f"{prefix}{key}", "unknown key")
        for key in required:
            if key not in value:
                self.error(f"{prefix}{key}", "required")
        return value

    def number(self, data: dict[str, Any], key: str, path: str, default: Any = _MISSING, *, low: float | None = None,
               high: float | None = None, integer: bool = False, strict_low: bool = False) -> Any:
        full = f"{path}.{key}" if path else key
        if key not in data:
            return None if default is _MISSING else default
        value = data[key]
        if integer and (isinstance(value, bool) or not isinstance(value, int)):
            self.error(full, "must be an integer")
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.error(full, "must be a number")
            return None
        if low is not None and high is not None and not low <= value <= high:
            self.error(full, f"must be between {low:g} and {high:g}")
            return None
        if low is not None and high is None and (value <= low if strict_low else value < low):
            self.error(full, f"must be {'>' if strict_low else '>='} {low:g}")
            return None
        return value

    def keyed(self, value: Any, path: str, allowed: tuple[str, ...], message: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.error(path, "must be a mapping")
            return {}
        for key in value:
            if key not in allowed:
                self.error(f"{path}.{key}", message)
        return {k: v for k, v in value.items() if k in allowed}

    def choice(self, data: dict[str, Any], key: str, path: str, options: tuple[str, ...], default: Any = _MISSING) -> Any:
        if key not in data:
            return None if default is _MISSING else default
        value = data[key]
        if value not in options:
            self.error(f"{path}.{key}", f"must be one of {', '.join(options)}")
            return None
        return value


def normalise(doc: Any) -> tuple[dict[str, Any], list[str]]:
    """Return the policy with defaults filled in, and the list of errors (empty when valid)."""
    c = _Checker()
    top = c.mapping(doc, "<root>", ("core_features", "evaluation_interval_seconds", "warmup_seconds", "bands",
                                    "health", "measures", "warning_lines", "tiers", "pipeline"),
                    ("core_features", "bands", "measures"))
    out: dict[str, Any] = {}
    features = top.get("core_features", [])
    if "core_features" in top and (not isinstance(features, list) or not features):
        c.error("core_features", "must be a non-empty list of feature names")
        features = []
    for i, f in enumerate(features):
        if not isinstance(f, str) or not f:
            c.error(f"core_features[{i}]", "must be a non-empty string")
    out["core_features"] = sorted({f for f in features if isinstance(f, str) and f})
    out["evaluation_interval_seconds"] = c.number(top, "evaluation_interval_seconds", "", 3600, low=0,
                                                  integer=True, strict_low=True)
    out["warmup_seconds"] = c.number(top, "warmup_seconds", "", 2_419_200, low=0, integer=True)
    out["bands"] = _bands(c, top.get("bands"), "bands", None) if "bands" in top else {}
    health = c.mapping(top.get("health", {}), "health", ("min_dwell_seconds", "cooldown_seconds"))
    out["health"] = {"min_dwell_seconds": c.number(health, "min_dwell_seconds", "health", 21_600, low=0,
                                                    integer=True),
                     "cooldown_seconds": c.number(health, "cooldown_seconds", "health", 86_400, low=0,
                                                  integer=True)}
    out["measures"] = _measures(c, top.get("measures")) if "measures" in top else []
    out["warning_lines"] = _lines(c, top.get("warning_lines", []))
    out["tiers"] = _tiers(c, top.get("tiers", {}), out)
    out["pipeline"] = _pipeline(c, top.get("pipeline", {}))
    return out, c.errors


def _bands(c: _Checker, raw: Any, path: str, base: dict[str, Any] | None) -> dict[str, Any]:
    data = c.mapping(raw, path, ("green", "yellow", "hysteresis_points"), () if base else ("green", "yellow"))
    base = base or {"hysteresis_points": 3}
    green = c.number(data, "green", path, base.get("green"), low=0, high=100)
    yellow = c.number(data, "yellow", path, base.get("yellow"), low=0, high=100)
    margin = c.number(data, "hysteresis_points", path, base["hysteresis_points"], low=0, high=50)
    if green is not None and yellow is not None and yellow >= green:
        where = "bands.green" if path == "bands" else f"green ({green:g})"
        c.error(f"{path}.yellow", f"must be below {where}")
    return {"green": green, "yellow": yellow, "hysteresis_points": margin}


def _measure_values(c: _Checker, data: dict[str, Any], path: str, base: dict[str, Any]) -> dict[str, Any]:
    weight = c.number(data, "weight", path, base.get("weight"), low=0, strict_low=True)
    bad = c.number(data, "bad", path, base.get("bad"))
    good = c.number(data, "good", path, base.get("good"))
    if bad is not None and good is not None and bad == good and ("good" in data or "bad" in data):
        c.error(f"{path}.good", "must differ from bad")
    return {"weight": weight, "bad": bad, "good": good}


def _measures(c: _Checker, raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        c.error("measures", "must be a non-empty list")
        return []
    out: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for i, item in enumerate(raw):
        path = f"measures[{i}]"
        data = c.mapping(item, path, ("metric", "weight", "bad", "good"), ("metric", "weight", "bad", "good"))
        metric = data.get("metric")
        if "metric" in data:
            if metric not in METRICS:
                c.error(f"{path}.metric", f"unknown metric {metric!r} (expected one of {', '.join(METRICS)})")
            elif metric in seen:
                c.error(f"{path}.metric", f"duplicate measure (also {seen[metric]})")
            else:
                seen[metric] = path
        out.append({"metric": metric, **_measure_values(c, data, path, {})})
    return out


def _line_values(c: _Checker, data: dict[str, Any], path: str, kind: str | None, base: dict[str, Any]) -> dict[str, Any]:
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
    for other, fields in _LINE_FIELDS.items():
        if kind is not None and other != kind:
            for key in fields:
                if key in data:
                    c.error(f"{path}.{key}", f"only for {other} lines")
    if kind == "absolute":
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


def _lines(c: _Checker, raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        c.error("warning_lines", "must be a list")
        return []
    out: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for i, item in enumerate(raw):
        path = f"warning_lines[{i}]"
        kind_raw = item.get("kind") if isinstance(item, dict) else None
        allowed = ("name", "metric", "kind", *_LINE_COMMON, *_LINE_FIELDS["absolute"], *_LINE_FIELDS["relative"])
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
        out.append({"name": name, "metric": metric, "kind": kind, **_line_values(c, data, path, kind, {})})
    return out


def _tiers(c: _Checker, raw: Any, policy: dict[str, Any]) -> dict[str, Any]:
    data = c.keyed(raw, "tiers", TIERS, f"unknown tier (expected {', '.join(TIERS)})")
    measures = {m["metric"]: m for m in policy["measures"] if m["metric"] is not None}
    lines = {ln["name"]: ln for ln in policy["warning_lines"] if isinstance(ln["name"], str)}
    out = {}
    for tier in TIERS:
        path = f"tiers.{tier}"
        spec = c.mapping(data.get(tier, {}), path, ("severity", "bands", "measures", "warning_lines"))
        resolved: dict[str, Any] = {"severity": c.choice(spec, "severity", path, SEVERITIES,
                                                         DEFAULT_SEVERITY[tier])}
        resolved["bands"] = (_bands(c, spec["bands"], f"{path}.bands", policy["bands"]) if "bands" in spec
                             else policy["bands"])
        overrides = c.keyed(spec.get("measures", {}), f"{path}.measures", tuple(measures),
                            "not a measure of this policy")
        resolved["measures"] = []
        for metric, base in measures.items():
            mpath = f"{path}.measures.{metric}"
            if metric in overrides:
                over = c.mapping(overrides[metric], mpath, ("weight", "bad", "good"))
                resolved["measures"].append({"metric": metric, **_measure_values(c, over, mpath, base)})
            else:
                resolved["measures"].append(base)
        overrides = c.keyed(spec.get("warning_lines", {}), f"{path}.warning_lines", tuple(lines),
                            "not a warning line of this policy")
        resolved["warning_lines"] = []
        for name, base in lines.items():
            lpath = f"{path}.warning_lines.{name}"
            if name in overrides:
                allowed = (*_LINE_COMMON, *_LINE_FIELDS["absolute"], *_LINE_FIELDS["relative"])
                over = c.mapping(overrides[name], lpath, allowed)
                resolved["warning_lines"].append(
                    {**base, **_line_values(c, over, lpath, base["kind"], base)})
            else:
                resolved["warning_lines"].append(base)
        out[tier] = resolved
    return out


def _pipeline(c: _Checker, raw: Any) -> dict[str, Any]:
    data = c.mapping(raw, "pipeline", ("severity", "sources"))
    sources = c.keyed(data.get("sources", {"usage": {"stale_after_seconds": 1800}}), "pipeline.sources",
                      SOURCES, f"unknown source (expected {', '.join(SOURCES)})")
    out = {}
    for source, spec in sorted(sources.items()):
        path = f"pipeline.sources.{source}"
        spec = c.mapping(spec, path, ("stale_after_seconds", "hold_after_seconds"), ("stale_after_seconds",))
        out[source] = {
            "stale_after_seconds": c.number(spec, "stale_after_seconds", path, low=0, integer=True,
                                            strict_low=True),
            "hold_after_seconds": c.number(spec, "hold_after_seconds", path, 604_800, low=0, integer=True),
        }
    return {"severity": c.choice(data, "severity", "pipeline", SEVERITIES, "error"), "sources": out}
