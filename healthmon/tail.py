"""Read the alerts topic and print alerts as readable lines or JSON."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer

from healthmon.kafka.connect import bootstrap_of

__all__ = ["format_alert", "iter_alerts"]

#: Longest closing the consumer may take (its group leave waits on the broker).
STOP_TIMEOUT_S = 3.0
_MARK = {"firing": "FIRING  ", "resolved": "RESOLVED"}


def format_alert(alert: dict[str, Any]) -> str:
    """Return one readable line for an alert."""
    when = alert.get("event_time")
    stamp = datetime.fromtimestamp(when / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M") if when else "?"
    return (f"{stamp}  {_MARK.get(alert.get('status', ''), alert.get('status', '?'))}  "
            f"{alert.get('severity', '?'):<8}  {alert.get('kind', '?'):<18}  {alert.get('summary', '')}")


async def iter_alerts(broker_url: str, topic: str, *, from_beginning: bool, stop: asyncio.Event | None = None,
                      security: dict[str, Any] | None = None) -> AsyncIterator[dict[str, Any]]:
    """Yield alerts from `topic` (a throwaway consumer group, so it never disturbs others).

    `security`: the TLS/SASL arguments of `healthmon.kafka.security.aiokafka_kwargs(settings.kafka)`.
    """
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap_of(broker_url),
                                group_id=f"healthmon-tail-{uuid.uuid4().hex[:8]}",
                                auto_offset_reset="earliest" if from_beginning else "latest",
                                enable_auto_commit=False, **(security or {}))
    try:
        await consumer.start()  # inside the try: a Ctrl-C during a slow group join still closes it
        while stop is None or not stop.is_set():
            batch = await consumer.getmany(timeout_ms=250)
            for records in batch.values():
                for record in records:
                    try:
                        yield orjson.loads(record.value)
                    except orjson.JSONDecodeError:
                        yield {"kind": "?", "status": "?", "summary": f"undecodable alert at offset {record.offset}"}
    finally:
        # With the broker gone, leaving the group never ends: give it a bounded moment.
        await asyncio.wait({asyncio.ensure_future(consumer.stop())}, timeout=STOP_TIMEOUT_S)
