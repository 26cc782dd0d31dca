"""A Faust worker whose SIGTERM/SIGINT stop is bounded, whatever the broker's state.

Faust's stop sequence awaits the consumer thread, the last commit, the group leave and the producer
flush, and aiokafka retries each of them for as long as the broker does not answer: with the broker
gone or paused, SIGTERM never ended the process. Here a signal starts Faust's graceful stop and arms
a deadline (a thread, so a blocked event loop cannot hold it back); past it the process logs what it
was still waiting for and exits at once. Offsets not committed are simply consumed again on the next
start (at-least-once), so the exit code tells the supervisor whether that will happen: 75 when some
are (or the consumer cannot tell), 0 when everything processed was committed, cut short or not.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from typing import Any, NoReturn, Protocol

import faust

__all__ = ["BoundedStopWorker", "EXIT_UNCOMMITTED", "uncommitted_partitions"]

#: Exit code when the worker stopped without committing everything it processed (EX_TEMPFAIL).
EXIT_UNCOMMITTED = 75

log = logging.getLogger(__name__)


def uncommitted_partitions(app: faust.App, *, unknown: int = 0) -> int:
    """Return how many partitions hold processed offsets that are not committed yet (`unknown` when the consumer's
    fields cannot be read: one that never started, or one changing under a read from another thread)."""
    consumer = app._consumer
    if consumer is None:
        return 0
    try:
        # No public API for this. Partitions revoked earlier are another worker's to commit now.
        owned = consumer.assignment()
        return len(consumer._filter_committable_offsets([tp for tp in list(consumer._acked) if tp in owned]))
    except Exception:  # noqa: BLE001 - a consumer that never started has nothing to commit
        return unknown


def _stopping_services(root: Any) -> list[str]:
    """Return the labels of the innermost services still stopping under `root`."""
    stuck: list[str] = []

    def walk(service: Any) -> bool:
        children = [c for c in list(getattr(service, "_children", [])) if walk(c)]
        busy = getattr(service, "state", "") == "stopping"
        if busy and not children:
            stuck.append(str(getattr(service, "label", type(service).__name__)))
        return busy or bool(children)

    try:
        walk(root)
    except Exception:  # noqa: BLE001 - a diagnostic read from another thread; never fail the exit
        pass
    return stuck[:6]


class BrokerStatus(Protocol):
    """Whether the broker answers now, and if not why (`healthmon.kafka.reachability.ContactStatus`)."""

    @property
    def reachable(self) -> bool: ...

    @property
    def reason(self) -> str | None: ...


class BrokerContact(Protocol):
    """What the stop needs of the broker's contact record (`healthmon.kafka.reachability.BrokerContact`)."""

    def status(self) -> BrokerStatus: ...


class BoundedStopWorker(faust.Worker):
    """`faust.Worker` that exits within `stop_timeout_s` of SIGTERM or SIGINT."""

    def __init__(self, app: faust.App, *, stop_timeout_s: float, contact: BrokerContact | None = None,
                 on_hard_exit: Callable[[], None] = lambda: None, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        # Faust's terminal spinner sets the root logger to DEBUG, whatever `loglevel` says, so that every record
        # turns it: aiokafka's and Faust's debug records of each send and fetch were then built only for the
        # handler's level to drop them (6% of a busy worker's samples). Without it the root logger keeps `loglevel`.
        self.spinner = None
        self.stop_timeout_s = stop_timeout_s
        self.contact = contact
        self.on_hard_exit = on_hard_exit
        self._stop_signal: signal.Signals | None = None
        self._deadline: threading.Timer | None = None
        self._exit_code = 0

    def _schedule_shutdown(self, signal: signal.Signals) -> None:
        if self._stop_signal is not None:
            self._hard_exit(f"second {signal.name} while stopping")
        self._stop_signal = signal
        broker = self._broker_note()
        log.warning("healthmon: %s received; stopping (at most %.0f s)%s", signal.name, self.stop_timeout_s, broker)
        self._deadline = threading.Timer(self.stop_timeout_s, self._hard_exit,
                                         args=(f"graceful stop exceeded {self.stop_timeout_s:.0f} s",))
        self._deadline.daemon = True
        self._deadline.start()
        threading.excepthook = self._thread_ended
        super()._schedule_shutdown(signal)

    @staticmethod
    def _thread_ended(args: threading.ExceptHookArgs) -> None:
        # Faust's consumer thread dies of a CancelledError when stopped while the broker is away; one
        # line says so instead of a traceback nobody can act on.
        name = args.thread.name if args.thread is not None else "?"
        log.warning("healthmon: thread %s ended while stopping: %s: %s", name, args.exc_type.__name__,
                    args.exc_value)

    def _broker_note(self) -> str:
        if self.contact is None:
            return ""
        status = self.contact.status()
        return "" if status.reachable else f"; {status.reason}"

    def _hard_exit(self, why: str) -> NoReturn:
        stuck = ", ".join(_stopping_services(self)) or "nothing identifiable"
        # Past the deadline the stop is cut short; whether input is consumed again depends only on what is
        # left uncommitted (a stop held up by a rebalance after everything was committed loses nothing).
        code = EXIT_UNCOMMITTED if uncommitted_partitions(self.app, unknown=-1) else 0
        try:
            if code:
                log.error("healthmon: %s, still waiting for %s%s; exiting with code %d without the last commit "
                          "(uncommitted input is consumed again on restart)", why, stuck, self._broker_note(), code)
            else:
                log.warning("healthmon: %s, still waiting for %s%s; exiting with code 0: all processed offsets "
                            "committed", why, stuck, self._broker_note())
            self.on_hard_exit()
        finally:
            for handler in logging.getLogger().handlers:
                handler.flush()
            os._exit(code)

    def _shutdown_loop(self) -> None:
        if self._deadline is not None:
            pending = uncommitted_partitions(self.app)
            if pending:
                self._exit_code = EXIT_UNCOMMITTED
                log.error("healthmon: stopped on %s, but the offsets of %d partition(s) could not be committed%s; "
                          "exit code %d (that input is consumed again on restart)", self._signal_name(), pending,
                          self._broker_note(), EXIT_UNCOMMITTED)
            else:
                log.warning("healthmon: stopped on %s, all processed offsets committed", self._signal_name())
        super()._shutdown_loop()

    def _signal_name(self) -> str:
        return self._stop_signal.name if self._stop_signal is not None else "request"

    def execute_from_commandline(self) -> NoReturn:
        """Run the worker; exit with `EXIT_UNCOMMITTED` when a stop left offsets uncommitted."""
        try:
            super().execute_from_commandline()
        except SystemExit as exc:
            if self._deadline is not None:
                self._deadline.cancel()
            if exc.code in (0, None) and self._exit_code:
                raise SystemExit(self._exit_code) from None
            raise
        raise SystemExit(0)  # unreachable (mode's worker always raises SystemExit); for NoReturn, as mode does
