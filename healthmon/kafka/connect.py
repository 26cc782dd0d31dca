"""Find the Kafka broker to use: the configured one (checked), or a fresh embedded one."""

from __future__ import annotations

import asyncio
from urllib.parse import urlparse

from healthmon.config import KafkaSettings
from healthmon.kafka.broker import BrokerError, EmbeddedBroker, wait_for_kafka
from healthmon.kafka.security import KafkaSecurityError, check_kafka

__all__ = ["bootstrap_of", "connect_broker", "require_broker_url"]


def bootstrap_of(url: str) -> str:
    """Return `host:port[,host:port]` from a Faust broker URL such as `kafka://a:9092;b:9092`."""
    hosts = []
    for part in url.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        parsed = urlparse(part if "://" in part else "kafka://" + part)
        hosts.append(f"{parsed.hostname}:{parsed.port or 9092}")
    return ",".join(hosts)


def _check(url: str, timeout_s: float, kafka: KafkaSettings) -> None:
    if kafka.security_protocol != "PLAINTEXT":
        # A TLS or SASL broker cannot be probed in the clear; a refusal is explained, not retried.
        try:
            asyncio.run(check_kafka(bootstrap_of(url), kafka, timeout_s))
        except KafkaSecurityError as exc:
            raise BrokerError(f"cannot connect to KAFKA_BROKER_URL={url} with KAFKA_SECURITY_PROTOCOL="
                              f"{kafka.security_protocol}: {exc}") from None
        return
    host, _, port = bootstrap_of(url).split(",")[0].rpartition(":")
    try:
        wait_for_kafka(host, int(port), timeout_s)
    except BrokerError as exc:
        raise BrokerError(f"cannot reach Kafka at KAFKA_BROKER_URL={url}: {exc}. Is the broker running? "
                          "Unset KAFKA_BROKER_URL to use the embedded broker.") from None


def connect_broker(kafka: KafkaSettings, timeout_s: float = 15.0) -> tuple[str, EmbeddedBroker | None]:
    """Return (broker URL, embedded broker or None); start the embedded one when none is configured."""
    if kafka.broker_url:
        _check(kafka.broker_url, timeout_s, kafka)
        return kafka.broker_url, None
    broker = EmbeddedBroker(kafka.tansu_bin).start()
    return broker.url, broker


def require_broker_url(kafka: KafkaSettings, timeout_s: float = 15.0) -> str:
    """Return the configured broker URL, checked, or raise: clients cannot share an embedded broker."""
    if not kafka.broker_url:
        raise BrokerError("KAFKA_BROKER_URL is not set. Point it at the broker the worker uses "
                          "(`healthmon worker` prints it when it starts an embedded one).")
    _check(kafka.broker_url, timeout_s, kafka)
    return kafka.broker_url
