"""Bounded waits for the command-line Kafka clients (`tail`, `generate`).

aiokafka retries an unreachable broker forever, and its `stop()` can wait on the broker too. A guarded
client says once that the broker is unreachable, gives up with a clear error after `wait_s`, stops on
the first SIGINT/SIGTERM, and leaves the process at most `EXIT_GRACE_S` later even if a client's
cleanup still waits on the broker.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from healthmon.kafka.broker import BrokerError
from healthmon.kafka.broker_watch import BrokerWatch

__all__ = ["EXIT_GRACE_S", "Interrupted", "guarded"]

#: Longest a stopping client may spend in cleanup (closing its Kafka client) before the process exits.
EXIT_GRACE_S = 5.0
T = TypeVar("T")


class Interrupted(Exception):
    """The client was stopped by a signal."""

    def __init__(self, signum: signal.Signals) -> None:
        super().__init__(signum.name)
        self.signum = signum


def _arm_exit(code: int) -> None:
    # A thread, so that a cleanup blocking the event loop cannot hold the process.
    timer = threading.Timer(EXIT_GRACE_S, os._exit, args=(code,))
    timer.daemon = True
    timer.start()


async def guarded(main: Awaitable[T], *, watch: BrokerWatch, wait_s: float, say: Callable[[str], None],
                  what: str, poll_s: float = 0.5) -> T:
    """Run `main`; raise BrokerError after `wait_s` of unreachable broker, Interrupted on SIGINT/SIGTERM."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(main)
    signals: list[signal.Signals] = []

    def on_signal(signum: signal.Signals) -> None:
        if signals:  # a second signal: stop waiting for the cleanup
            os._exit(128 + signum)
        signals.append(signum)
        say(f"{what}: {signum.name} received; stopping")
        _arm_exit(128 + signum)
        task.cancel()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        since: float | None = None
        while not task.done():
            await asyncio.wait({task}, timeout=poll_s)
            status = watch.status()
            if task.done():
                break
            if status.reachable:
                if since is not None:
                    say(f"{what}: Kafka answers again")
                    since = None
                continue
            if since is None:
                since = time.monotonic()
                say(f"{what}: {status.reason}; waiting up to {wait_s:.0f} s (HEALTHMON_CLIENT_WAIT_SECONDS)")
            elif time.monotonic() - since >= wait_s:
                _arm_exit(1)
                task.cancel()
                await asyncio.wait({task}, timeout=EXIT_GRACE_S)
                raise BrokerError(f"gave up after waiting {wait_s:.0f} s for Kafka: {status.reason}")
        if signals and task.cancelled():
            raise Interrupted(signals[0])
        return task.result()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
