"""`generate --format`: every scenario, shaped and mapped back, gives today's native events.

This is the base of the issue's "same alerts" test: what each source cannot carry is named here, once,
and compared without (`LOSSES`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from healthmon.generator import generate, scenario_names
from healthmon.generator.formats import EXAMPLE_TOPICS, Message, plan_formats, shape_traffic
from healthmon.ingest import decode_message
from healthmon.ingest.formats import InputMapper
from healthmon.ingest.inputs import default_inputs, load_inputs
from schemas.events import AccountProfile

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = load_inputs(ROOT / "deploy" / "inputs.example.yaml")
NATIVE_TOPICS = {"usage": "product-usage", "ticket": "support-tickets", "nps": "nps-responses", "account": "accounts"}
SPECS = {**default_inputs(NATIVE_TOPICS).by_topic(), **EXAMPLE.by_topic()}
NOW_MS = 1_900_000_000_000
FIELDS = {"usage": ("event_id", "account_id", "user_id", "feature", "occurred_at", "properties"),
          "ticket": ("event_id", "ticket_id", "account_id", "status", "priority", "occurred_at", "csat"),
          "nps": ("event_id", "account_id", "user_id", "score", "occurred_at"),
          "account": ("account_id", "name", "tier", "seats", "arr", "csm", "contract_start", "renewal_date")}
_HIGH = {"low": "normal", "normal": "normal", "high": "high", "urgent": "high"}
#: (format, kind) -> what the source cannot carry, as the change it makes to a native event's fields
LOSSES: dict[tuple[str, str], dict[str, Any]] = {
    # Snowplow's preset reads no properties (they would live in an unstruct event of the site's own).
    ("snowplow", "usage"): {"properties": lambda v: None},
    # A CloudEvent is identified by its source and id together.
    ("cloudevents", "usage"): {"event_id": lambda v: f"/healthmon/generator {v}"},
    # Zendesk's satisfaction is good or bad: no 1-5 CSAT.
    ("zendesk", "ticket"): {"csat": lambda v: None},
    # Intercom has two priorities and whole seconds.
    ("intercom", "ticket"): {"priority": _HIGH.get, "occurred_at": lambda v: v // 1000 * 1000},
    # Delighted sends whole seconds.
    ("delighted", "nps"): {"occurred_at": lambda v: v // 1000 * 1000},
}
FORMAT_SETS = [["segment"], ["rudderstack"], ["snowplow"], ["cloudevents"], ["zendesk"], ["intercom"], ["delighted"],
               ["debezium"], ["segment", "zendesk", "delighted", "debezium"], ["rudderstack", "intercom", "debezium"]]


def _native(traffic) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {kind: [] for kind in FIELDS}
    for record in traffic.records():
        if record.kind == "account":
            profile = AccountProfile.model_validate(record.value).model_dump()
            out["account"].append(tuple(profile[f] for f in FIELDS["account"]) + (profile["updated_at"],))
            continue
        decoded = decode_message(record.kind, orjson.dumps(record.value), now_ms=NOW_MS, max_bytes=10**6,
                                 max_future_skew_ms=0)
        event = decoded.events[0][1]
        out[record.kind].append(tuple(getattr(event, f) for f in FIELDS[record.kind]))
    return out


def _mapped(messages: list[Message]) -> tuple[dict[str, list[tuple]], dict[str, list[tuple]]]:
    """Map every message as a worker would, resolving links as they arrive; return events and replacements."""
    mappers = {topic: InputMapper(spec) for topic, spec in SPECS.items()}
    links: dict[tuple[str, str], str] = {}
    profiles: dict[str, dict[str, Any]] = {}
    out: dict[str, list[tuple]] = {kind: [] for kind in FIELDS}
    replaced: dict[str, list[tuple]] = {kind: [] for kind in FIELDS}
    for message in messages:
        spec = SPECS[message.topic]
        mapped = mappers[message.topic].map(message.value, message.key, list(message.headers), now_ms=NOW_MS,
                                            max_bytes=10**6, max_future_skew_ms=0)
        assert not mapped.rejections and not mapped.ignored, (message, mapped)
        for link in mapped.links:
            links[(link.link, link.key)] = link.account_id
        for patch in mapped.patches:
            profiles.setdefault(patch.account_id, {"updated_at": patch.occurred_at}).update(patch.fields)
        events = [e for _, e in mapped.events]
        for linked in mapped.linked:
            linked.event.account_id = links[(linked.link, linked.key)]  # the link always came first
            (replaced[spec.kind] if linked.replaces else events).append(linked.event)
        for _, event in mapped.replacements:
            replaced[spec.kind].append(tuple(getattr(event, f) for f in FIELDS[spec.kind]))
        for event in events:
            row = tuple(getattr(event, f) for f in FIELDS[spec.kind])
            out[spec.kind].append(row + (event.updated_at,) if spec.kind == "account" else row)
    for account_id, fields in profiles.items():
        profile = AccountProfile.model_validate({"account_id": account_id, **fields}).model_dump()
        out["account"].append(tuple(profile[f] for f in FIELDS["account"]) + (fields["updated_at"],))
    return out, replaced


def _lossy(kind: str, fmt: str, rows: list[tuple]) -> list[tuple]:
    changes = LOSSES.get((fmt, kind), {})
    names = FIELDS[kind]
    return [tuple(changes[n](v) if n in changes else v for n, v in zip(names, row)) + row[len(names):]
            for row in rows]


@pytest.mark.parametrize("formats", FORMAT_SETS, ids=[",".join(f) for f in FORMAT_SETS])
@pytest.mark.parametrize("scenario", scenario_names())
def test_shaped_traffic_maps_back_to_the_native_events(scenario, formats):
    traffic = generate(accounts=6, scenario=scenario, seed=5, days=21)
    plan = plan_formats(formats)
    messages = list(shape_traffic(traffic, plan, EXAMPLE_TOPICS, NATIVE_TOPICS))
    native = _native(traffic)
    mapped, replaced = _mapped(messages)
    for kind, fmt in plan.shapes.items():
        assert mapped[kind] == _lossy(kind, fmt, native[kind]), (kind, fmt)
        assert native[kind] or kind == "nps"  # every kind has events to compare (NPS may be rare)
    if plan.shapes["nps"] == "delighted":
        # every fifth response is answered again: the same score, replacing the earlier one
        expected = _lossy("nps", "delighted", native["nps"])[4::5]
        assert replaced["nps"] == expected
    assert sum(m.topic == EXAMPLE_TOPICS.get((f, "account")) for f in ("segment", "rudderstack")
               for m in messages) >= (6 if plan.links else 0)


def test_half_the_segment_users_come_through_the_user_link():
    traffic = generate(accounts=4, scenario="healthy", seed=2, days=7)
    messages = [m for m in shape_traffic(traffic, plan_formats(["segment"]), EXAMPLE_TOPICS, NATIVE_TOPICS)
                if m.topic == "segment-tracks"]
    grouped = sum(b'"groupId"' in m.value for m in messages)
    assert messages and 0.3 < grouped / len(messages) < 0.7
    assert all(m.key is None for m in messages)  # Segment's destination sends no key by default
