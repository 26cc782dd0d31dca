"""Takeover time: how long after a worker's SIGKILL its partitions' accounts move again, with and without standbys.

Two workers of one group share a changelog filled with many accounts' states (the recovery bench's
real states). One probe account per partition gets a usage event and both workers' views show it.
Then one worker is SIGKILLed and a second round of probes is sent at once. The takeover time runs from
the kill until the survivor has consumed every probe of the second round (its event counter). It holds
the group's session timeout (the broker notices the death), the rebalance, and the survivor's reading
of the dead worker's changelog partitions, which a standby replica (`HEALTHMON_STANDBY_REPLICAS=1`) has
read already. The view time runs until `/accounts/{id}` shows them (`as_of`): the new owner also pushes
every account it took over to the view, at `HEALTHMON_VIEW_ACCOUNTS_PER_SECOND`.

    python -m healthmon.bench.takeover [--accounts 100000]   (also `healthmon bench --takeover N`)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson
from aiokafka import AIOKafkaProducer

from healthmon.bench.children import Child, settings_env, worker_command
from healthmon.bench.recovery import fill_changelog, sample_states
from healthmon.config import Settings
from healthmon.core import state_from_bytes
from healthmon.ingest.routing import partition_for
from healthmon.kafka.admin import ensure_topics
from healthmon.kafka.broker import EmbeddedBroker, free_port
from healthmon.kafka.connect import bootstrap_of
from healthmon.kafka.security import aiokafka_kwargs

__all__ = ["TakeoverRun", "probe_accounts", "run_takeover", "takeover_summary"]

PARTITIONS = 4
STANDBYS = (0, 1)
#: longest a worker may take to start, or the survivor to take over, before the run is a failure
TIMEOUT_S = 900.0


@dataclass(frozen=True)
class TakeoverRun:
    """One kill-and-takeover, at one standby setting."""

    standby_replicas: int
    #: from the second worker's start until both answered /readyz and the first probes were applied
    join_s: float
    #: from the SIGKILL until the survivor had consumed every probe sent after it (its event counter)
    takeover_s: float
    #: from the SIGKILL until the view showed every probe sent after it (`as_of` in `/accounts/{id}`)
    takeover_view_s: float
    #: partitions the killed worker owned (its share of the first probes)
    victim_partitions: int


def probe_accounts(account_ids: list[str], partitions: int) -> list[str]:
    """Return the first account of each partition (by the worker's own partitioner), in partition order."""
    first: dict[int, str] = {}
    for account in account_ids:
        first.setdefault(partition_for(account, partitions), account)
        if len(first) == partitions:
            break
    if len(first) < partitions:
        raise ValueError(f"{len(account_ids)} accounts do not cover {partitions} partitions")
    return [first[p] for p in sorted(first)]


async def _send_probes(settings: Settings, bootstrap: str, accounts: list[str], at_ms: int, round_no: int) -> None:
    """Send one usage event per probe account, dated `at_ms`."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **aiokafka_kwargs(settings.kafka))
    await producer.start()
    try:
        topic = settings.topics.input_names["usage"]
        for account in accounts:
            event = {"event_id": f"probe-{round_no}-{account}", "account_id": account, "user_id": "probe",
                     "feature": "probe", "occurred_at": at_ms}
            await producer.send_and_wait(topic, orjson.dumps(event), key=account.encode())
    finally:
        await producer.stop()


def _applied(worker: Child, accounts: list[str], at_ms: int) -> bool:
    """Return whether the view shows every probe account evaluated at or after `at_ms`."""
    for account in accounts:
        status, body = worker.get(f"/accounts/{account}")
        if status != 200 or int(orjson.loads(body)["account"].get("as_of") or 0) < at_ms:
            return False
    return True


def _wait_until(worker: Child, done: Callable[[], bool], what: str, started: float) -> float:
    """Block until `done()` holds, while `worker` lives; return the seconds since `started`."""
    while not done():
        if not worker.alive():
            raise RuntimeError(f"worker exited with {worker.proc.returncode}:\n{worker.log_tail()}")
        if time.monotonic() - started > TIMEOUT_S:
            raise RuntimeError(f"{what} not in {TIMEOUT_S:.0f} s:\n{worker.log_tail()}")
        time.sleep(0.1)
    return time.monotonic() - started


def _wait_idle(workers: list[Child], started: float, busy_share: float = 0.1, span_s: float = 2.0) -> None:
    """Block until every worker used under `busy_share` of a core over `span_s`: standbys have read their partitions.

    A standby replica reads its changelog partitions in the background after the worker is ready; a kill
    before it caught up would time a cold takeover. Reading is CPU-bound, so idle workers have caught up.
    """
    while True:
        before = [w.cpu_seconds() for w in workers]
        time.sleep(span_s)
        used = [w.cpu_seconds() - b for w, b in zip(workers, before, strict=True)]
        if max(used) < busy_share * span_s:
            return
        if time.monotonic() - started > TIMEOUT_S:
            raise RuntimeError(f"workers still busy after {TIMEOUT_S:.0f} s (CPU seconds per {span_s} s: {used})")


def _one_run(base: Settings, bootstrap: str, states: list[bytes], standby: int, workdir: Path,
             say: Callable[[str], None]) -> TakeoverRun:
    """Fill a changelog of its own, start two workers, kill one, and time the survivor's takeover."""
    run_id = uuid.uuid4().hex[:6]
    settings = base.replace(worker={"app_id": f"takeover-{run_id}"},
                            topics={"prefix": f"takeover-{run_id}-"}, redis={"prefix": f"takeover-{run_id}:"},
                            store={"standby_replicas": standby, "data_dir": workdir / f"data-{run_id}"})
    asyncio.run(ensure_topics(bootstrap, settings.topics, settings.kafka))
    asyncio.run(fill_changelog(settings, bootstrap, states))
    decoded = [state_from_bytes(raw) for raw in states]
    probes = probe_accounts([s.account_id for s in decoded], settings.topics.partitions)
    # Probes are dated just after the latest saved event, so no account is evaluated across many days.
    first_ms = max(s.clock_ms for s in decoded) + 1_000
    victim_settings = settings.replace(http={"port": free_port()})
    survivor_settings = settings.replace(http={"port": free_port()})
    victim = Child(worker_command(), settings_env(victim_settings), workdir / f"standby{standby}-victim.log",
                   victim_settings.http.port)
    survivor = None
    try:
        victim.wait_ready(timeout_s=TIMEOUT_S)
        started = time.monotonic()
        survivor = Child(worker_command(), settings_env(survivor_settings),
                         workdir / f"standby{standby}-survivor.log", survivor_settings.http.port)
        survivor.wait_ready(timeout_s=TIMEOUT_S)
        asyncio.run(_send_probes(settings, bootstrap, probes, first_ms, 1))
        join_s = _wait_until(survivor, lambda: _applied(survivor, probes, first_ms), "first probes applied", started)
        say(f"takeover standby={standby}: two workers ready and the first probes applied in {join_s:.1f} s")
        _wait_idle([victim, survivor], started)
        victim_partitions = int(victim.events_total())
        if victim_partitions == 0:
            raise RuntimeError("the worker to kill owns no partition: a kill would time nothing")
        counted = survivor.events_total()
        victim.proc.kill()
        killed = time.monotonic()
        asyncio.run(_send_probes(settings, bootstrap, probes, first_ms + 1_000, 2))
        takeover_s = _wait_until(survivor, lambda: survivor.events_total() >= counted + len(probes),
                                 "probes after the kill counted", killed)
        view_s = _wait_until(survivor, lambda: _applied(survivor, probes, first_ms + 1_000),
                             "probes after the kill in the view", killed)
        say(f"takeover standby={standby}: {takeover_s:.1f} s after the SIGKILL of the owner of {victim_partitions} "
            f"of {len(probes)} partitions the survivor had consumed every partition's probe; {view_s:.1f} s: "
            "the view showed them")
        return TakeoverRun(standby, round(join_s, 2), round(takeover_s, 2), round(view_s, 2), victim_partitions)
    finally:
        victim.stop()
        if survivor is not None:
            survivor.stop()


def run_takeover(accounts: int, workdir: Path, broker_url: str = "",
                 say: Callable[[str], None] = lambda line: None) -> list[TakeoverRun]:
    """Time a SIGKILLed worker's takeover over `accounts` saved states, without and with a standby replica."""
    broker = None if broker_url else EmbeddedBroker(Settings().kafka.tansu_bin, log_path=workdir / "tansu.log").start()
    url = broker_url or broker.url  # type: ignore[union-attr]
    try:
        # Commits every second: the first probes are committed before the kill (the workers are idle for
        # longer), so the survivor counts only the probes sent after it.
        base = Settings(kafka={"broker_url": url}, worker={"log_level": "warning", "commit_interval_seconds": 1.0},
                        topics={"partitions": PARTITIONS},
                        redis={"url": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")})
        states = sample_states(accounts)
        return [_one_run(base, bootstrap_of(url), states, standby, workdir, say) for standby in STANDBYS]
    finally:
        if broker is not None:
            broker.stop()


def takeover_summary(runs: list[TakeoverRun], accounts: int) -> dict[str, object]:
    """Return the bench JSON keys: `takeover_seconds_<N>k_standby<R>` and `takeover_view_seconds_<N>k_standby<R>`."""
    size = f"{accounts // 1000}k" if accounts % 1000 == 0 else str(accounts)
    out: dict[str, object] = {"takeover_accounts": accounts}
    for run in runs:
        out[f"takeover_seconds_{size}_standby{run.standby_replicas}"] = run.takeover_s
        out[f"takeover_view_seconds_{size}_standby{run.standby_replicas}"] = run.takeover_view_s
    return out


def main() -> None:
    """Run the takeover benchmark and print one line per step, then the JSON keys."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="healthmon-takeover-"))
    workdir.mkdir(parents=True, exist_ok=True)
    runs = run_takeover(args.accounts, workdir, Settings().kafka.broker_url, say=print)
    print(orjson.dumps(takeover_summary(runs, args.accounts)).decode())


if __name__ == "__main__":
    main()
