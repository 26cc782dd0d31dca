"""Per-account series follow the accounts through a rebalance: each account at risk on exactly one worker."""

from __future__ import annotations

import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from healthmon.kafka.admin import ensure_topics
from healthmon.kafka.broker import free_port
from tests.integration.scenario import mixed_traffic, send, wait_processed

pytestmark = pytest.mark.integration


def _exported(worker, bands: tuple[str, ...] = ("green", "yellow", "red")) -> set[str]:
    """Return the accounts with a `healthmon_account_health_score` series in `bands` on the worker's /metrics."""
    for family in text_string_to_metric_families(worker.get("/metrics")[1]):
        if family.name == "healthmon_account_health_score":
            return {sample.labels["account_id"] for sample in family.samples if sample.labels["band"] in bands}
    return set()


def _exported_at_risk(worker) -> set[str]:
    """Return the accounts with series in yellow or red (an account back to green keeps its series a day)."""
    return _exported(worker, ("yellow", "red"))


def _at_risk(worker) -> set[str]:
    """Return the accounts in yellow or red in the Redis view, as the HTTP API lists them."""
    status, body = worker.get("/accounts?limit=1000")
    assert status == 200, body
    return {a["account_id"] for a in body["accounts"] if a["band"] in ("yellow", "red")}


async def test_after_a_rebalance_each_account_at_risk_has_series_on_exactly_one_worker(worker_factory, topic_io):
    first = worker_factory(start=False)
    settings = first.settings
    await ensure_topics(topic_io.bootstrap, settings.topics, settings.kafka)
    total = await send(settings, mixed_traffic(accounts=24, seed=7))
    first.start().wait_ready()
    wait_processed(first, total, timeout_s=300)
    deadline = time.monotonic() + 60
    while (at_risk := _at_risk(first)) != _exported_at_risk(first) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert at_risk and _exported_at_risk(first) == at_risk, (
        f"view at risk {sorted(at_risk)}, exported {sorted(_exported_at_risk(first))}\n{first.log_tail()}")

    # a second worker of the same group takes half of the partitions, and their accounts
    second = worker_factory(settings=settings.replace(http={"port": free_port()}))
    second.wait_ready()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        one, two, at_risk = _exported(first), _exported(second), _at_risk(first)
        both_at_risk = _exported_at_risk(first) | _exported_at_risk(second)
        if one and two and not one & two and both_at_risk == at_risk:
            break
        time.sleep(0.5)
    assert two, f"the second worker exports no account (the test shows nothing):\n{second.log_tail()}"
    assert not one & two, f"accounts exported by both workers: {sorted(one & two)}"
    assert both_at_risk == at_risk, (f"view at risk {sorted(at_risk)}; exported at risk by the first worker "
                                     f"{sorted(_exported_at_risk(first))}, by the second "
                                     f"{sorted(_exported_at_risk(second))}\n{first.log_tail()}\n{second.log_tail()}")
