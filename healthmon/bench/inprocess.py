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
import hashlib
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson

from healthmon.bench.costmodel import CostModel, hold_live_accounts, instrument, rss_bytes_per_live_account
from healthmon.bench.workload import (
    DORMANT,
    WORKLOADS,
    dense_accounts,
    envelope_messages,
    single_messages,
    workload_policy,
    workload_records,
)
from healthmon.config import Settings
from healthmon.core import Engine, EngineConfig, PipelineClock, load_policy, state_to_bytes
from healthmon.core.engine_config import EvaluationStats
from healthmon.generator import Record
from healthmon.ingest import partition_for
from healthmon.serving.metrics import Metrics
from healthmon.serving.redis_view import RedisView

__all__ = ["InProcessResult", "run_inprocess", "run_workloads"]

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
    scores: _CountingTopic = field(default_factory=_CountingTopic)


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
    #: evaluations made, full and fast-path
    evaluations: int = 0
    #: sha256 of what the view shows of each account at its partition's stream time (score, band, trends)
    views_digest: str = ""

    @property
    def events_per_s(self) -> float:
        """Return events per second."""
        return self.events / self.seconds


def run_inprocess(events: int, accounts: int, seed: int = 42, batch_size: int | None = 100,
                  workload: str = "sparse", cost_model: bool = False, *, records: Iterable[Record] | None = None,
                  policy_file: Path | None = None, skip_quiet: bool = True) -> InProcessResult:
    """Run a workload (or `records`) through a processor in this process; `batch_size` None sends single events.

    `policy_file` defaults to the workload's: the purchases example for `dormant`, else HEALTHMON_POLICY_FILE
    or the default policy. `skip_quiet` False ticks every known account at least daily, the reference the
    skipped evaluations are compared with.
    """
    from healthmon.pipeline import Processor

    engine_section: dict[str, Any] = {"lateness_seconds": 40 * 86_400}
    if policy_file is not None or workload == DORMANT:  # else HEALTHMON_POLICY_FILE, or the default policy
        engine_section["policy_file"] = policy_file or workload_policy(workload)
    settings = Settings(topics={"partitions": PARTITIONS}, engine=engine_section, redis={"url": ""})
    policy = load_policy(settings.engine.policy_file)
    config = replace(EngineConfig.from_settings(settings.engine, score_records=bool(settings.topics.scores)),
                     skip_quiet=skip_quiet)
    engine = Engine(policy, config)
    engine.stats = EvaluationStats(timed=False)
    metrics = Metrics()
    topics = _Topics({name: kind for kind, name in settings.topics.input_names.items()})
    table: dict[bytes, bytes] = {}
    clock = PipelineClock(policy, config, backlog=lambda source: False)
    processor = Processor(settings, engine, table, topics, metrics, RedisView("", "", metrics), clock,
                          tick_interval_ms=engine.tick_interval_ms)
    records = records if records is not None else workload_records(events, accounts, seed, workload)
    if batch_size is None:
        messages = [(k, key, partition_for((key or b"").decode(), PARTITIONS), body, n)
                    for k, key, _, body, n in single_messages(records)]
    else:
        messages = [(k, key, partition or 0, body, n)  # envelopes always name their partition
                    for k, key, partition, body, n in envelope_messages(records, PARTITIONS, batch_size)]
    # The worker merges its inputs by record time; the workload is already in event-time order.
    names = settings.topics.input_names
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
                await processor.refresh_view(settings.worker.view_accounts_per_second)
                next_view = now + 1.0
            if now >= next_commit:
                writes += processor.flush_states()
                next_commit = now + settings.worker.commit_interval_seconds
        writes += processor.flush_states()
        await processor.refresh_view()

    total = sum(m[4] for m in messages)
    cost = CostModel(total, 0.0) if cost_model else None
    undo = instrument(processor, engine, cost) if cost is not None else None
    counted = engine.stats
    started = time.perf_counter()
    asyncio.run(go())
    seconds = time.perf_counter() - started
    if cost is not None and undo is not None:
        undo()
        cost.seconds = seconds
    # The live states as of their partition's stream time: the table may hold older ones where only unsaved
    # clocks moved, and a quiet account's windows roll on only when it is read (both by design). The last
    # evaluation instant is left out of the digest: it is all that skipped evaluations leave behind.
    views = hashlib.sha256()
    for account_id in sorted(table):
        held = processor.state_of(account_id.decode())
        assert held is not None  # every account in the table has a state
        shown = engine.snapshot(held, processor.stream_time(account_id.decode()))
        views.update(orjson.dumps([shown[k] for k in ("account_id", "score", "band", "score_7d_ago", "score_30d_ago",
                                                       "alert_band", "firing")]))
    processor.catch_up_states()
    states = hashlib.sha256()
    samples = []
    for account_id in sorted(table):
        state = processor.state_of(account_id.decode())
        assert state is not None  # every account in the table has a state
        raw = state_to_bytes(state)
        samples.append(raw)
        last, state.last_eval_ms = state.last_eval_ms, 0
        states.update(account_id + b"=" + state_to_bytes(state))
        state.last_eval_ms = last
    evaluations = counted.full + counted.fast if isinstance(counted, EvaluationStats) else 0
    return InProcessResult(total, len(messages), seconds, topics.alerts.sent,
                           topics.deadletter.sent, writes, topics.alerts.digest.hexdigest()[:16],
                           states.hexdigest()[:16], cost, samples, evaluations, views.hexdigest()[:16])


def _line(name: str, result: InProcessResult) -> str:
    return (f"{name}: {result.events:,} events in {result.messages:,} messages: {result.seconds:.2f} s, "
            f"{result.events_per_s:,.0f} events/s; {result.alerts:,} alerts, {result.dead_letters:,} dead letters, "
            f"{result.table_writes:,} table writes; "
            f"digests alerts {result.alerts_digest} states {result.states_digest}")


def run_workloads(events: int, accounts: int, seed: int = 42, workloads: tuple[str, ...] = WORKLOADS,
                  batch_size: int | None = 100, cost_model: bool = True,
                  say: Callable[[str], None] = lambda line: None) -> dict[str, Any]:
    """Run each workload (timed, then with the cost model's timers); return the figures the bench reports."""
    out: dict[str, Any] = {}
    samples: list[bytes] = []
    for name in workloads:
        n_accounts = accounts if name == "sparse" else dense_accounts(events)
        # the worker evaluates daily (`healthmon.worker`); the dormant workload is a replay, which skips
        result = run_inprocess(events, n_accounts, seed, batch_size, name, skip_quiet=name == DORMANT)
        say(_line(f"in-process {name} ({n_accounts:,} accounts)", result))
        fig: dict[str, Any] = {"accounts": n_accounts, "events": result.events, "messages": result.messages,
                               "seconds": round(result.seconds, 3), "events_per_s": round(result.events_per_s, 1),
                               "alerts": result.alerts, "alerts_digest": result.alerts_digest,
                               "states_digest": result.states_digest}
        if cost_model:
            cost = run_inprocess(events, n_accounts, seed, batch_size, name, cost_model=True,
                                 skip_quiet=name == DORMANT).cost
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
        print(hold_live_accounts(samples, args.rss_count))
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
