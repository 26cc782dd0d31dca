"""The pipeline's own ceiling: the processor over a bench workload in one process, no broker, no Redis.

`python -m healthmon.bench.inprocess [--events N] [--accounts N] [--workload sparse|dense|both] [--single]
[--profile]` feeds the workload's messages straight to `Processor.on_message` (decode, route, apply,
tick, alert) with a dict for the table and outputs that only count; it saves the states and refreshes
the (Redis-less) view on the worker's schedule (`commit_interval_seconds`, `view_accounts_per_second`).
It shows what our per-event code costs without Faust and Kafka.

With `--cost-model` it runs each workload a second time with timers around decoding, evaluations
and view refreshes (that run is not the one whose rate is printed), and measures the memory a live
account takes at 10,000 and 100,000 accounts.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import orjson
from healthmon.bench.workload import (WORKLOADS, dense_accounts, envelope_messages, single_messages,
                                      workload_records)
from healthmon.core import Engine, EngineConfig, PipelineClock, load_policy, state_from_bytes, state_to_bytes
from healthmon.core.engine import EvaluationStats
from healthmon.ingest import partition_for
from healthmon.serving.metrics import Metrics
from healthmon.serving.redis_view import RedisView
from streams.settings import Settings

__all__ = ["CostModel", "InProcessResult", "rss_bytes_per_live_account", "run_inprocess"]

PARTITIONS = 4


@dataclass
class _CountingTopic:
    sent: int = 0
    #: digest of what was sent, processing times left out (None: not kept)
    digest: Any = None

    async def send(self, key: bytes | None = None, value: bytes | None = None) -> None:
        self.sent += 1
        if self.digest is not None:
            doc = orjson.loads(value or b"null")
            doc.pop("processed_at", None)
            self.digest.update((key or b"") + orjson.dumps(doc, option=orjson.OPT_SORT_KEYS))


@dataclass
class _Topics:
    kind_by_name: dict[str, str]
    repartition: _CountingTopic = field(default_factory=_CountingTopic)
    alerts: _CountingTopic = field(default_factory=lambda: _CountingTopic(digest=hashlib.sha256()))
    deadletter: _CountingTopic = field(default_factory=_CountingTopic)


@dataclass
class InProcessResult:
    """What one in-process run measured."""

    events: int
    messages: int
    seconds: float
    alerts: int
    dead_letters: int
    table_writes: int
    #: sha256 of the alerts (processing times left out) and of the final states: equal input, equal digests
    alerts_digest: str
    states_digest: str
    #: what the time went to (only from a run with `cost_model=True`, whose clock includes the timers)
    cost: CostModel | None = None
    #: serialized final states, for memory measurements
    state_samples: list[bytes] = field(default_factory=list, repr=False)

    @property
    def events_per_s(self) -> float:
        """Return events per second."""
        return self.events / self.seconds


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


def _instrument(processor: Any, engine: Engine, cost: CostModel) -> Callable[[], None]:
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


def _hold_live_accounts(samples: list[bytes], count: int) -> float:
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


def run_inprocess(events: int, accounts: int, seed: int = 42, batch_size: int | None = 100,
                  workload: str = "sparse", cost_model: bool = False) -> InProcessResult:
    """Run a workload through a processor in this process; `batch_size` None sends single events."""
    from streams.processor import Processor

    settings = Settings(partitions=PARTITIONS, lateness_seconds=40 * 86_400, redis_url="")
    policy = load_policy(settings.policy_file)
    config = EngineConfig.from_settings(settings)
    engine = Engine(policy, config)
    metrics = Metrics()
    topics = _Topics({name: kind for kind, name in settings.input_topics.items()})
    table: dict[bytes, bytes] = {}
    clock = PipelineClock(policy, config, backlog=lambda source: False)
    processor = Processor(settings, engine, table, topics, metrics, RedisView("", "", metrics), clock,
                          tick_interval_ms=engine.tick_interval_ms)
    records = workload_records(events, accounts, seed, workload)
    if batch_size is None:
        messages = [(k, key, partition_for(key.decode(), PARTITIONS), body, n)
                    for k, key, _, body, n in single_messages(records)]
    else:
        messages = list(envelope_messages(records, PARTITIONS, batch_size))
    # The worker merges its inputs by record time; the workload is already in event-time order.
    names = settings.input_topics
    offsets: dict[tuple[str, int], int] = {}
    writes = 0

    async def go() -> None:
        # As in a worker: the view timer every second, the states saved at every commit.
        nonlocal writes
        next_view = next_commit = time.monotonic()
        for kind, key, partition, body, _ in messages:
            topic = names[kind]
            offset = offsets.get((topic, partition), 0)
            offsets[(topic, partition)] = offset + 1
            await processor.on_message(topic, partition, offset, key, body)
            now = time.monotonic()
            if now >= next_view:
                await processor.refresh_view(settings.view_accounts_per_second)
                next_view = now + 1.0
            if now >= next_commit:
                writes += processor.flush_states()
                next_commit = now + settings.commit_interval_seconds
        writes += processor.flush_states()
        await processor.refresh_view()

    total = sum(m[4] for m in messages)
    cost = CostModel(total, 0.0) if cost_model else None
    undo = _instrument(processor, engine, cost) if cost is not None else None
    started = time.perf_counter()
    asyncio.run(go())
    seconds = time.perf_counter() - started
    if undo is not None:
        undo()
        cost.seconds = seconds
    # The live states: the table may hold older ones where only unsaved clocks moved (by design).
    states = hashlib.sha256()
    samples = []
    for account_id in sorted(table):
        raw = state_to_bytes(processor.state_of(account_id.decode()))
        samples.append(raw)
        states.update(account_id + b"=" + raw)
    return InProcessResult(total, len(messages), seconds, topics.alerts.sent,
                           topics.deadletter.sent, writes, topics.alerts.digest.hexdigest()[:16],
                           states.hexdigest()[:16], cost, samples)


def _line(name: str, result: InProcessResult) -> str:
    return (f"{name}: {result.events:,} events in {result.messages:,} messages: {result.seconds:.2f} s, "
            f"{result.events_per_s:,.0f} events/s; {result.alerts:,} alerts, {result.dead_letters:,} dead letters, "
            f"{result.table_writes:,} table writes; digests alerts {result.alerts_digest} states {result.states_digest}")


def run_workloads(events: int, accounts: int, seed: int = 42, workloads: tuple[str, ...] = WORKLOADS,
                  batch_size: int | None = 100, cost_model: bool = True,
                  say: Callable[[str], None] = lambda line: None) -> dict[str, Any]:
    """Run each workload (timed, then with the cost model's timers); return the figures the bench reports."""
    out: dict[str, Any] = {}
    samples: list[bytes] = []
    for name in workloads:
        n_accounts = accounts if name == "sparse" else dense_accounts(events)
        result = run_inprocess(events, n_accounts, seed, batch_size, name)
        say(_line(f"in-process {name} ({n_accounts:,} accounts)", result))
        fig: dict[str, Any] = {"accounts": n_accounts, "events": result.events, "messages": result.messages,
                               "seconds": round(result.seconds, 3), "events_per_s": round(result.events_per_s, 1),
                               "alerts": result.alerts, "alerts_digest": result.alerts_digest,
                               "states_digest": result.states_digest}
        if cost_model:
            cost = run_inprocess(events, n_accounts, seed, batch_size, name, cost_model=True).cost
            assert cost is not None
            say(f"  {cost.render()}")
            fig.update(us_per_event_decode=round(cost.us_per_event_decode, 3),
                       us_per_event_apply=round(cost.us_per_event_apply, 3),
                       us_per_evaluation=round(cost.us_per_evaluation, 3),
                       evaluations_per_event=round(cost.evaluations_per_event, 4))
        if name == "sparse":
            samples = result.state_samples
        out[name] = fig
    if cost_model and samples:
        rss = rss_bytes_per_live_account(samples)
        out["rss_bytes_per_account"] = {str(k): round(v) for k, v in rss.items()}
        say("RSS per live account (sparse end-of-run states): "
            + ", ".join(f"{v:,.0f} B at {k:,} accounts" for k, v in rss.items()))
    return out


def main(argv: list[str] | None = None) -> None:
    """Run from the command line and print one line of figures per workload."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=2_000, help="accounts of the sparse workload")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workload", choices=(*WORKLOADS, "both"), default="both")
    parser.add_argument("--single", action="store_true", help="one event per message instead of envelopes")
    parser.add_argument("--cost-model", action="store_true",
                        help="also run each workload with timers, and measure RSS per live account")
    parser.add_argument("--profile", action="store_true", help="run under pyinstrument and print its tree")
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    parser.add_argument("--rss-of", help=argparse.SUPPRESS)  # a file of sample states: print RSS per account
    parser.add_argument("--rss-count", type=int, default=100_000, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_of:
        with open(args.rss_of, "rb") as f:
            samples = [bytes.fromhex(h) for h in orjson.loads(f.read())]
        print(_hold_live_accounts(samples, args.rss_count))
        return
    batch = None if args.single else 100
    workloads = WORKLOADS if args.workload == "both" else (args.workload,)
    if args.profile:
        from pyinstrument import Profiler

        for name in workloads:
            n_accounts = args.accounts if name == "sparse" else dense_accounts(args.events)
            with Profiler(interval=0.0005) as profiler:
                result = run_inprocess(args.events, n_accounts, args.seed, batch, name)
            profiler.print(file=sys.stderr, show_all=False)
            print(_line(name, result))
        return
    figures = run_workloads(args.events, args.accounts, args.seed, workloads, batch, args.cost_model, say=print)
    if args.json:
        print(orjson.dumps(figures).decode())


if __name__ == "__main__":
    main()
