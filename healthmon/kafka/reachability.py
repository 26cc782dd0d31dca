"""Whether this process can talk to Kafka, judged from the answers its own Kafka clients get.

aiokafka retries forever and says so only in its log, so `/readyz`, the metrics and the clients'
give-up rule read this instead. Every request any aiokafka client sends (consumer, producer,
metadata, commits, heartbeats) goes through `AIOKafkaConnection.send`, and every failed connect
through `AIOKafkaClient._get_conn`: both are wrapped once per process by `install`.

The broker counts as unreachable when nothing answered for `timeout_s` and, since the last answer,
either a connect or request failed (broker gone, port closed) or a request has waited longer than
`timeout_s` (broker paused: the TCP connection stays open, nothing answers). Group joins are left out
of that wait: a broker may hold a JoinGroup for half the session timeout on purpose.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["BrokerContact", "ContactStatus", "install", "installed_contact"]

#: Kafka API keys of requests a healthy broker may legitimately hold (JoinGroup, SyncGroup).
_HELD_ON_PURPOSE = frozenset({11, 14})


@dataclass(frozen=True)
class ContactStatus:
    """The broker's reachability as this process sees it."""

    reachable: bool
    reason: str | None
    last_contact_unix: float | None
    failures: int
    answered_since_failure: bool


class BrokerContact:
    """Bookkeeping of broker answers and failures; thread-safe (Faust's consumer runs in its own thread)."""

    def __init__(self, timeout_s: float, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self.timeout_s = timeout_s
        self._clock = clock
        self._wall = wall
        self._lock = threading.Lock()
        self._tokens = itertools.count()
        self._pending: dict[int, float] = {}
        self._started = clock()
        self._last_answer: float | None = None
        self._last_answer_unix: float | None = None
        self._last_failure: float | None = None
        self._failure_reason = ""
        self.failures = 0  # every failure since the process started

    def sent(self, held_on_purpose: bool = False) -> int:
        """Record a request on its way; return the token to pass to `answered` or `failed`."""
        token = next(self._tokens)
        if not held_on_purpose:
            with self._lock:
                self._pending[token] = self._clock()
        return token

    def answered(self, token: int | None = None) -> None:
        """Record an answer from the broker."""
        with self._lock:
            if token is not None:
                self._pending.pop(token, None)
            self._last_answer = self._clock()
            self._last_answer_unix = self._wall()

    def failed(self, reason: str, token: int | None = None) -> None:
        """Record a failed connect or request."""
        with self._lock:
            if token is not None:
                self._pending.pop(token, None)
            self._last_failure = self._clock()
            self._failure_reason = reason
            self.failures += 1

    def abandoned(self, token: int) -> None:
        """Forget a request whose caller gave up (cancelled): neither an answer nor a failure."""
        with self._lock:
            self._pending.pop(token, None)

    def status(self) -> ContactStatus:
        """Return whether the broker is reachable now, and why not."""
        with self._lock:
            now = self._clock()
            since = self._last_answer if self._last_answer is not None else self._started
            silent_s = now - since
            oldest = min(self._pending.values(), default=None)
            reason = None
            if silent_s >= self.timeout_s:
                if self._last_failure is not None and self._last_failure >= since:
                    reason = f"cannot reach Kafka: {self._failure_reason}"
                elif oldest is not None and now - oldest >= self.timeout_s:
                    reason = f"Kafka has not answered a request for {now - oldest:.0f} s"
                if reason is not None and self._last_answer is None:
                    reason += " (never reached since start)"
            answered = self._last_answer is not None and (self._last_failure is None
                                                          or self._last_answer > self._last_failure)
            return ContactStatus(reason is None, reason, self._last_answer_unix, self.failures, answered)


_installed: list[BrokerContact] = []


def installed_contact() -> BrokerContact | None:
    """Return the contact that the aiokafka hooks report to, if `install` ran."""
    return _installed[0] if _installed else None


async def _tracked(contact: BrokerContact, token: int, waiter: Any) -> Any:
    try:
        result = await waiter
    except asyncio.CancelledError:
        contact.abandoned(token)
        raise
    except (TimeoutError, OSError) as exc:
        contact.failed(f"request timed out or connection broke ({type(exc).__name__})", token)
        raise
    except Exception as exc:  # noqa: BLE001 - aiokafka's errors; re-raised untouched
        contact.failed(f"{type(exc).__name__}: {exc}", token)
        raise
    contact.answered(token)
    return result


def install(contact: BrokerContact) -> BrokerContact:
    """Report every aiokafka request and connect of this process to `contact` (first call wins)."""
    if _installed:
        return _installed[0]
    _installed.append(contact)
    from aiokafka.client import AIOKafkaClient
    from aiokafka.conn import AIOKafkaConnection

    send = AIOKafkaConnection.send
    get_conn = AIOKafkaClient._get_conn

    def tracked_send(self: AIOKafkaConnection, request: Any, expect_response: bool = True) -> Any:
        """Send as aiokafka does, reporting the answer or failure."""
        target = installed_contact()
        if target is None or not expect_response:
            return send(self, request, expect_response)
        token = target.sent(getattr(request, "API_KEY", None) in _HELD_ON_PURPOSE)
        try:
            waiter = send(self, request, expect_response)
        except Exception as exc:
            target.failed(f"{type(exc).__name__}: {exc}", token)
            raise
        return _tracked(target, token, waiter)

    async def tracked_get_conn(self: AIOKafkaClient, node_id: Any, **kwargs: Any) -> Any:
        """Connect as aiokafka does, reporting a failed connect."""
        conn = await get_conn(self, node_id, **kwargs)
        target = installed_contact()
        if conn is None and target is not None:
            broker = self.cluster.broker_metadata(node_id)
            where = f"{broker.host}:{broker.port}" if broker is not None else f"node {node_id}"
            target.failed(f"cannot connect to the broker at {where}")
        return conn

    AIOKafkaConnection.send = tracked_send  # type: ignore[method-assign]
    AIOKafkaClient._get_conn = tracked_get_conn  # type: ignore[method-assign]
    return contact
