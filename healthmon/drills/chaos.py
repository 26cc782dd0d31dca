"""The chaos drill: three workers and random SIGKILLs, SIGTERMs, worker SIGSTOPs and broker pauses while input flows.

Seeded (`DrillConfig.seed`): the same seed draws the same faults, in the same order, with the same
durations, so a failing run can be repeated (the wall-clock moments they land on still vary).
Its reference is `Drills.live`: the same workers reading the same input sent the same way, with no fault.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from collections import Counter
from typing import TYPE_CHECKING, Any, Protocol

from healthmon.drills.compare import Outcome

if TYPE_CHECKING:
    from healthmon.bench.children import Child
    from healthmon.drills.harness import Broker, Run, RunOutputs
    from healthmon.generator import Record


class Drills(Protocol):
    """What the chaos drill needs of `healthmon.drills.scenarios.Drills`."""

    config: Any
    records: list[Any]
    broker: Broker

    def _run(self, name: str) -> Run: ...

    async def live(self) -> RunOutputs: ...

    async def _finish(self, run: Run, name: str, fault: str, fault_end: float, notes: list[str], *,
                      reference: RunOutputs | None = None) -> Outcome: ...

__all__ = ["FAULTS", "chaos", "send_steadily"]

FAULTS = ("sigkill", "sigterm", "worker-sigstop", "broker-pause")


async def send_steadily(run: Run, records: list[Record], seconds: float) -> None:
    """Send `records` spread evenly over `seconds`, a second's worth at a time."""
    per_second = max(1, int(len(records) / max(seconds, 1.0)))
    for start in range(0, len(records), per_second):
        began = time.monotonic()
        await run.send(records[start:start + per_second])
        await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - began)))


async def _restart_later(run: Run, delay_s: float) -> None:
    await asyncio.sleep(delay_s)
    await asyncio.to_thread(run.start_worker)


async def chaos(drills: Drills) -> Outcome:
    """Run the chaos drill (see the module docstring)."""
    config = drills.config
    rng = random.Random(config.seed)
    reference = await drills.live()
    run = drills._run("chaos")
    await run.create_topics()
    for _ in range(config.chaos_workers):
        await asyncio.to_thread(run.start_worker)
    sender = asyncio.create_task(send_steadily(run, drills.records, config.chaos_seconds))
    restarts: list[asyncio.Task[None]] = []
    log: list[str] = []
    struck: Counter[str] = Counter()
    began = time.monotonic()
    try:
        while not sender.done():
            await asyncio.wait({sender}, timeout=rng.uniform(*config.chaos_gap_seconds))
            if sender.done() or (config.chaos_faults is not None and sum(struck.values()) >= config.chaos_faults):
                break
            alive: list[Child] = [w for w in run.workers if w.alive()]
            fault = rng.choice(FAULTS)
            struck[fault] += 1
            at = f"{time.monotonic() - began:.0f}s"
            if fault == "broker-pause":
                pause = rng.uniform(8.0, 15.0)
                log.append(f"{at} broker paused {pause:.0f}s")
                drills.broker.pause()
                try:
                    await asyncio.sleep(pause)
                finally:
                    drills.broker.resume()
                continue
            if not alive:
                continue
            worker = rng.choice(alive)
            if fault == "sigkill":
                log.append(f"{at} SIGKILL")
                worker.proc.kill()
                worker.proc.wait(10)
                restarts.append(asyncio.create_task(_restart_later(run, rng.uniform(2.0, 5.0))))
            elif fault == "sigterm":
                log.append(f"{at} SIGTERM")
                await asyncio.to_thread(worker.stop, 30)
                restarts.append(asyncio.create_task(_restart_later(run, rng.uniform(2.0, 5.0))))
            else:
                frozen = rng.uniform(10.0, 20.0)
                log.append(f"{at} worker SIGSTOP {frozen:.0f}s")
                os.kill(worker.proc.pid, signal.SIGSTOP)
                try:
                    await asyncio.sleep(frozen)
                finally:
                    os.kill(worker.proc.pid, signal.SIGCONT)
        await sender
        await asyncio.gather(*restarts)
    finally:
        drills.broker.resume()
    while sum(w.alive() for w in run.workers) < config.chaos_workers:
        await asyncio.to_thread(run.start_worker)
    fault = (f"{config.chaos_workers} workers, input over {config.chaos_seconds:g} s; "
             + ", ".join(f"{struck[f]} {f}" for f in FAULTS) + f" (seed {config.seed})")
    return await drills._finish(run, "chaos", fault, time.monotonic(), [f"faults: {'; '.join(log) or 'none'}"],
                                reference=reference)
