"""The metric names healthmon exposes, and a small extractor of metric names from PromQL."""

from __future__ import annotations

import re

__all__ = ["BRIDGE_METRICS", "HEALTHMON_METRICS", "metric_names", "is_known_metric", "exposed_names"]

#: base name -> Prometheus type, as the workers expose them on /metrics (docs/operations.md lists them)
HEALTHMON_METRICS: dict[str, str] = {
    "healthmon_events": "counter",
    "healthmon_messages": "counter",
    "healthmon_dead_letters": "counter",
    "healthmon_alerts": "counter",
    "healthmon_accounts": "gauge",
    "healthmon_health_score": "histogram",
    "healthmon_event_lag_seconds": "histogram",
    "healthmon_watermark_timestamp_seconds": "gauge",
    "healthmon_source_staleness_seconds": "gauge",
    "healthmon_source_stale": "gauge",
    "healthmon_consumer_lag_messages": "gauge",
    "healthmon_view_stale_accounts": "gauge",
    "healthmon_partition_rereads": "counter",
    "healthmon_pace_gave_up": "counter",
    "healthmon_link_wait_events": "gauge",
    "healthmon_link_waits": "counter",
    "healthmon_redis_errors": "counter",
    "healthmon_broker_unreachable": "gauge",
    "healthmon_broker_last_contact_timestamp_seconds": "gauge",
    "healthmon_build_info": "gauge",
    # the per-account series (HEALTHMON_ACCOUNT_METRICS) and their cap
    "healthmon_account_health_score": "gauge",
    "healthmon_account_inactive_seconds": "gauge",
    "healthmon_account_open_urgent_tickets": "gauge",
    "healthmon_account_health_score_7d_ago": "gauge",
    "healthmon_account_health_score_30d_ago": "gauge",
    "healthmon_account_series": "gauge",
    "healthmon_account_series_limit": "gauge",
    "healthmon_account_series_capped_accounts": "gauge",
}

#: base name -> Prometheus type, as `healthmon alertmanager` (the bridge) exposes them on its own /metrics
BRIDGE_METRICS: dict[str, str] = {
    "healthmon_bridge_alerts_sent": "counter",
    "healthmon_bridge_push_retries": "counter",
    "healthmon_bridge_alerts_failed": "counter",
    "healthmon_bridge_invalid_records": "counter",
    "healthmon_bridge_firing_alerts": "gauge",
    "healthmon_bridge_last_success_timestamp_seconds": "gauge",
}

#: series Prometheus itself adds to every scrape, and prometheus_client's default collectors
_BUILTIN = {"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_series_added"}
_BUILTIN_PREFIXES = ("process_", "python_")

_SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count")}

_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
             "and", "or", "unless", "inf", "nan", "atan2"}

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_OFFSET = re.compile(r"\b(?:offset|@)\s*-?[\w.]+")
_NUMBER = re.compile(r"(?<![\w:])(?:0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)")
_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def exposed_names() -> set[str]:
    """Return every series name the workers and the bridge expose for the metrics above."""
    return {base + suffix for base, kind in {**HEALTHMON_METRICS, **BRIDGE_METRICS}.items()
            for suffix in _SUFFIXES[kind]}


def is_known_metric(name: str) -> bool:
    """Tell whether `name` is a healthmon series, a default process/python one, or one Prometheus adds."""
    return name in exposed_names() or name in _BUILTIN or name.startswith(_BUILTIN_PREFIXES)


def metric_names(expr: str) -> set[str]:
    """Return the metric names an expression selects (functions, keywords and labels left out)."""
    text = _STRING.sub(" ", expr)
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    text = _OFFSET.sub(" ", text)
    text = _NUMBER.sub(" ", text)
    names = set()
    for match in _IDENT.finditer(text):
        name = match.group()
        rest = text[match.end():].lstrip()
        if rest.startswith("("):  # a function or aggregation call
            continue
        if name.lower() in _KEYWORDS:
            continue
        names.add(name)
    return names
