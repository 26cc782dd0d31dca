"""The chaos drill: three workers and random SIGKILLs, SIGTERMs, worker SIGSTOPs and broker pauses while input flows.

Seeded (`DrillConfig.seed`): the same seed draws the same faults, in the same order, with the same
durations, so a failing run can be repeated (the wall-clock moments they land on still vary).
Its reference is `Drills.live`: the same workers reading the same input sent the same way, with no fault
(not the clean run, whose input is all on the broker before its one worker starts). Both run a policy
under which the traffic has no stall of its own (`stall_free_policy`): sent live, the drill's event time
runs tens of thousands of times faster than the wall clock, and whether a natural quiet spell of a sparse
source is announced as `ingest_stalled`, and at which stream-time instants it starts and resolves (and so
which activity alerts its hold-back keeps), is decided by the wall clock (`HEALTHMON_STALL_IDLE_SECONDS`)
and by how the reporting worker's partitions interleave: two calm runs differ there. With no natural
stall, an `ingest_stalled` in the chaos run is one that the faults caused.
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import signal
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import yaml

from healthmon.drills.compare import Outcome
from healthmon.ingest import partition_for

if TYPE_CHECKING:
    from healthmon.bench.children import Child
    from healthmon.drills.harness import Broker, Run, RunOutputs
    from healthmon.generator import Record


class Drills(Protocol):
    """What the chaos drill needs of `healthmon.drills.scenarios.Drills`."""

    config: Any
    records: list[Any]
    broker: Broker

    def live_run(self, name: str) -> Run: ...

    async def live(self) -> RunOutputs: ...

    async def _finish(self, run: Run, name: str, fault: str, fault_end: float, notes: list[str], *,
                      reference: RunOutputs | None = None) -> Outcome: ...

__all__ = ["FAULTS", "chaos", "longest_quiet_spells_ms", "send_steadily", "stall_free_policy"]

DAY_MS = 86_400_000

FAULTS = ("sigkill", "sigterm", "worker-sigstop", "broker-pause")


def longest_quiet_spells_ms(records: list[Record], partitions: int) -> dict[str, int]:
    """Return each input kind's longest stretch of event time with no event of it in some partition.

    A worker's stream time and each source's are those of the partitions it owns (`core.pipeline`), so a
    worker owning a few partitions sees its sources go quiet for as long as one partition's do, at most.
    """
    times = [r.occurred_at for r in records if r.occurred_at]
    if not times:
        return {}
    first, last = min(times), max(times)
    own: dict[tuple[str, int], list[int]] = {}
    for r in records:
        if r.occurred_at:
            own.setdefault((r.kind, partition_for(r.key, partitions)), []).append(r.occurred_at)
    spells: dict[str, int] = {}
    for (kind, _), at in own.items():
        bounded = [first, *sorted(at), last]
        spells[kind] = max(spells.get(kind, 0), *(b - a for a, b in zip(bounded, bounded[1:])))
    return spells


def stall_free_policy(records: list[Record], partitions: int, policy_file: Path,
                      path: Path) -> tuple[Path, dict[str, int]]:
    """Write `policy_file` to `path` with each watched source's `stale_after_seconds` above its longest quiet
    spell in `records` (whole days, a day more); return the path and the thresholds raised (source -> s)."""
    doc = yaml.safe_load(policy_file.read_text(encoding="utf-8"))
    spells = longest_quiet_spells_ms(records, partitions)
    raised = {}
    for source, limits in (doc.get("pipeline") or {}).get("sources", {}).items():
        spell_s = spells.get(source, 0) // 1000
        need = (math.ceil(spell_s * 1000 / DAY_MS) + 1) * DAY_MS // 1000
        if spell_s >= limits.get("stale_after_seconds", 0):
            limits["stale_after_seconds"] = raised[source] = need
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path, raised


async def send_steadily(run: Run, records: list[Record], seconds: float) -> None:
    """Send `records` spread evenly over `seconds`, a second's worth at a time."""
    per_second = max(1, int(len(records) / max(seconds, 1.0)))
    for start in range(0, len(records), per_second):
        began = time.monotonic()
        await run.send(records[start:start + per_second])
        await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - began)))


async def _restart_later(run: Run, delay_s: float, struck: set[int]) -> None:
    """Start a worker again after `delay_s`; one that a later fault strikes while it starts is not a failure.

    Faults pick among every live worker, a starting one included (a crash during start-up is a fault users
    meet too); the fault that struck it restarts one in its turn. `struck`: the pids the drill signalled.
    """
    await asyncio.sleep(delay_s)
    before = len(run.workers)
    try:
        await asyncio.to_thread(run.start_worker)
    except RuntimeError:
        if not any(w.proc.pid in struck and not w.alive() for w in run.workers[before:]):
            raise


async def chaos(drills: Drills) -> Outcome:
    """Run the chaos drill (see the module docstring)."""
    config = drills.config
    rng = random.Random(config.seed)
    reference = await drills.live()
    run = drills.live_run("chaos")
    await run.create_topics()
    for _ in range(config.chaos_workers):
        await asyncio.to_thread(run.start_worker)
    sender = asyncio.create_task(send_steadily(run, drills.records, config.chaos_seconds))
    restarts: list[asyncio.Task[None]] = []
    log: list[str] = []
    struck: Counter[str] = Counter()
    signalled: set[int] = set()  # pids of the workers a fault struck
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
            signalled.add(worker.proc.pid)
            if fault == "sigkill":
                log.append(f"{at} SIGKILL")
                worker.proc.kill()
                worker.proc.wait(10)
                restarts.append(asyncio.create_task(_restart_later(run, rng.uniform(2.0, 5.0), signalled)))
            elif fault == "sigterm":
                log.append(f"{at} SIGTERM")
                await asyncio.to_thread(worker.stop, 30)
                restarts.append(asyncio.create_task(_restart_later(run, rng.uniform(2.0, 5.0), signalled)))
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
