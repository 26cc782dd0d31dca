"""Event-to-alert latency at a steady offered load, measured with probe accounts.

Background accounts send usage events at the offered rate, stamped with the wall clock: as single
messages, or (`envelopes=True`) as what an ingestion gateway sends, one envelope per partition every
10 ms. Probe
accounts (1 seat, one active user of a core feature: score 100, green) are set up first. Then every
`1 / probes_per_s` seconds one probe account gets an urgent ticket; under the benchmark policy
(`latency-policy.yaml`: 1 s evaluation interval, no warm-up, dwell or cooldown, a heavy weight on
open urgent tickets) the next evaluation turns it yellow and a `health_changed` alert fires. The
latency is the time that alert is read from the alerts topic minus the time the ticket was sent.
The engine decides at evaluation-interval boundaries of event time (so that replays are
deterministic), so part of it is the wait for the next boundary; `after_boundary` is the rest.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from healthmon.bench.children import Child, settings_env, worker_command
from healthmon.config import Settings
from healthmon.ingest import partition_for
from healthmon.kafka.security import aiokafka_kwargs

__all__ = ["LATENCY_POLICY", "LatencyRun", "percentile", "run_latency"]

LATENCY_POLICY = Path(__file__).resolve().parent / "latency-policy.yaml"
INTERVAL_MS = 1000  # evaluation_interval_seconds of LATENCY_POLICY
#: Background load before the first probe, so every probe account has been evaluated green first.
WARMUP_S = 3.0
#: Background load after the last probe: evaluations follow stream time, so without events after it
#: the last probes' boundary would never be crossed and their alerts never decided.
TAIL_S = 2 * INTERVAL_MS / 1000


@dataclass
class LatencyRun:
    """Probe latencies in seconds."""

    rate: float
    seconds: float
    sent_events: int
    probes: int
    total_s: list[float] = field(default_factory=list)
    after_boundary_s: list[float] = field(default_factory=list)
    peak_rss_bytes: int = 0


def percentile(values: list[float], q: float) -> float | None:
    """Return the q-quantile (0..1) of `values` by the nearest-rank method (None if empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 1))))
    return ordered[rank - 1]


def _profile(account_id: str, seats: int, tier: str) -> bytes:
    return orjson.dumps({"account_id": account_id, "name": account_id, "tier": tier, "seats": seats,
                         "arr": 10_000.0, "csm": "bench", "contract_start": "2025-01-01",
                         "renewal_date": "2027-01-01"})


def _ticket(account_id: str, at_ms: int) -> bytes:
    return orjson.dumps({"event_id": f"{account_id}-t", "ticket_id": f"{account_id}-t", "account_id": account_id,
                         "status": "opened", "priority": "urgent", "occurred_at": at_ms})


def _usage(account_id: str, n: int, user: int, at_ms: int) -> bytes:
    return orjson.dumps({"event_id": f"{account_id}-{n}", "account_id": account_id, "user_id": f"u{user}",
                         "feature": "reports", "occurred_at": at_ms})


async def _collect(consumer: AIOKafkaConsumer, sent: dict[str, tuple[float, int]], got: dict[str, float],
                   stop: asyncio.Event) -> None:
    while not stop.is_set():
        batch = await consumer.getmany(timeout_ms=20)
        now = time.time()
        for records in batch.values():
            for record in records:
                alert = orjson.loads(record.value)
                account = alert.get("account_id")
                # Only the alert the probe's ticket causes: set-up alerts come before it is sent.
                if account in sent and account not in got and alert.get("kind") == "health_changed" \
                        and alert.get("status") == "firing":
                    got[account] = now


async def _drive(settings: Settings, bootstrap: str, worker: Child, rate: float, seconds: float,
                 probes_per_s: float, background_accounts: int, envelopes: bool) -> LatencyRun:
    run = uuid.uuid4().hex[:6]
    topics = settings.topics.input_names
    background = [f"bg-{run}-{i}" for i in range(background_accounts)]
    n_probes = int(seconds * probes_per_s)
    probes = [f"probe-{run}-{i}" for i in range(n_probes)]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False, acks=1, linger_ms=2,
                                **aiokafka_kwargs(settings.kafka))
    consumer = AIOKafkaConsumer(settings.topics.alerts_name, bootstrap_servers=bootstrap,
                                group_id=f"bench-latency-{run}", auto_offset_reset="earliest",
                                enable_auto_commit=False, fetch_max_wait_ms=20, **aiokafka_kwargs(settings.kafka))
    await producer.start()
    await consumer.start()
    stop = asyncio.Event()
    got: dict[str, float] = {}
    sent: dict[str, tuple[float, int]] = {}
    collector = asyncio.create_task(_collect(consumer, sent, got, stop))
    out = LatencyRun(rate, seconds, 0, n_probes)
    try:
        # 1 seat and one active user of a core feature: score 100, green, and no warning line.
        now_ms = time.time_ns() // 1_000_000
        setup = [(topics["account"], a, _profile(a, 1, "standard" if a in background else "key"))
                 for a in background + probes]
        setup += [(topics["usage"], p, _usage(p, 0, 0, now_ms)) for p in probes]
        for topic, account, body in setup:
            await producer.send(topic, body, key=account.encode())
        await producer.flush()
        deadline = time.monotonic() + 60
        while worker.events_total() < len(setup):
            if time.monotonic() > deadline:
                raise RuntimeError(f"latency: set-up not processed:\n{worker.log_tail()}")
            await asyncio.sleep(0.2)
        started = time.monotonic()
        slot_s = 0.01
        n = 0
        next_probe = 0
        while True:
            elapsed = time.monotonic() - started
            if elapsed >= seconds + WARMUP_S + TAIL_S:
                break
            # Send what the offered rate owes by now, probes at their own pace among the background.
            owed = int(elapsed * rate) + 1 - n
            batches: dict[int, list[bytes]] = {}
            for _ in range(max(0, owed)):
                now_ms = time.time_ns() // 1_000_000
                if next_probe < n_probes and (elapsed - WARMUP_S) * probes_per_s >= next_probe:
                    account = probes[next_probe]
                    next_probe += 1
                    sent[account] = (time.time(), now_ms)
                    await producer.send(topics["ticket"], _ticket(account, now_ms), key=account.encode())
                else:
                    account = background[n % background_accounts]
                    body = _usage(account, n, n // background_accounts % 40, now_ms)
                    if envelopes:
                        batches.setdefault(partition_for(account, settings.topics.partitions), []).append(body)
                    else:
                        await producer.send(topics["usage"], body, key=account.encode())
                n += 1
            for partition, bodies in batches.items():
                await producer.send(topics["usage"], b'{"events":[' + b",".join(bodies) + b"]}",
                                    partition=partition)
            worker.sample()
            await asyncio.sleep(slot_s)
        out.sent_events = n
        await producer.flush()
        grace = time.monotonic() + 10
        while len(got) < len(sent) and time.monotonic() < grace:
            worker.sample()
            await asyncio.sleep(0.1)
        for account, (sent_s, at_ms) in sent.items():
            if account in got:
                out.total_s.append(got[account] - sent_s)
                boundary_ms = at_ms - at_ms % INTERVAL_MS + INTERVAL_MS
                out.after_boundary_s.append(got[account] - (sent_s + (boundary_ms - at_ms) / 1000))
        out.probes = len(sent)
    finally:
        stop.set()
        await collector
        await consumer.stop()
        await producer.stop()
    return out


def run_latency(settings: Settings, bootstrap: str, workdir: Path, *, rate: float, seconds: float,
                envelopes: bool = True, probes_per_s: float = 10.0, background_accounts: int = 1000) -> LatencyRun:
    """Start a fresh worker under the benchmark policy and measure probe latencies at `rate` events/s."""
    worker = Child(worker_command(), settings_env(settings), workdir / "latency.log", settings.http.port)
    try:
        worker.wait_ready()
        out = asyncio.run(_drive(settings, bootstrap, worker, rate, seconds, probes_per_s, background_accounts,
                                 envelopes))
        out.peak_rss_bytes = worker.peak_rss_bytes
        return out
    finally:
        worker.stop()
