"""An older state written to the changelog after a newer one (a frozen former owner waking up) is not recovered."""

from __future__ import annotations

import time

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from healthmon.core import Engine, load_policy, state_from_bytes, state_to_bytes
from healthmon.core.saved_view import saved_snapshot
from healthmon.ingest import partition_for
from healthmon.kafka.admin import ensure_topics
from healthmon.kafka.changelog import changelog_topic, read_saved_states
from schemas.events import AccountProfile, UsageEvent

pytestmark = pytest.mark.integration

DAY = 86_400_000
ACCOUNT = "acc-zombie"


def _states(engine: Engine, start_ms: int) -> tuple[bytes, bytes]:
    """Return two saved states of one account's history: one evaluated a day later than the other."""
    state = engine.new_state(ACCOUNT)
    profile = AccountProfile(account_id=ACCOUNT, name="Zombie Ltd", tier="standard", seats=5, arr=1000.0,
                             csm="ann", contract_start="2025-01-01", renewal_date="2027-01-01")
    engine.apply(state, [profile], position=("profile", 0))
    usage = [UsageEvent(event_id=f"e{n}", account_id=ACCOUNT, user_id=f"u{n % 3}", feature="login",
                        occurred_at=start_ms + n * DAY // 4) for n in range(12)]
    engine.apply(state, usage, position=("usage", 11))
    engine.tick(state, now_ms=start_ms + 4 * DAY)
    older = state_to_bytes(state)
    engine.tick(state, now_ms=start_ms + 5 * DAY)
    return older, state_to_bytes(state)


@pytest.mark.parametrize("store", ["memory://", "rocksdb://"])
async def test_recovery_and_the_view_keep_the_newer_state_written_before_an_older_one(worker_factory, topic_io, store):
    worker = worker_factory(start=False, store={"url": store})
    settings = worker.settings
    app_id = settings.worker.app_id
    await ensure_topics(topic_io.bootstrap, settings.topics, settings.kafka, app_id=app_id)
    topic = changelog_topic(app_id)
    admin = AIOKafkaAdminClient(bootstrap_servers=topic_io.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, settings.topics.partitions, 1,
                                            topic_configs={"cleanup.policy": "compact"})])
    finally:
        await admin.close()
    engine = Engine(load_policy(settings.engine.policy_file))
    start_ms = (int(time.time() * 1000) // DAY - 30) * DAY
    older, newer = _states(engine, start_ms)
    # The new owner saved `newer`; the former owner, frozen past its session, wakes and appends `older`.
    await topic_io.send(topic, [newer, older], key=ACCOUNT.encode(),
                        partition=partition_for(ACCOUNT, settings.topics.partitions))

    saved = await read_saved_states(topic_io.bootstrap, topic)
    assert saved[ACCOUNT] == newer, "the changelog read as recovery reads it kept the older state written last"

    # A worker recovers its table from that changelog, and shows what it recovered.
    worker.start().wait_ready()
    want = saved_snapshot(engine, state_from_bytes(newer))
    stale = saved_snapshot(engine, state_from_bytes(older))
    assert want["as_of"] > stale["as_of"]
    deadline = time.monotonic() + 60
    while True:
        status, body = worker.get(f"/accounts/{ACCOUNT}")
        got = body.get("account") if status == 200 else None
        if got == want:
            break
        assert got != stale or time.monotonic() < deadline, "the worker recovered and shows the older state"
        assert time.monotonic() < deadline, (status, body)
        time.sleep(0.2)
