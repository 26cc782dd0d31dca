"""The chaos drill's restarts: a worker struck by a later fault while it starts does not end the drill."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from healthmon.drills.chaos import _restart_later


class _Run:
    """`Run.start_worker` as the drill meets it: the worker is listed, then dies before it is ready."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.workers: list[Any] = []

    def start_worker(self) -> None:
        self.workers.append(SimpleNamespace(proc=SimpleNamespace(pid=self.pid), alive=lambda: False))
        raise RuntimeError("worker exited with -9")


async def test_a_worker_the_drill_struck_while_it_started_is_no_failure():
    await _restart_later(_Run(pid=41), 0.0, struck={41})  # type: ignore[arg-type]


async def test_a_worker_that_died_by_itself_while_starting_still_fails_the_drill():
    with pytest.raises(RuntimeError, match="exited"):
        await _restart_later(_Run(pid=41), 0.0, struck={7})  # type: ignore[arg-type]
