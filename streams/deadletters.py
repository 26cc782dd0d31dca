"""Deliver a dead letter, or say loudly that it could not be delivered.

A dead letter is the only trace of a rejected message, so its send is awaited until the broker
acknowledges it (not only until the producer buffers it), retried a few times, and a final failure
is logged as an error naming the source position and the payload's SHA-256, then raised to the caller.
Dead letters are rare, so waiting for each one costs the stream nothing measurable.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import logging
from typing import Any

__all__ = ["DeadLetterNotDelivered", "deliver_dead_letter", "SEND_ATTEMPTS"]

log = logging.getLogger(__name__)

#: Attempts at sending one dead letter before giving up (the producer retries within each attempt too).
SEND_ATTEMPTS = 3
_BACKOFF_S = 0.5


class DeadLetterNotDelivered(RuntimeError):
    """A dead letter could not be written to the dead-letter topic."""


async def deliver_dead_letter(topic: Any, key: bytes | None, record: bytes, *, where: str,
                              attempts: int = SEND_ATTEMPTS, backoff_s: float = _BACKOFF_S) -> None:
    """Send `record` to `topic` and wait for the broker's ack; retry, then log and raise on failure."""
    for attempt in range(1, attempts + 1):
        try:
            sent = await topic.send(key=key, value=record)
            if inspect.isawaitable(sent):
                await sent  # the delivery future: resolved by the broker's ack
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any producer failure; the last one is raised below
            if attempt == attempts:
                log.error("dead letter for %s NOT written after %d attempts (%d bytes, sha256 %s): %s: %s",
                          where, attempts, len(record), hashlib.sha256(record).hexdigest()[:16],
                          type(exc).__name__, exc)
                raise DeadLetterNotDelivered(f"dead letter for {where} not written: {exc}") from exc
            log.warning("dead letter for %s not written (attempt %d of %d): %s: %s; retrying",
                        where, attempt, attempts, type(exc).__name__, exc)
            await asyncio.sleep(backoff_s * attempt)
