"""Over the real broker: a Debezium delete (its change event and its tombstone) is a removal for a worker and for
`backtest --from-kafka` alike: the same alerts, the removed account's open alerts resolved with `account_removed`."""

from __future__ import annotations

import io
import time

import orjson
import pytest
import yaml

from healthmon.backtest import BacktestOptions, backtest
from healthmon.generator.formats import plan_formats, shape_traffic
from healthmon.generator.formats.message import Message
from healthmon.kafka.admin import ensure_topics
from healthmon.produce import produce_messages
from tests.fixtures import metric_value
from tests.inputs.shaped import alert_keys, policy_without_csat, topics, traffic
from tests.integration.scenario import TOPICS, read_alerts

pytestmark = pytest.mark.integration

#: an account of the history below with three alerts still firing at its end
REMOVED = "acc-00008"
_FILE_KINDS = {"usage": "usage", "ticket": "tickets", "nps": "nps", "account": "accounts"}


def _delete(row: Message, at_ms: int, shape: str) -> list[Message]:
    """Return the CRM's delete of the account of snapshot `row`: its change event, then its tombstone (`tombstone`:
    the tombstone alone, as a compacted topic keeps it)."""
    tombstone = Message(row.topic, row.key, None, "account", at_ms)
    if shape == "tombstone":
        return [tombstone]
    value = orjson.loads(row.value or b"")
    payload = value["payload"]
    payload.update(before=payload["after"], after=None, op="d", ts_ms=at_ms,
                   source={**payload["source"], "ts_ms": at_ms, "snapshot": "false"})
    return [Message(row.topic, row.key, orjson.dumps(value), "account", at_ms), tombstone]


def _messages(worker, topic: str) -> float:
    return metric_value(worker.get("/metrics")[1], "healthmon_messages_total", topic=topic)


def _processed(worker) -> float:
    text = worker.get("/metrics")[1]
    return sum(metric_value(text, "healthmon_events_total", topic=t, outcome="ok") for t in TOPICS)


def _removed(alerts: list[dict]) -> list[dict]:
    return [a for a in alerts if a.get("details", {}).get("reason") == "account_removed"]


@pytest.mark.parametrize("shape", ["delete", "tombstone"])
async def test_a_worker_and_the_backtest_from_kafka_remove_a_deleted_account_alike(shape, worker_factory,
                                                                                    settings_factory, topic_io,
                                                                                    tmp_path) -> None:
    base = settings_factory()
    prefix, native = base.topics.prefix, base.topics.input_names
    policy_file = tmp_path / "policy.yaml"
    policy = policy_without_csat(policy_file)
    now_ms = int(time.time() * 1000)
    history = traffic(now_ms - 86_400_000, days=35, accounts=12)
    messages = list(shape_traffic(history, plan_formats(["debezium"]), topics(prefix), native))
    crm = next(m.topic for m in messages if m.kind == "account")
    inputs = [{"topic": native[kind], "kind": _FILE_KINDS[kind], "format": "healthmon"}
              for kind in ("usage", "ticket", "nps")]
    inputs.append({"topic": crm, "kind": "accounts", "format": "debezium",
                   "fields": {"account_id": "id", "name": "name", "tier": "plan", "seats": "seats", "arr": "arr",
                              "csm": "owner_email", "contract_start": "contract_start",
                              "renewal_date": "renewal_date"},
                   "values": {"tier": {"enterprise": "strategic", "growth": "key", "starter": "standard"}}})
    (tmp_path / "inputs.yaml").write_text(yaml.safe_dump({"inputs": inputs}))
    settings = base.replace(ingest={"inputs_file": str(tmp_path / "inputs.yaml")},
                            engine={"policy_file": str(policy_file)})
    await ensure_topics(topic_io.bootstrap, settings.topics, settings.kafka, inputs=[crm])
    profiles = [m for m in messages if m.kind == "account"]
    row = next(m for m in profiles if orjson.loads(m.value or b"")["payload"]["after"]["id"] == REMOVED)

    worker = worker_factory(settings)
    worker.wait_ready()
    # The rows first, as a company's accounts exist before their usage; the delete after the history.
    await produce_messages(settings, settings.kafka.broker_url, profiles)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and _messages(worker, "accounts") < len(profiles):
        time.sleep(0.3)
    assert _messages(worker, "accounts") == len(profiles), worker.log_tail()
    await produce_messages(settings, settings.kafka.broker_url, [m for m in messages if m.kind != "account"])
    expected = sum(1 for r in history.records() if r.kind in ("usage", "ticket", "nps"))
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and _processed(worker) < expected:
        time.sleep(0.5)
    assert _processed(worker) >= expected, worker.log_tail()
    await produce_messages(settings, settings.kafka.broker_url, _delete(row, now_ms, shape))
    deadline = time.monotonic() + 90
    live = await read_alerts(topic_io, settings, settle_s=1.0)
    while time.monotonic() < deadline and len(_removed(live)) < 3:
        live = await read_alerts(topic_io, settings, settle_s=1.0)
    assert [(a["account_id"], a["status"], a["details"]["removal"]) for a in _removed(live)] == [
        (REMOVED, "resolved", "deleted" if shape == "delete" else "tombstone")] * 3, worker.log_tail()

    out = io.BytesIO()
    await backtest(settings, BacktestOptions(policies=[("p", policy)], broker_url=settings.kafka.broker_url, out=out))
    replayed = [orjson.loads(line) for line in out.getvalue().splitlines()]
    got, want = alert_keys(replayed), alert_keys(live)
    assert got == want, "\n".join([f"backtest only: {a}" for a in got if a not in want]
                                   + [f"worker only: {a}" for a in want if a not in got])
