"""Over the real broker: two workers read Segment `group` calls that each carry part of one account's traits, on
partitions the two workers own, all at once. Every account's profile ends whole: merged on its own partition
only (one writer), nothing of one worker's patch is lost to the other's write."""

from __future__ import annotations

import asyncio
import time

import orjson
import pytest
import yaml
from aiokafka import AIOKafkaProducer

from healthmon.generator.formats.message import Message
from healthmon.ingest import partition_for
from healthmon.kafka.admin import ensure_topics
from healthmon.kafka.broker import free_port
from healthmon.kafka.connect import bootstrap_of
from tests.fixtures import metric_value

pytestmark = pytest.mark.integration

ACCOUNTS = [f"acc-{n:02d}" for n in range(16)]
FIRST = {"name": "Acme", "tier": "key", "seats": 40}
SECOND = {"arr": 1200.5, "csm": "ann@example.com", "contract_start": "2025-01-01", "renewal_date": "2027-01-01"}


def _group(account: str, traits: dict, n: int) -> bytes:
    return orjson.dumps({"type": "group", "messageId": f"g-{account}-{n}", "userId": f"u-{account}-{n}",
                         "groupId": account, "timestamp": f"2026-08-30T12:00:0{n}Z", "traits": traits})


def _read(worker) -> float:
    return metric_value(worker.get("/metrics")[1], "healthmon_messages_total", topic="accounts")


async def test_two_workers_merge_one_accounts_partial_traits_without_losing_a_field(worker_factory, settings_factory,
                                                                                     topic_io, tmp_path) -> None:
    base = settings_factory()
    topic = base.topics.prefix + "segment-groups"
    (tmp_path / "inputs.yaml").write_text(yaml.safe_dump(
        {"inputs": [{"topic": topic, "kind": "accounts", "format": "segment"}]}))
    settings = base.replace(ingest={"inputs_file": str(tmp_path / "inputs.yaml")})
    await ensure_topics(topic_io.bootstrap, settings.topics, settings.kafka, inputs=[topic])
    partitions = settings.topics.partitions
    first = worker_factory(settings)
    first.wait_ready()
    second = worker_factory(settings.replace(http={"port": free_port()}))
    second.wait_ready()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all(w.get("/readyz")[0] == 200 for w in (first, second)):
        time.sleep(0.3)
    # Each account's two halves on two other partitions than its own, as unkeyed Segment calls land.
    sent = [Message(topic, None, _group(account, traits, n), "account", 0)
            for account in ACCOUNTS for n, traits in ((1, FIRST), (2, SECOND))]
    await _send_to(settings, sent, [(partition_for(a, partitions) + n) % partitions
                                    for a in ACCOUNTS for n in (1, 2)])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and _read(first) + _read(second) < len(sent):
        time.sleep(0.3)
    assert _read(first) + _read(second) == len(sent), first.log_tail() + second.log_tail()
    assert _read(first) and _read(second), "one worker read every group call: the test shows nothing"

    def profiles() -> dict[str, dict]:
        out = {}
        for account in ACCOUNTS:
            status, body = first.get(f"/accounts/{account}")
            if status == 200:
                out[account] = body["account"]
        return out

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(got := profiles()) < len(ACCOUNTS):
        time.sleep(0.5)
    assert sorted(got) == ACCOUNTS
    assert {a: (p["name"], p["tier"], p["csm"]) for a, p in got.items()} == {
        a: ("Acme", "key", "ann@example.com") for a in ACCOUNTS}
    # The traits table's changelog: each account's last write holds every field of both halves.
    records = await topic_io.read(f"{settings.worker.app_id}-traits-changelog", min_count=len(ACCOUNTS))
    last = {r.key: r.value for r in records}
    assert {account: sorted(orjson.loads(last[account.encode()])["fields"]) for account in ACCOUNTS} == {
        account: sorted({"account_id", *FIRST, *SECOND}) for account in ACCOUNTS}


async def _send_to(settings, messages: list[Message], partitions: list[int]) -> None:
    """Send each message to its partition (unkeyed, as Segment's destination sends them)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_of(settings.kafka.broker_url), acks=1,
                                enable_idempotence=False)
    await producer.start()
    try:
        await asyncio.gather(*[await producer.send(m.topic, m.value, key=m.key, partition=p)
                               for m, p in zip(messages, partitions)])
    finally:
        await producer.stop()
