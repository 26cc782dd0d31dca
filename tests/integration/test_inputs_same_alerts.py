"""Over the real broker: a worker reading Segment, Zendesk, Delighted and Debezium topics (all made by the
generator's shapes) announces the alerts the native history gives (issue #22's proof, the worker's side).

The native side is the backtest of the same history, which tests/integration/test_backtest_agrees.py holds
to a native worker's alerts; tests/inputs/test_same_alerts_backtest.py holds the shaped backtest to it.
"""

from __future__ import annotations

import io
import time
from dataclasses import replace

import orjson
import pytest
import yaml

from healthmon.backtest import BacktestOptions, backtest
from healthmon.backtest.files import write_input_files
from healthmon.backtest.inputs import file_names
from healthmon.core.vocabulary import OUTCOMES
from healthmon.generator.formats.message import Message
from healthmon.kafka.admin import ensure_topics
from healthmon.produce import produce_messages
from tests.fixtures import metric_value
from tests.inputs.shaped import alert_keys, inputs_doc, policy_without_csat, shaped, traffic
from tests.integration.scenario import TOPICS, read_alerts

pytestmark = pytest.mark.integration


def _keyed(message: Message) -> Message:
    """Key a Segment track by its account, as a user who sets the key sends it (the generator's user ids name
    their account). Unkeyed, every event takes the repartition topic: that path is issue #22's item 8."""
    if not message.topic.endswith("segment-tracks"):
        return message
    account = orjson.loads(message.value)["userId"].removeprefix("user-").rsplit("-", 1)[0]
    return replace(message, key=account.encode())


def _processed(worker) -> float:
    text = worker.get("/metrics")[1]
    return sum(metric_value(text, "healthmon_events_total", topic=t, outcome=o) for t in TOPICS for o in OUTCOMES)


async def test_a_worker_reading_the_sources_shapes_gives_the_native_alerts(worker_factory, settings_factory,
                                                                            topic_io, tmp_path) -> None:
    base = settings_factory()
    prefix = base.topics.prefix
    policy_file = tmp_path / "policy.yaml"
    policy = policy_without_csat(policy_file)
    history = traffic(int(time.time() * 1000) - 86_400_000)
    messages = [_keyed(m) for m in shaped(history, base.topics.input_names, prefix)]
    used = {m.topic for m in messages}
    (tmp_path / "inputs.yaml").write_text(yaml.safe_dump(inputs_doc(used, prefix)))
    settings = base.replace(ingest={"inputs_file": str(tmp_path / "inputs.yaml")},
                            engine={"policy_file": str(policy_file)})
    await ensure_topics(topic_io.bootstrap, settings.topics, settings.kafka, inputs=sorted(used))
    # The whole history on the broker before the worker starts, as at a first start. The CRM rows are keyed by
    # their row key, so most name an account of another partition: the worker, which owns every partition,
    # applies them (and learns their links, and the group calls') before its partitions release any event, as
    # a native profile goes first (docs/inputs.md, "Profiles before events").
    await produce_messages(settings, settings.kafka.broker_url, messages)
    worker = worker_factory(settings)
    worker.wait_ready()
    # every usage and ticket event, and every NPS answer (Delighted updates count once more)
    expected = sum(1 for r in history.records() if r.kind in ("usage", "ticket", "nps"))
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and _processed(worker) < expected:
        time.sleep(0.5)
    assert _processed(worker) >= expected, worker.log_tail()
    live = await read_alerts(topic_io, settings)

    native = settings_factory()
    write_input_files(history.records(), tmp_path, file_names(native))
    out = io.BytesIO()
    await backtest(native, BacktestOptions(policies=[("p", policy)], input_dir=tmp_path, out=out))
    expected_alerts = [orjson.loads(line) for line in out.getvalue().splitlines()]
    assert {a["kind"] for a in expected_alerts} >= {"health_changed", "below_warning_line"}
    got, want = alert_keys(live), alert_keys(expected_alerts)
    assert got == want, "\n".join([f"worker only: {a}" for a in got if a not in want]
                                   + [f"native only: {a}" for a in want if a not in got])
    text = worker.get("/metrics")[1]
    assert metric_value(text, "healthmon_dead_letters_total", reason="unknown_account") == 0
