"""`cloudevents`: CloudEvents 1.0 in Kafka, structured mode (a JSON event, or a JSON batch) or binary mode.

In binary mode the attributes are `ce_*` headers and the value is the event's `data`; either way the
expressions of the table read one object: the attributes by name and the data under `data`. `source`
and `id` together identify an event (the spec says so): the event id is `source`, a space, then `id`
(a space cannot appear in a URI-reference, so no two events share one). The account is named by the file
(`fields: {account_id: data.account_id}`).
"""

from __future__ import annotations

from typing import Any

import orjson

from healthmon.core.vocabulary import InputKind
from healthmon.ingest.formats.contract import Failure
from healthmon.ingest.formats.convert import to_id
from healthmon.ingest.formats.mapped import Mapped
from healthmon.ingest.formats.preset import Default, Headers, Item, Preset, derived, json_items, load_json, unread
from healthmon.ingest.formats.reader import Reader
from schemas.deadletter import DeadLetterReason

__all__ = ["CloudEventsPreset", "binary_attributes", "binary_event", "event_id"]

_ACCOUNT = unread("name it, e.g. `data.account_id`")
_EVENT_ID = derived("`source`, a space, `id`")
_TIME = Default("time")


def _table(kind: InputKind) -> dict[str, Default]:
    if kind == "usage":
        return {"event_id": _EVENT_ID, "account_id": _ACCOUNT, "user_id": Default("subject"),
                "feature": Default("type"), "occurred_at": _TIME}
    return {"event_id": _EVENT_ID, "account_id": _ACCOUNT, "occurred_at": _TIME}


class CloudEventsPreset(Preset):
    """The CloudEvents JSON format and its Kafka protocol binding."""

    name = "cloudevents"
    reference = "https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/kafka-protocol-binding.md"
    tables = {"usage": _table("usage"), "ticket": _table("ticket"), "nps": _table("nps")}
    needs = {"usage": ("account_id",), "ticket": ("account_id", "ticket_id", "status", "priority"),
             "nps": ("account_id", "user_id", "score")}

    def items(self, value: bytes, headers: Headers | None) -> list[Item]:
        attributes = binary_attributes(headers)
        if attributes is not None:
            return [(None, binary_event(attributes, value))]
        return json_items(load_json(value), batch_key=None)

    def map_item(self, index: int | None, item: Any, reader: Reader, out: Mapped) -> None:
        values = reader.read(item, reader.fields, {})
        if "event_id" not in values:
            values["event_id"] = event_id(item)
        reader.emit(index, item, values, out)


def binary_attributes(headers: Headers | None) -> dict[str, Any] | None:
    """Return the CloudEvents attributes of a binary-mode message's headers, or None when it is not one."""
    if not headers:
        return None
    attributes: dict[str, Any] = {}
    content_type = None
    for name, raw in headers:
        text = raw.decode("utf-8", "replace") if raw is not None else None
        if name.startswith("ce_"):
            attributes[name[3:]] = text
        elif name.lower() == "content-type":
            content_type = text
    if "specversion" not in attributes:
        return None
    if content_type is not None:
        attributes["datacontenttype"] = content_type
    return attributes


def binary_event(attributes: dict[str, Any], value: bytes) -> dict[str, Any]:
    """Return a binary-mode event as the structured one: its attributes, and the value as `data`."""
    content_type = str(attributes.get("datacontenttype") or "application/json").split(";")[0].strip().lower()
    data: Any = value.decode("utf-8", "replace")
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            data = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise Failure(DeadLetterReason.NOT_JSON, f"data ({content_type}) is not JSON: {exc}") from None
    return {**attributes, "data": data}


def event_id(item: dict[str, Any]) -> str:
    """Return the event id of a CloudEvent: its `source` and `id`."""
    parts = []
    for name in ("source", "id"):
        value = item.get(name)
        if value is None or value == "":
            raise Failure(DeadLetterReason.UNMAPPED, f"event_id: `{name}` found nothing (a CloudEvent has both "
                                                     "source and id)")
        try:
            parts.append(to_id(value))
        except ValueError as exc:
            raise Failure(DeadLetterReason.UNMAPPED, f"event_id: `{name}` {exc}") from None
    return " ".join(parts)
