"""A backtest of the input a real worker consumed gives the worker's alerts and health-scores records: same ids,
same bodies."""

from __future__ import annotations

import io

import orjson
import pytest

from healthmon.backtest import BacktestOptions, backtest
from healthmon.backtest.files import write_input_files
from healthmon.backtest.inputs import file_names
from healthmon.core import load_policy
from healthmon.kafka.admin import ensure_topics
from tests.fixtures import metric_value
from tests.integration.scenario import TOPICS, mixed_traffic, read_alerts, send, wait_processed, without_processing_time

pytestmark = pytest.mark.integration


async def _backtest(settings, scores: list[bytes] | None = None, **source) -> list[dict]:
    out, scores_out = io.BytesIO(), io.BytesIO()
    policies = [("p", load_policy(settings.engine.policy_file))]
    await backtest(settings, BacktestOptions(policies=policies, out=out,
                                             scores_out=scores_out if scores is not None else None, **source))
    if scores is not None:
        scores += scores_out.getvalue().splitlines()
    return [orjson.loads(line) for line in out.getvalue().splitlines()]


def _per_account(records: list[bytes]) -> dict[str, list[bytes]]:
    """Return account -> its records in order (a topic keeps each key's order; partitions interleave)."""
    out: dict[str, list[bytes]] = {}
    for raw in records:
        out.setdefault(orjson.loads(raw)["account_id"], []).append(raw)
    return out


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


async def test_backtest_from_kafka_history_equals_backtest_from_files(settings_factory, topic_io, tmp_path):
    settings = settings_factory()
    await ensure_topics(topic_io.bootstrap, settings.topics, settings.kafka)
    traffic = mixed_traffic(accounts=30, seed=21)
    await send(settings, traffic)
    write_input_files(traffic.records(), tmp_path, file_names(settings))
    from_files = await _backtest(settings, input_dir=tmp_path)
    assert {a["kind"] for a in from_files} >= {"health_changed", "below_warning_line"}
    from_kafka = await _backtest(settings, broker_url=settings.kafka.broker_url)
    assert _differences(from_kafka, from_files) == []
    # Reading the history wrote nothing: the alerts topic is still empty (the backtest has returned, so
    # whatever it sent was acked; an end offset above 0 would say it).
    assert await topic_io.end_offset(settings.topics.alerts_name, settings.topics.partitions) == 0


async def test_worker_and_backtest_agree_on_a_mixed_scenario(worker_factory, topic_io, tmp_path):
    # Sent as fast as possible, as a backfill producer would: many records share a producer millisecond
    # (one holds about a quarter of an hour of this traffic's event time). The worker merges its inputs
    # by event time and waits for any input with unread messages, so it replays them as the backtest does.
    worker = worker_factory(start=False)
    settings = worker.settings
    await ensure_topics(topic_io.bootstrap, settings.topics, settings.kafka)
    traffic = mixed_traffic(accounts=30, seed=21)
    sent = await send(settings, traffic)
    worker.start().wait_ready()
    wait_processed(worker, sent)
    live = await read_alerts(topic_io, settings)
    assert {a["kind"] for a in live} >= {"health_changed", "below_warning_line"}
    text = worker.get("/metrics")[1]
    late = {t: metric_value(text, "healthmon_events_total", topic=t, outcome="too_late") for t in TOPICS}

    live_scores = [r.value for r in await topic_io.read(settings.topics.scores_name, settle_s=2.0, timeout_s=90)]

    write_input_files(traffic.records(), tmp_path, file_names(settings))
    replayed_scores: list[bytes] = []
    diffs = _differences(await _backtest(settings, replayed_scores, input_dir=tmp_path), live)
    assert not diffs, "\n".join(diffs) + f"\nworker too_late: {late}"
    # The health-scores records too: byte for byte (they carry no processing time), in each account's order.
    kinds = {orjson.loads(r)["kind"] for r in live_scores}
    assert kinds == {"day", "band_change"} and len(live_scores) >= 30 * 40
    assert _per_account(replayed_scores) == _per_account(live_scores)
