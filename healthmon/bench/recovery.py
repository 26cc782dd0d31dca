"""Recovery time: from a worker's start to `/readyz` 200 with many accounts already in the changelog, per store.

The changelog is filled directly (real end-of-run states of the sparse workload, copied under new
account ids, each on its murmur2 partition as the worker's own table writes them). Then, for each
store, a worker starts on it: `memory://` reads the whole changelog at every start; `rocksdb://` reads
it into its local database at its first start, and at a restart only what was written since.

    python -m healthmon.bench.recovery [--accounts 100000]   (also `healthmon bench --recovery`)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import orjson
from aiokafka import AIOKafkaProducer

from healthmon.bench.changelog import changelog_topic
from healthmon.bench.children import Child, settings_env, worker_command
from healthmon.bench.inprocess import run_inprocess
from healthmon.config import Settings
from healthmon.core import state_from_bytes, state_to_bytes
from healthmon.kafka.admin import ensure_topics
from healthmon.kafka.broker import EmbeddedBroker, free_port
from healthmon.kafka.connect import bootstrap_of
from healthmon.kafka.security import aiokafka_kwargs

__all__ = ["RecoveryRun", "fill_changelog", "recovery_summary", "run_recovery", "sample_states"]

PARTITIONS = 4
STORES = ("memory://", "rocksdb://")


@dataclass(frozen=True)
class RecoveryRun:
    """Seconds from process start to `/readyz` 200, for one store."""

    store: str
    first_start_s: float
    restart_s: float
    peak_rss_bytes: int
    #: accounts the store's local databases hold after the restart (None: the store keeps nothing on disk)
    local_accounts: int | None


def sample_states(accounts: int) -> list[bytes]:
    """Return `accounts` real states: the sparse workload's end-of-run states under new account ids.

    Their input offsets are cleared: they belong to the sample's own topics, and would make a new event
    on the bench's topics read as already applied.
    """
    samples = run_inprocess(20_000, 2_000, 42, 100, "sparse").state_samples
    out = []
    for i in range(accounts):
        state = state_from_bytes(samples[i % len(samples)])
        state.account_id = f"rec-{i:07d}"
        state.positions = {}
        out.append(state_to_bytes(state))
    return out


async def fill_changelog(settings: Settings, bootstrap: str, states: list[bytes]) -> None:
    """Write every state to the app's changelog, keyed and partitioned as the worker's table writes them."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=1 << 20,
                                **aiokafka_kwargs(settings.kafka))
    await producer.start()
    try:
        topic = changelog_topic(settings.worker.app_id)
        for raw in states:
            key = state_from_bytes(raw).account_id.encode()
            await producer.send(topic, raw, key=key)
        await producer.flush()
    finally:
        await producer.stop()


def _local_accounts(data_dir: Path) -> int:
    """Return how many accounts the RocksDB databases under `data_dir` hold."""
    from rocksdict import AccessType, Rdict

    count = 0
    for path in sorted(data_dir.glob("**/account-state-*.db")):
        db = Rdict(str(path), access_type=AccessType.read_only())
        try:
            count += sum(1 for key in db.keys() if isinstance(key, bytes) and key.startswith(b"rec-"))
        finally:
            db.close()
    return count


def _timed_start(settings: Settings, log: Path) -> tuple[float, Child]:
    started = time.monotonic()
    worker = Child(worker_command(), settings_env(settings), log, settings.http.port)
    worker.wait_ready(timeout_s=900)
    return time.monotonic() - started, worker


def run_recovery(accounts: int, workdir: Path, broker_url: str = "",
                 say=lambda line: None) -> list[RecoveryRun]:  # noqa: ANN001 - a print-like callable
    """Fill one changelog with `accounts` states, then time a first start and a restart on each store."""
    broker = None if broker_url else EmbeddedBroker(Settings().kafka.tansu_bin, log_path=workdir / "tansu.log").start()
    url = broker_url or broker.url  # type: ignore[union-attr]
    run_id = uuid.uuid4().hex[:6]
    try:
        base = Settings(kafka={"broker_url": url}, worker={"app_id": f"recovery-{run_id}", "log_level": "warning"},
                        topics={"prefix": f"recovery-{run_id}-", "partitions": PARTITIONS},
                        redis={"url": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
                               "prefix": f"recovery-{run_id}:"})
        bootstrap = bootstrap_of(url)
        asyncio.run(ensure_topics(bootstrap, base.topics, base.kafka))
        states = sample_states(accounts)
        started = time.monotonic()
        asyncio.run(fill_changelog(base, bootstrap, states))
        say(f"recovery: {accounts:,} states in the changelog ({sum(map(len, states)):,} bytes) in "
            f"{time.monotonic() - started:.1f} s")
        runs = []
        for store in STORES:
            settings = base.replace(store={"url": store, "data_dir": workdir / f"data-{store[:-3]}"},
                                    http={"port": free_port()})
            name = store[:-3]
            first_s, worker = _timed_start(settings, workdir / f"{name}-1.log")
            worker.stop()
            restart_s, worker = _timed_start(settings, workdir / f"{name}-2.log")
            worker.sample()
            worker.stop()
            local = _local_accounts(settings.store.data_dir) if name == "rocksdb" else None
            runs.append(RecoveryRun(store, round(first_s, 2), round(restart_s, 2), worker.peak_rss_bytes, local))
            say(f"recovery {store}: first start {first_s:.1f} s, restart {restart_s:.1f} s to /readyz 200"
                + ("" if local is None else f"; {local:,} accounts in its local databases"))
        return runs
    finally:
        if broker is not None:
            broker.stop()


def recovery_summary(runs: list[RecoveryRun], accounts: int) -> dict[str, object]:
    """Return the bench JSON keys: `recovery_seconds_<N>k_<store>` is the restart, the figure a deploy waits for."""
    out: dict[str, object] = {"recovery_accounts": accounts}
    size = f"{accounts // 1000}k" if accounts % 1000 == 0 else str(accounts)
    for run in runs:
        name = run.store[:-3]
        out[f"recovery_seconds_{size}_{name}"] = run.restart_s
        out[f"recovery_first_start_seconds_{size}_{name}"] = run.first_start_s
    return out


def main() -> None:
    """Run the recovery benchmark and print one line per store, then the JSON keys."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="healthmon-recovery-"))
    workdir.mkdir(parents=True, exist_ok=True)
    runs = run_recovery(args.accounts, workdir, Settings().kafka.broker_url, say=print)
    print(orjson.dumps(recovery_summary(runs, args.accounts)).decode())


if __name__ == "__main__":
    main()
