"""A stop cut short at its deadline exits 75 only when processed input is left uncommitted (docs/operations.md)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from streams import shutdown
from streams.shutdown import EXIT_UNCOMMITTED, BoundedStopWorker


class _Consumer:
    """The fields of Faust's consumer that `uncommitted_partitions` reads (a test double, no Faust)."""

    def __init__(self, committable: dict[str, int] | None) -> None:
        self.committable = committable  # None: the fields change under the read (another thread)
        self._acked = {"t-0": [5]}

    def assignment(self) -> set[str]:
        return {"t-0"}

    def _filter_committable_offsets(self, tps: list[str]) -> dict[str, int]:
        if self.committable is None:
            raise RuntimeError("dictionary changed size during iteration")
        return self.committable


def _hard_exit_code(consumer: _Consumer, monkeypatch: pytest.MonkeyPatch) -> tuple[int, list[str]]:
    worker: Any = BoundedStopWorker.__new__(BoundedStopWorker)  # no Faust app: only what `_hard_exit` reads
    worker.app = SimpleNamespace(_consumer=consumer)
    worker.contact = None
    calls: list[str] = []
    worker.on_hard_exit = lambda: calls.append("on_hard_exit")

    def exit_now(code: int) -> None:
        raise SystemExit(code)

    monkeypatch.setattr(shutdown.os, "_exit", exit_now)
    with pytest.raises(SystemExit) as exited:
        worker._hard_exit("graceful stop exceeded 12 s")
    return int(exited.value.code), calls  # type: ignore[arg-type]


@pytest.mark.parametrize(("committable", "code"), [
    pytest.param({}, 0, id="everything-committed-a-rebalance-held-the-stop"),
    pytest.param({"t-0": 5}, EXIT_UNCOMMITTED, id="processed-offsets-left-uncommitted"),
    pytest.param(None, EXIT_UNCOMMITTED, id="the-consumer-cannot-tell"),
])
def test_the_code_of_a_stop_cut_short_says_whether_input_is_consumed_again(committable, code, monkeypatch, caplog):
    assert _hard_exit_code(_Consumer(committable), monkeypatch) == (code, ["on_hard_exit"])
    said = caplog.text
    assert ("all processed offsets committed" in said) is (code == 0)
    assert ("without the last commit" in said) is (code != 0)


def test_a_worker_at_warning_builds_no_debug_records():
    """Faust's spinner would set the root logger to DEBUG: every send and fetch then built a record for nothing."""
    import logging

    import faust

    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    try:
        worker = BoundedStopWorker(faust.App("shutdown-logging-test"), stop_timeout_s=5.0, loglevel="WARNING",
                                   quiet=True, redirect_stdouts=False)
        worker._setup_logging()
        assert not logging.getLogger("aiokafka.producer.producer").isEnabledFor(logging.DEBUG)
        assert not logging.getLogger("faust.topics").isEnabledFor(logging.DEBUG)
        assert logging.getLogger("aiokafka").isEnabledFor(logging.WARNING)
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
