"""The topics section: the name of every topic healthmon reads or writes, and their partitions."""

from __future__ import annotations

from typing import ClassVar

from healthmon.config.section import Section, setting

__all__ = ["PACE", "REPARTITION", "REMOVED_ENV", "TopicSettings", "internal_topic"]

#: The repartition topic's name after its application's id (`<app_id>-events-by-account`).
REPARTITION = "events-by-account"

#: The progress topic of paced inputs after its application's id (`<app_id>-input-progress`, compacted).
PACE = "input-progress"

#: Variables no longer read, and what replaced them (a worker that finds one set logs this).
REMOVED_ENV = {
    "HEALTHMON_REPARTITION_TOPIC": "the repartition topic is named after the application: "
                                   "`<HEALTHMON_APP_ID>-events-by-account`",
}


def internal_topic(app_id: str, name: str) -> str:
    """Return the name of the internal topic `name` of application `app_id`, as Kafka Streams and Faust name theirs.

    Internal topics belong to one application, not to the cluster: two deployments on one cluster (a
    shadow policy beside production) must never read each other's.
    """
    return f"{app_id}-{name}"


class TopicSettings(Section):
    """Topic names as configured, without the prefix; the `*_name` properties are the names in Kafka.

    Internal topics (the repartition topic) are not configured: they are named after the application id.
    """

    TITLE: ClassVar[str] = "Topics"

    prefix: str = setting("", "HEALTHMON_TOPIC_PREFIX",
                          "Prefix added to every topic name below (lets several deployments share one cluster).")
    usage: str = setting("product-usage", "HEALTHMON_USAGE_TOPIC", "Input topic of product-usage events.")
    tickets: str = setting("support-tickets", "HEALTHMON_TICKETS_TOPIC", "Input topic of support-ticket events.")
    nps: str = setting("nps-responses", "HEALTHMON_NPS_TOPIC", "Input topic of NPS answers.")
    accounts: str = setting("accounts", "HEALTHMON_ACCOUNTS_TOPIC", "Compacted input topic of account profiles.")
    alerts: str = setting("health-alerts", "HEALTHMON_ALERTS_TOPIC", "Output topic of alerts, keyed by account_id.")
    scores: str = setting("health-scores", "HEALTHMON_SCORES_TOPIC",
                          "Output topic of health-scores records (one per account per event-time day, one per band "
                          "change), keyed by account_id. Empty: none are sent.")
    deadletter: str = setting("healthmon-deadletter", "HEALTHMON_DEADLETTER_TOPIC",
                              "Output topic of rejected messages with raw bytes, position and reason.")
    partitions: int = setting(4, "HEALTHMON_PARTITIONS",
                              "Partitions of every topic healthmon creates (inputs must match).", ge=1)

    @property
    def input_names(self) -> dict[str, str]:
        """Map each input kind to its topic's name in Kafka (in the worker's tie-break order)."""
        return {"usage": self.prefix + self.usage, "ticket": self.prefix + self.tickets,
                "nps": self.prefix + self.nps, "account": self.prefix + self.accounts}

    @property
    def alerts_name(self) -> str:
        """Return the alerts topic's name in Kafka."""
        return self.prefix + self.alerts

    @property
    def scores_name(self) -> str:
        """Return the health-scores topic's name in Kafka (empty: the topic is off)."""
        return self.prefix + self.scores if self.scores else ""

    @property
    def deadletter_name(self) -> str:
        """Return the dead-letter topic's name in Kafka."""
        return self.prefix + self.deadletter

    def repartition_name(self, app_id: str) -> str:
        """Return the name in Kafka of the repartition topic of application `app_id` (no prefix: it is internal)."""
        return internal_topic(app_id, REPARTITION)

    @property
    def all_names(self) -> list[str]:
        """Return the name in Kafka of every topic healthmon shares: inputs, alerts, scores, dead letters."""
        scores = [self.scores_name] if self.scores else []
        return [*self.input_names.values(), self.alerts_name, *scores, self.deadletter_name]

    def internal_names(self, app_id: str) -> list[str]:
        """Return the names in Kafka of the internal topics of application `app_id`."""
        return [self.repartition_name(app_id)]

    def pace_name(self, app_id: str) -> str:
        """Return the name in Kafka of the progress topic of paced inputs of application `app_id` (compacted; created
        by the first worker that paces an input, so a deployment that paces nothing has none)."""
        return internal_topic(app_id, PACE)
