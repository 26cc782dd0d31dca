"""A backtest of the input a real worker consumed gives the worker's alerts: same ids, same bodies."""

from __future__ import annotations

import io

import orjson
import pytest

from healthmon.backtest import BacktestOptions, backtest
from healthmon.backtest.files import write_input_files
from healthmon.backtest.inputs import file_names
from healthmon.core import load_policy
from streams.runtime import ensure_topics
from tests.fixtures import metric_value
from tests.integration.scenario import TOPICS, mixed_traffic, read_alerts, send, wait_processed, without_processing_time

pytestmark = pytest.mark.integration


async def _backtest(settings, **source) -> list[dict]:
    out = io.BytesIO()
    await backtest(settings, BacktestOptions(policies=[("p", load_policy(settings.policy_file))], out=out, **source))
    return [orjson.loads(line) for line in out.getvalue().splitlines()]


def _by_id(alerts: list[dict]) -> dict[str, bytes]:
    return {a["alert_id"]: without_processing_time(a) for a in alerts}


def _differences(got: list[dict], expected: list[dict]) -> list[str]:
    """Return a readable line per alert that only one side has (or has with another body)."""
    def brief(a: dict) -> str:
        return f"{a['account_id']} {a['kind']} {a['rule']} {a['status']} at {a['event_time']} -> {a['band_after']}"

    mine, theirs = _by_id(got), _by_id(expected)
    return sorted([f"backtest only: {brief(a)}" for a in got if a["alert_id"] not in theirs]
                  + [f"worker only: {brief(a)}" for a in expected if a["alert_id"] not in mine]
                  + [f"body differs: {brief(a)}" for a in got
                     if a["alert_id"] in theirs and mine[a["alert_id"]] != theirs[a["alert_id"]]])


async def test_worker_and_backtest_agree_on_a_mixed_scenario(worker_factory, topic_io, tmp_path):
    worker = worker_factory(start=False)
    settings = worker.settings
    await ensure_topics(topic_io.bootstrap, settings)
    traffic = mixed_traffic(accounts=30, seed=21)
    sent = await send(settings, traffic)
    worker.start().wait_ready()
    wait_processed(worker, sent)
    live = await read_alerts(topic_io, settings)
    text = worker.get("/metrics")[1]
    late = {t: metric_value(text, "healthmon_events_total", topic=t, outcome="too_late") for t in TOPICS}
    assert {a["kind"] for a in live} >= {"health_changed", "below_warning_line"}

    write_input_files(traffic.records(), tmp_path, file_names(settings))
    from_files = await _backtest(settings, input_dir=tmp_path)
    diffs = _differences(from_files, live)
    assert not diffs, "\n".join(diffs) + f"\nworker too_late: {late}"

    # The topics' retained history, read without a consumer group, gives the same.
    from_kafka = await _backtest(settings, broker_url=settings.kafka_broker_url)
    diffs = _differences(from_kafka, live)
    assert not diffs, "\n".join(diffs)
