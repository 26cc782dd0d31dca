"""End to end on the real broker: a generated mixed scenario gives exactly the expected alerts."""

from __future__ import annotations

import pytest

from healthmon.kafka.admin import ensure_topics
from schemas.alert import Alert
from tests.fixtures import metric_value
from tests.integration.scenario import by_account, mixed_traffic, read_alerts, send, wait_processed

pytestmark = pytest.mark.integration

FIRING_LINE = ("below_warning_line", "firing")
RESOLVED_LINE = ("below_warning_line", "resolved")
FIRING_HEALTH = ("health_changed", "firing")


async def test_mixed_scenario_alerts_per_account(worker_factory, topic_io):
    # History first, then the worker: a catch-up, the case where inputs drift apart the most.
    worker = worker_factory(start=False)
    settings = worker.settings
    await ensure_topics(topic_io.bootstrap, settings.topics, settings.kafka)
    traffic = mixed_traffic()
    sent = await send(settings, traffic)
    worker.start().wait_ready()
    wait_processed(worker, sent)
    alerts = await read_alerts(topic_io, settings)
    text = worker.get("/metrics")[1]
    assert metric_value(text, "healthmon_events_total", topic="product-usage", outcome="too_late") == 0
    for alert in alerts:
        Alert.model_validate(alert)
    got = by_account(alerts)
    plan = traffic.plan
    assert set(plan.values()) >= {"healthy", "drop", "silent", "ticket_spike", "recover"}
    for account, scenario in sorted(plan.items()):
        kinds = got.get(account, set())
        if scenario == "healthy":
            assert kinds == set(), f"healthy {account} alerted: {kinds}"
        elif scenario in ("drop", "silent"):
            # Down and staying down: the warning line fires and never resolves; health leaves green.
            assert FIRING_LINE in kinds and RESOLVED_LINE not in kinds, (scenario, account, kinds)
            assert FIRING_HEALTH in kinds, (scenario, account, kinds)
        elif scenario == "ticket_spike":
            # Usage carries on: no warning line, but tickets and NPS pull the score out of green.
            assert kinds == {FIRING_HEALTH}, (scenario, account, kinds)
        elif scenario == "recover":
            assert {FIRING_LINE, RESOLVED_LINE} <= kinds, (scenario, account, kinds)
    # No ingest stall in this traffic, so no pipeline alert.
    assert not [a for a in alerts if a["kind"] == "ingest_stalled"]
    # Every firing episode is announced once.
    firing = [(a["dedup_key"], a["episode_id"]) for a in alerts if a["status"] == "firing"]
    assert len(firing) == len(set(firing))
