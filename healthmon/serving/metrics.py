"""Prometheus metrics: bounded labels, base units, known label values pre-created."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

from healthmon.core.vocabulary import ALERT_KINDS, ALERT_STATUSES, BANDS, OUTCOMES, SEVERITIES, TIERS
from healthmon.serving.account_series import AccountSeries
from schemas.deadletter import DeadLetterReason

__all__ = ["Metrics", "REPARTITION_LABEL", "TIER_LABELS", "TOPIC_LABELS", "UNKNOWN_TIER"]

#: input kind -> the `topic` label value (the unprefixed default topic name, so dashboards stay portable)
TOPIC_LABELS = {"usage": "product-usage", "ticket": "support-tickets", "nps": "nps-responses",
                "account": "accounts"}
#: the `topic` label value of the repartition topic (healthmon's own)
REPARTITION_LABEL = "repartition"
#: the `tier` label of an account without a profile yet
UNKNOWN_TIER = "unknown"
TIER_LABELS = (*TIERS, UNKNOWN_TIER)
REDIS_OPERATIONS = ("write", "read", "ping")
#: how an event's wait for its account link ended
LINK_WAIT_OUTCOMES = ("resolved", "expired", "evicted")


class Metrics:
    """All healthmon metrics in one registry (one per worker process)."""

    def __init__(self, registry: CollectorRegistry | None = None, account_series: AccountSeries | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        #: the per-account series (`healthmon_account_*`): off unless the worker's settings turn them on
        self.account_series = account_series or AccountSeries()
        r.register(self.account_series)
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        self.events = Counter("healthmon_events", "Input events by topic and outcome.",
                              ["topic", "outcome"], registry=r)
        self.messages = Counter("healthmon_messages", "Kafka messages consumed (a batch envelope is one).",
                                ["topic"], registry=r)
        self.dead_letters = Counter("healthmon_dead_letters", "Messages or events sent to the dead-letter topic.",
                                    ["reason"], registry=r)
        self.alerts = Counter("healthmon_alerts", "Alerts emitted to the alerts topic.",
                              ["kind", "severity", "status"], registry=r)
        self.accounts = Gauge("healthmon_accounts", "Accounts on this worker's partitions by band and tier.",
                              ["band", "tier"], registry=r)
        self.health_score = Histogram("healthmon_health_score", "Health score of accounts when (re)scored.",
                                      buckets=tuple(range(10, 101, 10)), registry=r)
        self.event_lag = Histogram("healthmon_event_lag_seconds", "Processing time minus event time.",
                                   ["topic"], registry=r,
                                   buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600,
                                            86400, 604800))
        self.watermark = Gauge("healthmon_watermark_timestamp_seconds",
                               "Event-time watermark of each input, unix seconds.", ["topic"], registry=r)
        self.staleness = Gauge("healthmon_source_staleness_seconds",
                               "How far (event time) each input lags the stream time.", ["topic"], registry=r)
        self.stale = Gauge("healthmon_source_stale", "1 while an input is considered stale.", ["topic"], registry=r)
        self.consumer_lag = Gauge(
            "healthmon_consumer_lag_messages", "Messages of each input past the consumer group's committed offsets, "
            "over every partition (each worker reports the group's, a frozen worker's included).", ["topic"],
            registry=r)
        self.view_stale = Gauge(
            "healthmon_view_stale_accounts", "Accounts whose Redis view differed from their state at this "
            "worker's last view check (each is pushed again).", registry=r)
        self.partition_rereads = Counter(
            "healthmon_partition_rereads", "Stuck input partitions read again from their committed offset: owned, "
            "with messages left, no progress (see docs/operations.md).", ["topic"], registry=r)
        self.pace_gave_up = Counter(
            "healthmon_pace_gave_up", "Partitions of a paced input that no worker published the progress of within "
            "HEALTHMON_PACE_UNKNOWN_WAIT_SECONDS: the pace went on without them.", ["topic"], registry=r)
        self.link_wait = Gauge("healthmon_link_wait_events",
                               "Events held for an account link not known yet (HEALTHMON_LINK_WAIT_SECONDS).",
                               registry=r)
        self.link_waits = Counter("healthmon_link_waits", "Events that waited for an account link, by how the wait "
                                  "ended: resolved, expired (dead-lettered unknown_account), evicted (over the "
                                  "wait's bounds, dead-lettered).", ["outcome"], registry=r)
        self.redis_errors = Counter("healthmon_redis_errors", "Failed Redis operations.", ["operation"], registry=r)
        self.broker_unreachable = Gauge("healthmon_broker_unreachable",
                                        "1 while this worker cannot reach the Kafka broker (see /readyz).",
                                        registry=r)
        self.broker_last_contact = Gauge("healthmon_broker_last_contact_timestamp_seconds",
                                         "When the Kafka broker last answered this worker, unix seconds.",
                                         registry=r)
        self.build_info = Gauge("healthmon_build_info", "Build and policy version (always 1).",
                                ["version", "policy_version"], registry=r)
        self._precreate()

    def _precreate(self) -> None:
        for topic in (*TOPIC_LABELS.values(), REPARTITION_LABEL):
            self.partition_rereads.labels(topic)
            self.pace_gave_up.labels(topic)
        for outcome in LINK_WAIT_OUTCOMES:
            self.link_waits.labels(outcome)
        for topic in TOPIC_LABELS.values():
            self.messages.labels(topic)
            self.event_lag.labels(topic)
            self.watermark.labels(topic)
            self.staleness.labels(topic)
            self.stale.labels(topic)
            self.consumer_lag.labels(topic)
            for outcome in OUTCOMES:
                self.events.labels(topic, outcome)
        for reason in DeadLetterReason:
            self.dead_letters.labels(reason.value)
        for kind in ALERT_KINDS:
            for severity in SEVERITIES:
                for status in ALERT_STATUSES:
                    self.alerts.labels(kind, severity, status)
        for band in BANDS:
            for tier in TIER_LABELS:
                self.accounts.labels(band, tier).set(0)
        for op in REDIS_OPERATIONS:
            self.redis_errors.labels(op)
