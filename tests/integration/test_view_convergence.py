"""What users read converges to what the engine saved: a worker killed before its view updates loses none."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from healthmon.core import Engine, load_policy, state_from_bytes
from healthmon.core.saved_view import saved_snapshot
from healthmon.kafka.admin import ensure_topics
from healthmon.kafka.broker import free_port
from tests.fixtures import TopicIO, WorkerProcess
from tests.integration.scenario import mixed_traffic, send

pytestmark = pytest.mark.integration


async def saved_states(topic_io: TopicIO, app_id: str) -> dict[str, Any]:
    """Return account -> the state its changelog saved last (one partition per account: the last record)."""
    states: dict[str, Any] = {}
    for record in await topic_io.read(f"{app_id}-account-state-changelog", settle_s=2):
        states[record.key.decode()] = state_from_bytes(record.value)
    return states


def view_differences(worker: WorkerProcess, engine: Engine, states: dict[str, Any]) -> dict[str, Any]:
    """Return account -> (what /accounts/{id} answers, the saved state's snapshot) where they differ."""
    differing: dict[str, Any] = {}
    for account, state in sorted(states.items()):
        status, body = worker.get(f"/accounts/{account}")
        # From Redis: a worker answers from its own state only when Redis has nothing for the account.
        got = body["account"] if status == 200 and body["source"] == "redis" else (status, body.get("source"))
        want = saved_snapshot(engine, state)
        if got != want:
            differing[account] = (got, want)
    return differing


def _fields(got: Any, want: dict[str, Any]) -> str:
    """Name what differs between a read snapshot and the saved one."""
    if not isinstance(got, dict):
        return f"HTTP {got}"
    return ", ".join(f"{k} {got.get(k)!r:.40} != {v!r:.40}" for k, v in want.items() if got.get(k) != v)


async def wait_all_committed(topic_io: TopicIO, group: str, topics: list[str], partitions: int, total: int) -> None:
    """Wait until `group` has committed `total` input offsets."""
    deadline = time.monotonic() + 180
    while await topic_io.committed(group, topics, partitions) < total:
        assert time.monotonic() < deadline, f"{group} did not commit {total} input offsets"
        await asyncio.sleep(0.5)


async def test_a_new_owner_pushes_what_a_killed_worker_saved_but_never_showed(worker_factory, topic_io):
    # The first worker saves every evaluation at its commits but shows one account a second: when it is
    # killed, most of what it decided (the stream-time evaluations of silent accounts above all) is
    # saved and not yet in the view, as after a kill between an evaluation and its view update.
    slow = worker_factory(start=False, worker={"view_accounts_per_second": 1})
    settings = slow.settings
    await ensure_topics(topic_io.bootstrap, settings.topics, settings.kafka)
    # Two workers of one group share the partitions from the start, so the survivor has long made its
    # start-up pass over the view when the other dies and its partitions move over.
    slow.start().wait_ready()
    survivor = worker_factory(settings=settings.replace(http={"port": free_port()},
                                                        worker={"view_accounts_per_second": 500}))
    survivor.wait_ready()
    traffic = mixed_traffic(accounts=20, seed=5)
    events = await send(settings, traffic)
    inputs = list(settings.topics.input_names.values())
    await wait_all_committed(topic_io, settings.worker.app_id, inputs, settings.topics.partitions, events)
    slow.kill()

    engine = Engine(load_policy(settings.engine.policy_file))
    deadline = time.monotonic() + 120
    while True:
        states = await saved_states(topic_io, settings.worker.app_id)
        differing = view_differences(survivor, engine, states)
        if not differing or time.monotonic() > deadline:
            break
        await asyncio.sleep(2)
    assert set(states) == set(traffic.plan)
    # The scenario has what this is about: accounts last changed by an evaluation on stream time alone.
    assert any(s.last_eval_ms > s.clock_ms for s in states.values())
    assert not differing, (f"{len(differing)} of {len(states)} accounts read otherwise than saved: "
                           + "; ".join(f"{a}: {_fields(got, want)}" for a, (got, want) in differing.items()))
