"""The in-process bench's cost model: where a run's time went, and the memory a live account takes."""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from healthmon.core import Engine, state_from_bytes
from healthmon.core.engine import EvaluationStats

__all__ = ["CostModel", "hold_live_accounts", "instrument", "rss_bytes_per_live_account"]


@dataclass
class CostModel:
    """Where one in-process run's time went, from timers around the processor's and engine's steps."""

    events: int
    seconds: float
    decode_seconds: float = 0.0
    #: full evaluations (metrics computed, lifecycle decided) and the time spent in them
    evaluations: int = 0
    evaluation_seconds: float = 0.0
    #: evaluation calls that took the fast path (nothing could move) and their time
    fast_evaluations: int = 0
    fast_evaluation_seconds: float = 0.0
    #: view refreshes (scoring changed accounts into the view) and their time
    snapshots: int = 0
    snapshot_seconds: float = 0.0

    @property
    def us_per_event_decode(self) -> float:
        """Return µs of decoding per event."""
        return 1e6 * self.decode_seconds / self.events

    @property
    def us_per_event_apply(self) -> float:
        """Return µs per event of everything else: routing, apply, ticks' bookkeeping, saving, glue."""
        rest = self.seconds - self.decode_seconds - self.evaluation_seconds - self.fast_evaluation_seconds \
            - self.snapshot_seconds
        return 1e6 * rest / self.events

    @property
    def us_per_evaluation(self) -> float:
        """Return µs per full evaluation (None-safe: 0 when none ran)."""
        return 1e6 * self.evaluation_seconds / self.evaluations if self.evaluations else 0.0

    @property
    def evaluations_per_event(self) -> float:
        """Return full evaluations per event."""
        return self.evaluations / self.events

    def render(self) -> str:
        """Return the cost model as one line."""
        return (f"cost model: decode {self.us_per_event_decode:.2f} µs/event, apply and glue "
                f"{self.us_per_event_apply:.2f} µs/event, {self.evaluations_per_event:.3f} evaluations/event at "
                f"{self.us_per_evaluation:.2f} µs each ({self.fast_evaluations:,} fast-path calls, "
                f"{1e6 * self.fast_evaluation_seconds / self.events:.2f} µs/event), view refresh "
                f"{1e6 * self.snapshot_seconds / self.events:.2f} µs/event; timed run {self.seconds:.2f} s")


def instrument(processor: Any, engine: Engine, cost: CostModel) -> Callable[[], None]:
    """Time the processor's decode and view refresh, and the engine's evaluations; return an undo."""
    clock = time.perf_counter
    decode, refresh = processor.decode, processor.refresh_view
    stats = engine.stats = EvaluationStats(timed=True)

    def timed_decode(*args: Any) -> Any:
        t = clock()
        try:
            return decode(*args)
        finally:
            cost.decode_seconds += clock() - t

    async def timed_refresh(*args: Any) -> Any:
        t = clock()
        try:
            return await refresh(*args)
        finally:
            cost.snapshots += 1
            cost.snapshot_seconds += clock() - t

    processor.decode, processor.refresh_view = timed_decode, timed_refresh

    def undo() -> None:
        del processor.decode, processor.refresh_view
        engine.stats = None
        cost.evaluations, cost.evaluation_seconds = stats.full, stats.full_ns / 1e9
        cost.fast_evaluations, cost.fast_evaluation_seconds = stats.fast, stats.fast_ns / 1e9

    return undo


def _rss_bytes() -> int:
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def hold_live_accounts(samples: list[bytes], count: int) -> float:
    """Return the RSS growth per account of holding `count` live accounts built from `samples`."""
    gc.collect()
    before = _rss_bytes()
    states: dict[str, Any] = {}
    due: dict[str, int] = {}
    heap: list[tuple[int, str]] = []
    for i in range(count):
        state = state_from_bytes(samples[i % len(samples)])
        account_id = state.account_id = f"live-{i:07d}"
        states[account_id] = state
        due[account_id] = state.last_eval_ms + 3_600_000
        heap.append((due[account_id], account_id))
    gc.collect()
    return (_rss_bytes() - before) / count


def rss_bytes_per_live_account(samples: list[bytes], counts: tuple[int, ...] = (10_000, 100_000)) -> dict[int, float]:
    """Return the RSS growth per live account when `count` states (copies of `samples`) are held in memory.

    Each live account is what a worker keeps for it: its decoded `AccountState` in a dict, its next
    tick instant and its entry in the tick heap. The samples are real end-of-run states. Each count is
    measured in a fresh interpreter, so no memory freed by an earlier run is reused.
    """
    import subprocess
    import tempfile

    out: dict[int, float] = {}
    with tempfile.NamedTemporaryFile(suffix=".states") as f:
        f.write(orjson.dumps([s.hex() for s in samples]))
        f.flush()
        for count in counts:
            proc = subprocess.run([sys.executable, "-m", "healthmon.bench.inprocess", "--rss-of", f.name,
                                   "--rss-count", str(count)], capture_output=True, text=True, check=True)
            out[count] = float(proc.stdout.strip().splitlines()[-1])
    return out
