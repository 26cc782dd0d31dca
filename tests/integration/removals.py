"""A history whose account rows come from Debezium, and the CRM's delete of one account (tests of removals)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import yaml

from healthmon.config import Settings
from healthmon.core import Policy
from healthmon.generator import Traffic
from healthmon.generator.formats import plan_formats, shape_traffic
from healthmon.generator.formats.message import Message
from healthmon.kafka.admin import ensure_topics
from healthmon.produce import produce_messages
from tests.fixtures import END_MS, metric_value
from tests.inputs.shaped import policy_without_csat, topics, traffic
from tests.integration.scenario import TOPICS

__all__ = ["REMOVED", "CrmHistory", "crm_history", "delete_messages", "send_history"]

#: an account of the history below with alerts still firing at its end
REMOVED = "acc-00008"
#: the history ends a day before this instant, the CRM's delete: fixed, so the alerts do not depend on the day
_FILE_KINDS = {"usage": "usage", "ticket": "tickets", "nps": "nps", "account": "accounts"}


@dataclass
class CrmHistory:
    """The settings (with their inputs file), policy, history and messages of a test."""

    settings: Settings
    policy: Policy
    history: Traffic
    messages: list[Message]
    #: the Debezium snapshot row of `REMOVED`
    row: Message
    now_ms: int

    @property
    def profiles(self) -> list[Message]:
        """Return the account rows."""
        return [m for m in self.messages if m.kind == "account"]


async def crm_history(base: Settings, tmp_path: Path, topic_io: Any) -> CrmHistory:
    """Return 35 days of 12 accounts ending a day before `END_MS`: native events, Debezium rows (topics created)."""
    prefix, native = base.topics.prefix, base.topics.input_names
    policy_file = tmp_path / "policy.yaml"
    policy = policy_without_csat(policy_file)
    now_ms = END_MS
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
    row = next(m for m in messages if m.kind == "account"
               and orjson.loads(m.value or b"")["payload"]["after"]["id"] == REMOVED)
    return CrmHistory(settings, policy, history, messages, row, now_ms)


def delete_messages(row: Message, at_ms: int, shape: str = "delete") -> list[Message]:
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


def _messages(worker: Any, topic: str) -> float:
    return metric_value(worker.get("/metrics")[1], "healthmon_messages_total", topic=topic)


def _processed(worker: Any) -> float:
    text = worker.get("/metrics")[1]
    return sum(metric_value(text, "healthmon_events_total", topic=t, outcome="ok") for t in TOPICS)


async def send_history(worker: Any, crm: CrmHistory) -> None:
    """Send the rows, wait until the worker read them, send the events, wait until it applied them all."""
    settings = crm.settings
    # The rows first, as a company's accounts exist before their usage.
    await produce_messages(settings, settings.kafka.broker_url, crm.profiles)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and _messages(worker, "accounts") < len(crm.profiles):
        time.sleep(0.3)
    assert _messages(worker, "accounts") == len(crm.profiles), worker.log_tail()
    await produce_messages(settings, settings.kafka.broker_url, [m for m in crm.messages if m.kind != "account"])
    expected = sum(1 for r in crm.history.records() if r.kind in ("usage", "ticket", "nps"))
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and _processed(worker) < expected:
        time.sleep(0.5)
    assert _processed(worker) >= expected, worker.log_tail()
