"""Deliver a dead letter, or say loudly that it could not be delivered.

A dead letter is the only trace of a rejected message. A send the producer refuses outright is
retried in place, so the message being processed waits for it. A delivery that fails later (the
broker refused the record, or timed out) is re-sent from the delivery callback, in the background:
waiting for every broker ack in place would halve the worker's speed on a stream of bad input. The
last failure is logged as an error naming the source position and the record's SHA-256.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
from typing import Any

__all__ = ["DeadLetterNotDelivered", "deliver_dead_letter", "retries_settled", "SEND_ATTEMPTS"]

log = logging.getLogger(__name__)

#: Attempts at sending one dead letter before giving up (the producer retries within each attempt too).
SEND_ATTEMPTS = 3
_BACKOFF_S = 0.5
#: Background re-sends under way (referenced so that they are not garbage-collected).
_resends: set[asyncio.Task] = set()


class DeadLetterNotDelivered(RuntimeError):
    """A dead letter could not be written to the dead-letter topic."""


def _failed(where: str, attempt: int, attempts: int, record: bytes, exc: BaseException) -> bool:
    """Log a failed attempt; return True when it was the last one."""
    if attempt >= attempts:
        log.error("dead letter for %s NOT written after %d attempts (%d bytes, sha256 %s): %s: %s",
                  where, attempts, len(record), hashlib.sha256(record).hexdigest()[:16], type(exc).__name__, exc)
        return True
    log.warning("dead letter for %s not written (attempt %d of %d): %s: %s; retrying",
                where, attempt, attempts, type(exc).__name__, exc)
    return False


async def deliver_dead_letter(topic: Any, key: bytes | None, record: bytes, *, where: str,
                              attempts: int = SEND_ATTEMPTS, backoff_s: float = _BACKOFF_S,
                              attempt: int = 1) -> None:
    """Hand `record` to `topic`'s producer, retrying a refusal; raise `DeadLetterNotDelivered` after the last."""
    while True:
        try:
            sent = await topic.send(key=key, value=record)
            break
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any producer failure; the last one is raised
            if _failed(where, attempt, attempts, record, exc):
                raise DeadLetterNotDelivered(f"dead letter for {where} not written: {exc}") from exc
            await asyncio.sleep(backoff_s * attempt)
            attempt += 1
    if isinstance(sent, asyncio.Future):  # the delivery future, resolved by the broker's ack
        sent.add_done_callback(functools.partial(_on_delivery, topic, key, record, where, attempt, attempts,
                                                 backoff_s))


def _on_delivery(topic: Any, key: bytes | None, record: bytes, where: str, attempt: int, attempts: int,
                 backoff_s: float, fut: asyncio.Future) -> None:
    exc = asyncio.CancelledError() if fut.cancelled() else fut.exception()
    if exc is None or _failed(where, attempt, attempts, record, exc):
        return
    task = asyncio.ensure_future(_resend(topic, key, record, where, attempt + 1, attempts, backoff_s))
    _resends.add(task)
    task.add_done_callback(_resends.discard)


async def _resend(topic: Any, key: bytes | None, record: bytes, where: str, attempt: int, attempts: int,
                  backoff_s: float) -> None:
    await asyncio.sleep(backoff_s * (attempt - 1))
    try:
        await deliver_dead_letter(topic, key, record, where=where, attempts=attempts, backoff_s=backoff_s,
                                  attempt=attempt)
    except DeadLetterNotDelivered:
        pass  # logged as an error already; nobody waits for a background re-send


async def retries_settled() -> None:
    """Wait until every background re-send (and those it starts) has finished."""
    await asyncio.sleep(0)  # let pending delivery callbacks run
    while _resends:
        await asyncio.gather(*list(_resends), return_exceptions=True)
        await asyncio.sleep(0)
