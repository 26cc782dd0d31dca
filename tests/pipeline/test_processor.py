"""The processor glue: a worker that restarts from its saved table carries on as if it never stopped.

The table is a dict and the output topics only record what is sent: these tests are about what the
processor decides and saves across a restart (`tests/integration/test_crash_recovery.py` kills a real
worker on a real broker).
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from types import SimpleNamespace
from typing import Any

import orjson
import pytest

from healthmon.config import Settings
from healthmon.core import Engine, EngineConfig, PipelineClock, load_policy, state_from_bytes
from healthmon.core.history import decode
from healthmon.generator import generate
from healthmon.ingest import partition_for
from healthmon.pipeline.processor import Processor
from healthmon.serving.metrics import Metrics
from healthmon.serving.redis_view import RedisView

DAY_MS = 86_400_000
PARTITIONS = 4
#: The traffic ends on 2026-09-01 whenever the tests run: what it offers (alerts, restart points) depends
#: on the weekdays it spans, so a window ending "now" made the tests depend on the day they ran.
END_MS = 1_788_220_800_000


class Outbox:
    """Stands in for an output topic: keeps what the processor sends, in order."""

    def __init__(self) -> None:
        self.sent: list[tuple[bytes, bytes]] = []
        self.partitions: list[int | None] = []

    async def send(self, key: bytes, value: bytes, partition: int | None = None) -> None:
        self.sent.append((key, value))
        self.partitions.append(partition)


def _processor(settings: Settings, table: dict[bytes, bytes], clock: PipelineClock | None = None,
               reports_stalls: bool = True) -> Processor:
    policy = load_policy(settings.engine.policy_file)
    config = EngineConfig.from_settings(settings.engine)
    engine = Engine(policy, config)
    names = settings.topics.input_names
    kind_by_name = {name: kind for kind, name in names.items()}
    kind_by_name[settings.repartition_topic] = "repartition"
    topics = SimpleNamespace(repartition=Outbox(), alerts=Outbox(), deadletter=Outbox(), scores=Outbox(),
                             kind_by_name=kind_by_name)
    metrics = Metrics()
    # Processing time stands still, so no input ever looks stalled however slowly the test runs.
    clock = clock or PipelineClock(policy, config, clock=lambda: 0)
    return Processor(settings, engine, table, topics, metrics, RedisView("", "test:", metrics), clock,
                     tick_interval_ms=engine.tick_interval_ms, reports_stalls=lambda: reports_stalls)


def _messages(settings: Settings, accounts: int, days: int) -> list[tuple[tuple, int]]:
    """Return generated traffic as Kafka messages ((topic, partition, offset, key, value), event time), in log order."""
    start_ms = END_MS - (days + 1) * DAY_MS
    traffic = generate(accounts=accounts, scenario="mixed", seed=3, start_ms=start_ms, days=days)
    offsets: dict[tuple[str, int], int] = defaultdict(int)
    out = []
    for record in traffic.records():
        topic, partition = settings.topics.input_names[record.kind], partition_for(record.key, PARTITIONS)
        offset = offsets[(topic, partition)]
        offsets[(topic, partition)] += 1
        out.append(((topic, partition, offset, record.key.encode(), orjson.dumps(record.value)), record.occurred_at))
    return out


def _restart_points(messages: list[tuple[tuple, int]], alerts: dict[str, dict], interval_ms: int) -> list[int]:
    """Return where to restart: just before a message that carries its partition's stream time across
    several tick boundaries, one of which an account of that partition alerted at.

    The worker has to tick the accounts at each of those boundaries on the very next message, exactly
    as if it had never stopped, although it only knows what its saved table tells it.
    """
    decided = defaultdict(set)
    for alert in alerts.values():
        decided[partition_for(alert["account_id"], PARTITIONS)].add(alert["event_time"])
    watermark: dict[int, int] = {}
    points = []
    for n, ((_, partition, *_), occurred_at) in enumerate(messages):
        before = watermark.get(partition, occurred_at)
        lo, hi = before - before % interval_ms, occurred_at - occurred_at % interval_ms
        if hi - lo >= 2 * interval_ms and any(lo + interval_ms <= t < hi for t in decided[partition]):
            points.append(n)
        watermark[partition] = max(before, occurred_at)
    return points


async def _run(processor: Processor, messages: list, commit_every: int) -> None:
    for n, (message, _) in enumerate(messages, 1):
        await processor.on_message(*message)
        if n % commit_every == 0:
            processor.flush_states()


def _alerts(*processors: Processor) -> dict[str, dict[str, Any]]:
    """Return the alerts sent, by alert_id, minus the processing-time field; a repeated id must repeat the alert."""
    out: dict[str, dict[str, Any]] = {}
    for processor in processors:
        for _, value in processor.topics.alerts.sent:
            alert = {k: v for k, v in orjson.loads(value).items() if k != "processed_at"}
            assert out.setdefault(alert["alert_id"], alert) == alert
    return out


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(kafka={"broker_url": "kafka://127.0.0.1:9"}, redis={"url": ""}, topics={"partitions": PARTITIONS},
                    store={"data_dir": tmp_path_factory.mktemp("data")})


@pytest.fixture(scope="module")
def messages(settings: Settings) -> list:
    return _messages(settings, accounts=16, days=42)


@pytest.fixture(scope="module")
def uninterrupted(settings: Settings, messages: list) -> tuple[Processor, dict[str, dict]]:
    processor = _processor(settings, {})

    async def run() -> None:
        await _run(processor, messages, commit_every=500)

    asyncio.run(run())
    return processor, _alerts(processor)


def _health(processor: Processor) -> dict[str, dict]:
    """Return each account's score, band and metrics as its live state gives them at the end."""
    out = {}
    for account_id in sorted(processor.states.live):
        snap = processor.engine.snapshot(processor.states.live[account_id], processor.stream_time(account_id))
        out[account_id] = {k: snap[k] for k in ("score", "band", "alert_band", "metrics", "firing", "as_of")}
    return out


async def _commit_mid_message_and_die(processor: Processor, message: tuple) -> None:
    """Apply `message`, let a commit save the states before its ticks run, then die (the kill)."""
    async def commit_then_die(partition: int) -> None:
        processor.flush_states()
        raise asyncio.CancelledError

    processor._advance = commit_then_die  # type: ignore[method-assign]
    with pytest.raises(asyncio.CancelledError):
        await processor.on_message(*message)


def _flush_partly(processor: Processor, committed: dict[bytes, bytes]) -> None:
    """Save the changed states, of which only every other account's reaches the table (the kill mid-flush)."""
    table = processor.states.table
    processor.flush_states()
    for n, key in enumerate(sorted(table)):
        if n % 2 == 0:  # its record was still on its way: the table keeps the last committed state
            if key in committed:
                table[key] = committed[key]
            else:
                del table[key]


@pytest.mark.parametrize("crash", ["clean stop", "crash", "crash mid-message", "crash mid-flush"])
async def test_a_restarted_processor_ticks_sends_and_saves_as_if_it_had_never_stopped(
        settings, messages, uninterrupted, crash):
    reference, expected = uninterrupted
    assert expected, "the scenario must alert for this test to mean anything"
    points = _restart_points(messages, expected, reference.ticks.tick_interval_ms)
    assert len(points) >= 3, "the traffic must offer restart points that need a tick catch-up"
    for cut in points[:: max(1, len(points) // 4)]:
        table: dict[bytes, bytes] = {}
        first = _processor(settings, table)
        await _run(first, messages[:cut], commit_every=500)
        first.flush_states()  # the last commit: the table holds exactly this
        if crash == "crash":
            # It goes on for a while and dies before its next commit: that work is redone from `cut`.
            await _run(first, messages[cut:cut + 300], commit_every=10**9)
        elif crash == "crash mid-message":
            # A commit can run while a message waits on a send, after its events are applied but before
            # the ticks it brings are done. Its offset is not committed: it is redelivered.
            await _commit_mid_message_and_die(first, messages[cut][0])
        elif crash == "crash mid-flush":
            # It dies while the next commit's states are on their way, before that commit's offsets:
            # some accounts are saved ahead of the committed offsets, the others are not.
            await _run(first, messages[cut:cut + 300], commit_every=10**9)
            _flush_partly(first, dict(table))
        second = _processor(settings, table)
        # the offsets committed: every message before `cut`, as the worker's consumer reads them at a start
        done = Counter((topic, partition) for (topic, partition, *_), _ in messages[:cut])
        second.committed = lambda topic, partition, done=done: done.get((topic, partition), 0)
        await _run(second, messages[cut:], commit_every=500)

        alerts = _alerts(first, second)
        assert sorted(alerts) == sorted(expected), f"restart before message {cut}"
        assert _health(second) == _health(reference), f"restart before message {cut}"


@pytest.mark.parametrize("reports", [True, False])
async def test_only_the_reporting_worker_announces_a_stall_but_every_worker_holds_back(settings, reports):
    start_ms = END_MS - 43 * DAY_MS
    traffic = generate(accounts=8, scenario="ingest_stall", seed=4, start_ms=start_ms, days=42)
    policy = load_policy(settings.engine.policy_file)
    config = EngineConfig.from_settings(settings.engine)
    wall = {"ms": 0}
    clock = PipelineClock(policy, config, clock=lambda: wall["ms"])
    processor = _processor(settings, {}, clock, reports_stalls=reports)
    offsets: dict[tuple[str, int], int] = defaultdict(int)
    held_back = False
    for record in traffic.records():
        topic, partition = settings.topics.input_names[record.kind], partition_for(record.key, PARTITIONS)
        wall["ms"] += 1000  # a second of processing time per message: a silent input goes idle
        await processor.on_message(topic, partition, offsets[(topic, partition)], record.key.encode(),
                                   orjson.dumps(record.value))
        offsets[(topic, partition)] += 1
        held_back = held_back or bool(clock.held_back_sources())
    kinds = [orjson.loads(v)["kind"] for _, v in processor.topics.alerts.sent]
    assert held_back, "the scenario must stall an input for this test to mean anything"
    assert ("ingest_stalled" in kinds) == reports


def test_every_evaluation_is_saved_even_one_that_moved_only_its_instant(uninterrupted):
    # The view shows each account as of its latest evaluation, from the saved state: an evaluation that
    # changed nothing but its instant must reach the table too, or a new owner would show an older one.
    processor, _ = uninterrupted
    processor.flush_states()
    table = processor.states.table
    saved = {a: state_from_bytes(table[a.encode()]).last_eval_ms for a in processor.states.live}
    behind = {a: (saved[a], s.last_eval_ms) for a, s in processor.states.live.items() if saved[a] != s.last_eval_ms}
    assert not behind, f"saved behind live (saved, live): {behind}"


async def test_a_profile_has_no_history_before_the_stream_reached_it(settings):
    # Two accounts of one partition: a profile-only account meets the stream at the other's first event,
    # and its history starts on that day, not on days before anything of anyone was read.
    first_ms = 1_787_686_200_000  # 2026-08-25T19:30:00Z
    assert partition_for("acc-0", PARTITIONS) == partition_for("acc-6", PARTITIONS)
    partition = partition_for("acc-0", PARTITIONS)
    processor = _processor(settings, {})
    names = settings.topics.input_names
    for offset, account_id in enumerate(("acc-0", "acc-6")):
        profile = {"account_id": account_id, "name": account_id, "tier": "standard", "seats": 10, "arr": 1000.0,
                   "csm": "ann@example.com", "contract_start": "2025-01-01", "renewal_date": "2027-01-01"}
        await processor.on_message(names["account"], partition, offset, account_id.encode(), orjson.dumps(profile))
    for offset, (account_id, at) in enumerate([("acc-0", first_ms), ("acc-0", first_ms + 3 * DAY_MS),
                                               ("acc-6", first_ms + 3 * DAY_MS + 1)]):
        usage = {"event_id": f"u-{offset}", "account_id": account_id, "user_id": "u1", "feature": "login",
                 "occurred_at": at}
        await processor.on_message(names["usage"], partition, offset, account_id.encode(), orjson.dumps(usage))
    for account_id in ("acc-0", "acc-6"):
        state = processor.state_of(account_id)
        points = decode(state.history)
        assert points and points[0].day == first_ms // DAY_MS, (account_id, [p.day for p in points])
        assert state.first_ms >= first_ms - first_ms % processor.ticks.tick_interval_ms
