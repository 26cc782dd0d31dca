"""The bridge's memory: the latest alert of every dedup_key, so what fires can be re-sent and nothing resurrects."""

from __future__ import annotations

from typing import Any

from healthmon.alerting.mapping import alert_labels

__all__ = ["FiringSet"]

_RANK = {"firing": 0, "resolved": 1}


def _order(alert: dict[str, Any]) -> tuple[int, int]:
    # at one instant a resolve outranks a firing: the pipeline decides a resolve after the firing it ends
    return alert["event_time"], _RANK[alert["status"]]


def _resolved_copy(alert: dict[str, Any], at_ms: int) -> dict[str, Any]:
    return {**alert, "status": "resolved", "event_time": max(at_ms, alert["event_time"])}


class FiringSet:
    """The latest alert per dedup_key (firing or resolved); `apply` says what Alertmanager must be told."""

    def __init__(self) -> None:
        self._latest: dict[str, dict[str, Any]] = {}

    def apply(self, alert: dict[str, Any]) -> list[dict[str, Any]]:
        """Take one alert from the topic; return the alerts to push (none for a duplicate or a stale one)."""
        key = alert["dedup_key"]
        prev = self._latest.get(key)
        if prev is not None:
            if prev["alert_id"] == alert["alert_id"]:
                return []  # redelivered: Alertmanager already has it
            if _order(alert) < _order(prev):
                return []  # older than what we know (e.g. pipeline alerts from two partitions): never resurrect
        self._latest[key] = alert
        out = [alert]
        if prev is not None and prev["status"] == "firing" and alert_labels(prev) != alert_labels(alert):
            # Alertmanager identifies an alert by its labels: end the old label set explicitly (a tier change)
            out.insert(0, _resolved_copy(prev, alert["event_time"]))
        return out

    def firing(self) -> list[dict[str, Any]]:
        """Return the alerts firing now, one per dedup_key, in dedup_key order."""
        return [a for _, a in sorted(self._latest.items()) if a["status"] == "firing"]

    def is_firing(self, dedup_key: str) -> bool:
        """Tell whether the dedup_key's latest alert is firing."""
        latest = self._latest.get(dedup_key)
        return latest is not None and latest["status"] == "firing"

    def __len__(self) -> int:
        """Return how many alerts are firing."""
        return sum(1 for a in self._latest.values() if a["status"] == "firing")
