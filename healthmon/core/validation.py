"""Validate a raw policy document, collecting every error with its path, and fill in defaults."""

from __future__ import annotations

from typing import Any

from healthmon.core.checker import Checker
from healthmon.core.line_validation import LINE_OVERRIDE_KEYS, line_values, warning_lines
from healthmon.core.measures import METRICS
from healthmon.core.vocabulary import INPUT_KINDS, SEVERITIES, TIERS

__all__ = ["DEFAULT_SEVERITY", "normalise"]

DEFAULT_SEVERITY = {"strategic": "critical", "key": "error", "standard": "warning"}


def normalise(doc: Any) -> tuple[dict[str, Any], list[str]]:
    """Return the policy with defaults filled in, and the list of errors (empty when valid)."""
    c = Checker()
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
    out["warning_lines"] = warning_lines(c, top.get("warning_lines", []))
    out["tiers"] = _tiers(c, top.get("tiers", {}), out)
    out["pipeline"] = _pipeline(c, top.get("pipeline", {}))
    return out, c.errors


def _bands(c: Checker, raw: Any, path: str, base: dict[str, Any] | None) -> dict[str, Any]:
    data = c.mapping(raw, path, ("green", "yellow", "hysteresis_points"), () if base else ("green", "yellow"))
    base = base or {"hysteresis_points": 3}
    green = c.number(data, "green", path, base.get("green"), low=0, high=100)
    yellow = c.number(data, "yellow", path, base.get("yellow"), low=0, high=100)
    margin = c.number(data, "hysteresis_points", path, base["hysteresis_points"], low=0, high=50)
    if green is not None and yellow is not None and yellow >= green:
        where = "bands.green" if path == "bands" else f"green ({green:g})"
        c.error(f"{path}.yellow", f"must be below {where}")
    return {"green": green, "yellow": yellow, "hysteresis_points": margin}


def _measure_values(c: Checker, data: dict[str, Any], path: str, base: dict[str, Any]) -> dict[str, Any]:
    weight = c.number(data, "weight", path, base.get("weight"), low=0, strict_low=True)
    bad = c.number(data, "bad", path, base.get("bad"))
    good = c.number(data, "good", path, base.get("good"))
    if bad is not None and good is not None and bad == good and ("good" in data or "bad" in data):
        c.error(f"{path}.good", "must differ from bad")
    return {"weight": weight, "bad": bad, "good": good}


def _measures(c: Checker, raw: Any) -> list[dict[str, Any]]:
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

def _tiers(c: Checker, raw: Any, policy: dict[str, Any]) -> dict[str, Any]:
    data = c.keyed(raw, "tiers", TIERS, f"unknown tier (expected {', '.join(TIERS)})")
    measures = {m["metric"]: m for m in policy["measures"] if m["metric"] is not None}
    lines = {ln["name"]: ln for ln in policy["warning_lines"] if isinstance(ln["name"], str)}
    out: dict[str, Any] = {}
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
                over = c.mapping(overrides[name], lpath, LINE_OVERRIDE_KEYS)
                resolved["warning_lines"].append(
                    {**base, **line_values(c, over, lpath, base["kind"], base)})
            else:
                resolved["warning_lines"].append(base)
        out[tier] = resolved
    return out


def _pipeline(c: Checker, raw: Any) -> dict[str, Any]:
    data = c.mapping(raw, "pipeline", ("severity", "sources"))
    sources = c.keyed(data.get("sources", {"usage": {"stale_after_seconds": 1800}}), "pipeline.sources",
                      INPUT_KINDS, f"unknown source (expected {', '.join(INPUT_KINDS)})")
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
