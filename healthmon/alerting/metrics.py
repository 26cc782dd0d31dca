"""The bridge's own Prometheus metrics: bounded labels, every known label value pre-created."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, GCCollector, PlatformCollector, ProcessCollector

from healthmon.core.vocabulary import ALERT_STATUSES

__all__ = ["BridgeMetrics", "RETRY_REASONS"]

#: why a push is retried: no answer (connection refused, timeout) or a 5xx
RETRY_REASONS = ("unreachable", "server_error")


class BridgeMetrics:
    """Metrics of one `healthmon alertmanager` process."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        self.sent = Counter("healthmon_bridge_alerts_sent", "Alerts Alertmanager accepted, once per Alertmanager "
                            "(re-sends included).", ["status"], registry=r)
        self.retries = Counter("healthmon_bridge_push_retries", "Pushes to one Alertmanager that failed and will "
                               "be retried.", ["reason"], registry=r)
        self.failed = Counter("healthmon_bridge_alerts_failed", "Alerts an Alertmanager rejected (4xx); "
                              "logged with their alert_id, not retried.", ["status"], registry=r)
        self.invalid = Counter("healthmon_bridge_invalid_records", "Records on the alerts topic that are not "
                               "alerts (skipped, logged with their position).", registry=r)
        self.firing = Gauge("healthmon_bridge_firing_alerts", "Alerts firing now (the set the bridge re-sends).",
                            registry=r)
        self.last_success = Gauge("healthmon_bridge_last_success_timestamp_seconds",
                                  "When every Alertmanager last accepted a push (re-sends included), unix "
                                  "seconds; 0 until the first.", registry=r)
        for status in ALERT_STATUSES:
            self.sent.labels(status)
            self.failed.labels(status)
        for reason in RETRY_REASONS:
            self.retries.labels(reason)
