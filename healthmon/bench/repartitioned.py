"""The `repartitioned` run: the dense workload produced by a librdkafka client, against the direct path.

librdkafka (confluent-kafka in Python, Go, .NET) places a keyed message by CRC32 of its key, where
healthmon (like Kafka's Java client and aiokafka) places accounts by murmur2: with a key as given, most
events land on a partition that does not own their account and go through the repartition topic. The
run produces the same single-event messages twice, once through aiokafka (every event direct) and once
through confluent-kafka with its default partitioner, and times one worker on each, one after the other
under the same load, so that their ratio stands even on a busy machine.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from healthmon.bench.options import PARTITIONS, BenchOptions
from healthmon.bench.pipeline import run_pipeline
from healthmon.bench.workload import Message, Produced, produce_messages, single_messages, workload_records
from healthmon.config import Settings
from healthmon.ingest import partition_for

__all__ = ["crc32_partition", "produce_librdkafka", "render_repartitioned", "run_repartitioned"]


def crc32_partition(key: bytes, partitions: int) -> int:
    """Return where librdkafka's default partitioner (`consistent_random`) places a keyed message."""
    import zlib

    return zlib.crc32(key) % partitions


def produce_librdkafka(bootstrap: str, topics: dict[str, str], messages: Iterable[Message]) -> Produced:
    """Send `messages` with confluent-kafka's default producer settings and partitioner (keys as given)."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap})
    out = Produced()
    started = time.monotonic()
    for kind, key, _partition, body, n in messages:
        while True:
            try:
                producer.produce(topics[kind], body, key=key)
                break
            except BufferError:  # the local queue is full: let it drain
                producer.poll(0.05)
        producer.poll(0)
        out.events += n
        out.messages += 1
    if producer.flush(120):
        raise RuntimeError("confluent-kafka: messages still unsent after 120 s")
    out.seconds = time.monotonic() - started
    return out


def run_repartitioned(opts: BenchOptions, accounts: int, settings: Callable[..., Settings], bootstrap: str,
                      workdir: Path, say: Callable[[str], None], rounds: int = 2) -> dict[str, Any]:
    """Time one worker on the dense workload produced direct (aiokafka) and by librdkafka (repartitioned).

    Each round times both, in turns (direct first, then repartitioned first, ...), each with a new app
    id on the same input: load that drifts during the run weighs on both sides alike.
    """
    from healthmon.kafka.admin import ensure_topics

    expect = opts.events + accounts

    def messages() -> Iterable[Message]:
        return single_messages(workload_records(opts.events, accounts, opts.seed, "dense"))

    away = sum(1 for _, key, _, _, _ in messages()
               if key is not None and crc32_partition(key, PARTITIONS) != partition_for(key.decode(), PARTITIONS))
    say(f"bench [repartitioned]: {opts.events:,} dense events + {accounts} profiles as single-event messages, "
        f"direct (aiokafka, murmur2) and by confluent-kafka (CRC32: {away:,} away from their account's partition)")
    inputs = {"direct": settings("repart-direct", "repart-direct-0"), "repartitioned": settings("repart-crc32",
                                                                                              "repart-crc32-0")}
    sent_direct = asyncio.run(produce_messages(bootstrap, inputs["direct"].topics.input_names, messages()))
    sent_moved = produce_librdkafka(bootstrap, inputs["repartitioned"].topics.input_names, messages())
    assert sent_direct.events == sent_moved.events == expect, (sent_direct, sent_moved, expect)
    timeout = 600 + expect / 1000
    runs: dict[str, list[dict[str, Any]]] = {"direct": [], "repartitioned": []}
    for n in range(rounds):
        order = ("direct", "repartitioned") if n % 2 == 0 else ("repartitioned", "direct")
        for side in order:
            topics = "repart-direct" if side == "direct" else "repart-crc32"
            s = settings(topics, f"{topics}-{n}")
            asyncio.run(ensure_topics(bootstrap, s.topics, s.kafka, app_id=s.worker.app_id))
            run = run_pipeline([s], expect, workdir, f"repartitioned-{side}-{n}", profile=opts.profile,
                               stall_timeout_s=min(180.0, timeout))
            runs[side].append({"round": n, "measured_events": run.events, "seconds": round(run.seconds, 3),
                               "events_per_s": round(run.events_per_s, 1), "peak_rss_bytes": run.peak_rss_bytes,
                               "outcomes": run.outcomes, "partition_rereads": run.partition_rereads})
            say(f"bench [repartitioned]: round {n + 1}, {side}: {run.events_per_s:,.0f} events/s, "
                f"{run.partition_rereads} partition(s) read again")
    from healthmon.bench.workload_runs import ratio

    def overall(side: str) -> float:
        """Return the side's events per second over all its rounds."""
        return round(sum(r["measured_events"] for r in runs[side]) / sum(r["seconds"] for r in runs[side]), 1)

    return {"accounts": accounts, "input_events": expect, "rounds": rounds,
            "messages_away_from_their_partition": away, "runs": runs,
            "direct_single_events_per_s": overall("direct"),
            "repartitioned_single_events_per_s": overall("repartitioned"),
            "ratio_repartitioned_to_direct_single": ratio(overall("repartitioned"), overall("direct")),
            "round_ratios": [ratio(r["events_per_s"], d["events_per_s"])
                             for r, d in zip(runs["repartitioned"], runs["direct"])],
            "partition_rereads": sum(r["partition_rereads"] for r in runs["repartitioned"] + runs["direct"])}


def render_repartitioned(result: dict[str, Any]) -> str:
    """Return the human-readable lines of a repartitioned run."""
    lines = [f"repartitioned: dense workload ({result['accounts']} accounts, {result['input_events']:,} events, "
             f"{result['messages_away_from_their_partition']:,} placed away from their account by CRC32)"]
    for side in ("direct", "repartitioned"):
        lines.append(f"  {side:<14} " + ", ".join(f"{r['events_per_s']:,.0f}" for r in result["runs"][side])
                     + f" events/s (all rounds: {result[side + '_single_events_per_s']:,.0f})")
    lines.append(f"  ratio repartitioned/direct: {result['ratio_repartitioned_to_direct_single']} "
                 f"(per round: {result['round_ratios']}); partitions read again: {result['partition_rereads']}")
    return "\n".join(lines)
