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

__all__ = ["crc32_partition", "produce_librdkafka", "run_repartitioned"]


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
                      workdir: Path, say: Callable[[str], None]) -> dict[str, Any]:
    """Time one worker on the dense workload produced direct (aiokafka) and by librdkafka (repartitioned)."""
    from healthmon.kafka.admin import ensure_topics

    direct, moved = settings("repart-direct", "repart-direct"), settings("repart-crc32", "repart-crc32")
    for s in (direct, moved):
        asyncio.run(ensure_topics(bootstrap, s.topics, s.kafka, app_id=s.worker.app_id))
    expect = opts.events + accounts

    def messages() -> Iterable[Message]:
        return single_messages(workload_records(opts.events, accounts, opts.seed, "dense"))

    away = sum(1 for _, key, _, _, _ in messages()
               if key is not None and crc32_partition(key, PARTITIONS) != partition_for(key.decode(), PARTITIONS))
    say(f"bench [repartitioned]: {opts.events:,} dense events + {accounts} profiles as single-event messages, "
        f"direct (aiokafka, murmur2) and by confluent-kafka (CRC32: {away:,} away from their account's partition)")
    sent_direct = asyncio.run(produce_messages(bootstrap, direct.topics.input_names, messages()))
    sent_moved = produce_librdkafka(bootstrap, moved.topics.input_names, messages())
    assert sent_direct.events == sent_moved.events == expect, (sent_direct, sent_moved, expect)
    timeout = 600 + expect / 1000
    runs = {}
    for name, s in (("direct_single", direct), ("repartitioned_single", moved)):
        say(f"bench [repartitioned]: {name}")
        run = run_pipeline([s], expect, workdir, f"repartitioned-{name}", profile=opts.profile,
                           stall_timeout_s=min(180.0, timeout))
        runs[name] = {"events": expect, "measured_events": run.events, "seconds": round(run.seconds, 3),
                      "events_per_s": round(run.events_per_s, 1), "peak_rss_bytes": run.peak_rss_bytes,
                      "outcomes": run.outcomes, "partition_rereads": run.partition_rereads}
        say(f"bench [repartitioned]: ... {run.events_per_s:,.0f} events/s, {run.partition_rereads} partition(s) "
            f"read again")
    from healthmon.bench.workload_runs import ratio

    return {"accounts": accounts, "input_events": expect, "messages_away_from_their_partition": away,
            "runs": runs, "direct_single_events_per_s": runs["direct_single"]["events_per_s"],
            "repartitioned_single_events_per_s": runs["repartitioned_single"]["events_per_s"],
            "ratio_repartitioned_to_direct_single": ratio(runs["repartitioned_single"]["events_per_s"],
                                                          runs["direct_single"]["events_per_s"]),
            "partition_rereads": runs["repartitioned_single"]["partition_rereads"]}
