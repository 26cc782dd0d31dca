"""Time real `healthmon worker` processes through a topic set, from the first event to the last."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from healthmon.bench.children import Child, settings_env, worker_command
from healthmon.config import Settings

__all__ = ["PipelineRun", "run_pipeline"]

POLL_S = 0.5
_OUTCOME = re.compile(rb'^healthmon_events_total\{[^}]*outcome="([a-z_]+)"[^}]*\} (\S+)$', re.M)
_REREADS = re.compile(rb'^healthmon_partition_rereads_total\{[^}]*\} (\S+)$', re.M)


@dataclass
class PipelineRun:
    """The measured part of a run of one or more workers."""

    events: int
    seconds: float
    peak_rss_bytes: int
    outcomes: dict[str, int] = field(default_factory=dict)
    per_worker_events: list[int] = field(default_factory=list)
    #: partitions the stuck-partition watch read again (a safety net: 0 in a healthy run)
    partition_rereads: int = 0
    #: the workers' CPU seconds (user + system) from the first poll that saw events to the last one, and the
    #: events counted between those polls: a cost per event that other load on the machine barely moves
    cpu_seconds: float = 0.0
    cpu_events: int = 0
    #: each worker's CPU seconds over those polls, and the wall-clock seconds between them: a worker near 1 CPU
    #: second per second was saturated, one well below it waited (for the broker, the other worker, the cores)
    per_worker_cpu_seconds: list[float] = field(default_factory=list)
    cpu_wall_seconds: float = 0.0

    @property
    def cpu_us_per_event(self) -> float:
        """Return the workers' CPU microseconds per event over the measured polls."""
        return self.cpu_seconds / self.cpu_events * 1e6 if self.cpu_events > 0 else 0.0

    @property
    def events_per_s(self) -> float:
        """Return the throughput over the measured part."""
        return self.events / self.seconds if self.seconds > 0 else 0.0


def _outcomes(child: Child) -> dict[str, int]:
    status, body = child.get("/metrics")
    out: dict[str, int] = {}
    if status == 200:
        for outcome, value in _OUTCOME.findall(body):
            out[outcome.decode()] = out.get(outcome.decode(), 0) + int(float(value))
    return out


def _rereads(child: Child) -> int:
    status, body = child.get("/metrics")
    return sum(int(float(v)) for v in _REREADS.findall(body)) if status == 200 else 0


def run_pipeline(settings: list[Settings], expect: int, workdir: Path, name: str, *,
                 before_data: Callable[[], None] | None = None, profile: bool = False,
                 stall_timeout_s: float = 180.0) -> PipelineRun:
    """Start one worker per settings object, wait until `expect` events are counted, stop them.

    The clock starts at the first poll that sees any event counted, so start-up, the group join and
    table recovery are left out; the end is interpolated between the last two polls.
    `before_data` runs once every worker is ready (it may produce the input then).
    """
    workers: list[Child] = []
    try:
        for i, s in enumerate(settings):
            prof = workdir / f"{name}-{i}.profile.txt" if profile else None
            workers.append(Child(worker_command(prof), settings_env(s), workdir / f"{name}-{i}.log", s.http.port))
        for w in workers:
            w.wait_ready()
        if before_data is not None:
            before_data()
        first: tuple[float, float] | None = None
        cpu_first: list[float] = []
        prev = (time.perf_counter(), 0.0)
        progress_at = prev[0]
        while True:
            time.sleep(POLL_S)
            for w in workers:
                w.sample()
                if not w.alive():
                    raise RuntimeError(f"{name}: worker exited with {w.proc.returncode}:\n{w.log_tail()}")
            now = time.perf_counter()
            total = sum(w.events_total() for w in workers)
            if total > prev[1]:
                progress_at = now
            elif now - progress_at > stall_timeout_s:
                raise RuntimeError(f"{name}: stuck at {total:.0f} of {expect} events:\n{workers[0].log_tail()}")
            if first is None and total > 0:
                first = (now, total)
                cpu_first = [w.cpu_seconds() for w in workers]
            if total >= expect:
                t_prev, c_prev = prev
                done = t_prev + (expect - c_prev) / (total - c_prev) * (now - t_prev)
                assert first is not None
                t1, c1 = first
                if done <= t1:  # everything went through within one poll: no better estimate
                    t1, c1 = t_prev, c_prev
                seconds = max(done - t1, 1e-6)
                measured = expect - c1
                per_worker_cpu = [w.cpu_seconds() - c0 for w, c0 in zip(workers, cpu_first)]
                cpu_events = int(total - first[1])
                cpu_wall = now - first[0]
                break
            prev = (now, total)
        outcomes: dict[str, int] = {}
        per_worker = []
        rereads = 0
        for w in workers:
            per_worker.append(int(w.events_total()))
            rereads += _rereads(w)
            for k, v in _outcomes(w).items():
                outcomes[k] = outcomes.get(k, 0) + v
        return PipelineRun(int(measured), seconds, max(w.peak_rss_bytes for w in workers), outcomes, per_worker,
                           rereads, sum(per_worker_cpu), cpu_events, per_worker_cpu, cpu_wall)
    finally:
        for w in workers:
            w.stop()
