"""SIGKILL a worker mid-stream, restart it: no state is lost and no alert episode gets a second id."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict

import orjson
import pytest

from healthmon.core import Engine, load_policy, state_from_bytes
from healthmon.kafka.admin import ensure_topics
from healthmon.kafka.broker import free_port
from tests.integration.scenario import (
    mixed_traffic,
    processed,
    read_alerts,
    send,
    wait_processed,
    without_processing_time,
)

pytestmark = pytest.mark.integration


async def _final_states(topic_io, app_id: str) -> dict[str, bytes]:
    records = await topic_io.read(f"{app_id}-account-state-changelog", settle_s=2)
    states: dict[str, bytes] = {}
    for record in records:  # one partition per account: the last record per key is the saved state
        states[record.key.decode()] = record.value
    return states


async def _dead_letters(topic_io, settings) -> dict[str, int]:
    records = await topic_io.read(settings.topics.deadletter_name, settle_s=2)
    counts: dict[str, int] = defaultdict(int)
    for record in records:
        counts[orjson.loads(record.value)["reason"]] += 1
    return dict(counts)


def _health(engine: Engine, raw: bytes, at_ms: int) -> dict:
    snap = engine.snapshot(state_from_bytes(raw), at_ms)
    return {"score": snap["score"], "band": snap["band"], "metrics": snap["metrics"]}


async def _wait_committed(topic_io, worker, topics: list[str], at_least: int, timeout_s: float = 120.0) -> int:
    """Wait until the worker's consumer group has committed `at_least` offsets on `topics`; return the count.

    Killing right after that lands mid-stream for sure: the restart resumes inside the backlog, past a
    commit that saved part of it, not at its start.
    """
    group = worker.settings.worker.app_id
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        done = await topic_io.committed(group, topics, worker.settings.topics.partitions)
        if done >= at_least:
            return done
        await asyncio.sleep(0.05)
    raise AssertionError(f"the worker did not commit {at_least} offsets\n{worker.log_tail()}")


async def _wait_all_committed(topic_io, group: str, topics: list[str], partitions: int, total: int,
                              timeout_s: float) -> dict[str, int]:
    """Wait until `group` has committed `total` offsets on `topics` (or the timeout); return them by partition."""
    deadline = time.monotonic() + timeout_s
    while True:
        offsets = await topic_io.committed_offsets(group, topics, partitions)
        if sum(offsets.values()) >= total or time.monotonic() > deadline:
            return offsets
        await asyncio.sleep(0.5)


def _wait_quiet(worker, quiet_s: float = 6.0, timeout_s: float = 180.0) -> float:
    """Wait until the worker's processed count stops moving; return it."""
    deadline = time.monotonic() + timeout_s
    last, since = -1.0, time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < quiet_s:
        now = processed(worker)
        if now != last:
            last, since = now, time.monotonic()
        time.sleep(0.5)
    return last


@pytest.mark.parametrize("store", ["memory://", "rocksdb://"])
async def test_sigkill_mid_stream_loses_no_state_and_repeats_no_episode_under_a_new_id(worker_factory, topic_io, store):
    reference = worker_factory(start=False)
    shared = reference.settings
    await ensure_topics(topic_io.bootstrap, shared.topics, shared.kafka)
    traffic = mixed_traffic(accounts=20, seed=5)
    records = list(traffic.records())
    # A short first part and a long backlog after it, so that the kill lands inside the catch-up however
    # fast the worker is.
    half = len(records) // 4

    # The same input topics, read by a second app with its own outputs and internal topics.
    crashed_settings = shared.replace(
        worker={"app_id": shared.worker.app_id + "-crash"},
        topics={"alerts": "alerts-crash", "deadletter": "dlq-crash"},
        redis={"prefix": shared.redis.prefix + "crash:"}, http={"port": free_port()}, store={"url": store})
    crashed = worker_factory(settings=crashed_settings, start=False)

    # First half: processed, committed and saved; the worker stops cleanly. Second half: produced while
    # it is down, then killed in the middle of its catch-up (a backlog, as after any outage).
    first = await send(shared, traffic, records[:half])
    crashed.start().wait_ready()
    wait_processed(crashed, first, timeout_s=300)
    inputs = list(shared.topics.input_names.values())
    partitions = shared.topics.partitions
    # one event per message: every one of them committed (a commit every second), then a clean stop
    await _wait_all_committed(topic_io, crashed_settings.worker.app_id, inputs, partitions, first, timeout_s=60.0)
    assert crashed.stop() == 0
    assert await topic_io.committed(crashed_settings.worker.app_id, inputs, partitions) == first
    second = await send(shared, traffic, records[half:])
    crashed.start().wait_ready()
    await _wait_committed(topic_io, crashed, inputs, at_least=first + 1)
    crashed.kill()
    crashed.start().wait_ready()
    redone = _wait_quiet(crashed)
    # The restart resumes from the last committed offset inside the second half: some of it, not all.
    assert 0 < redone < second, f"the kill must land mid-stream (restart processed {redone} of {second})"
    # Every input offset ends up committed by the restarted worker itself: a message skipped on the way
    # is never acked and pins its partition's commit (a stuck partition is read again after
    # HEALTHMON_STUCK_PARTITION_SECONDS, so allow that long and then some).
    committed_after_restart = await _wait_all_committed(topic_io, crashed_settings.worker.app_id, inputs,
                                                        shared.topics.partitions, first + second, timeout_s=90.0)
    restart_log = crashed.log_tail(400)
    reference.start().wait_ready()
    wait_processed(reference, first + second, timeout_s=300)
    await _wait_all_committed(topic_io, shared.worker.app_id, inputs, partitions, first + second, timeout_s=60.0)
    assert await topic_io.committed(shared.worker.app_id, inputs, partitions) == first + second

    ref_alerts = await read_alerts(topic_io, shared)
    got_alerts = await read_alerts(topic_io, crashed_settings)
    assert ref_alerts, "the scenario must produce alerts for this test to mean anything"

    # No episode announced twice under different ids: a redelivered alert repeats its alert_id, and an
    # account's alerts for one rule still alternate firing, resolved, firing...
    ids = defaultdict(set)
    for alert in got_alerts:
        ids[(alert["dedup_key"], alert["episode_id"], alert["status"])].add(alert["alert_id"])
    assert all(len(v) == 1 for v in ids.values()), {k: v for k, v in ids.items() if len(v) > 1}
    sequences: dict[str, list[dict]] = defaultdict(list)
    for alert in got_alerts:
        seq = sequences[alert["dedup_key"]]
        if not seq or seq[-1]["alert_id"] != alert["alert_id"]:
            seq.append(alert)
    for key, seq in sequences.items():
        statuses = [a["status"] for a in seq]
        assert all(a != b for a, b in zip(statuses, statuses[1:])), (key, statuses)
    # And the same alerts as the uninterrupted run, to the byte (processing time aside): a restart
    # decides at the same instants, so it announces the same episodes under the same ids.
    got_set = {without_processing_time(a) for a in got_alerts}
    ref_set = {without_processing_time(a) for a in ref_alerts}
    assert got_set == ref_set, ("alerts sent in one run only:",
                                sorted(orjson.loads(a)["alert_id"] for a in got_set ^ ref_set))

    # Dead letters: a `too_late` in one run only would mean the restart changed the processing order.
    ref_dead = await _dead_letters(topic_io, shared)
    got_dead = await _dead_letters(topic_io, crashed_settings)
    assert got_dead == ref_dead, f"dead letters differ: {got_dead} vs {ref_dead}"

    # No state lost: every account's saved state scores exactly as the uninterrupted run's.
    engine = Engine(load_policy(shared.engine.policy_file))
    ref_states = await _final_states(topic_io, shared.worker.app_id)
    got_states = await _final_states(topic_io, crashed_settings.worker.app_id)
    assert got_states.keys() == ref_states.keys() == set(traffic.plan)
    at = traffic.end_ms
    differing = {}
    for account in sorted(ref_states):
        got, ref = _health(engine, got_states[account], at), _health(engine, ref_states[account], at)
        if got != ref:
            differing[account] = {k: (got["metrics"][k], ref["metrics"][k]) for k in ref["metrics"]
                                  if got["metrics"][k] != ref["metrics"][k]}
    assert not differing, f"after SIGKILL, state differs (crashed, uninterrupted): {differing}"
    reference_offsets = await topic_io.committed_offsets(shared.worker.app_id, inputs, shared.topics.partitions)
    short = {tp: (got, reference_offsets[tp]) for tp, got in committed_after_restart.items()
             if got != reference_offsets[tp]}
    assert not short, f"input offsets left uncommitted after the restart (committed, end): {short}\n{restart_log}"
