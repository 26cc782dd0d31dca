"""Usage as Snowplow enriched events (the analytics SDK's JSON) or as CloudEvents.

Snowplow carries the account in a context of the site's own, `com.acme/account/jsonschema/1-0-0`, and no
properties. CloudEvents alternate structured mode (JSON) and binary mode (`ce_*` headers, the data as the
value); the data holds the account and the properties.
"""

from __future__ import annotations

from typing import Any

from ..accounts import Account
from ..records import Record
from .message import Message, Shaping, json_bytes

__all__ = ["CLOUDEVENTS_SOURCE", "cloudevent", "snowplow_event"]

#: the `source` of the generator's CloudEvents (the event id is `source` and `id`)
CLOUDEVENTS_SOURCE = "/healthmon/generator"


def snowplow_event(shaping: Shaping, record: Record, account: Account) -> list[Message]:
    """Return a usage event as a Snowplow enriched event in JSON."""
    value = record.value
    at = shaping.fmt(record.occurred_at)
    event = {
        "app_id": "acme-app", "platform": "srv", "etl_tstamp": at, "collector_tstamp": at, "dvce_created_tstamp": at,
        "event": "unstruct", "event_id": value["event_id"], "name_tracker": "healthmon", "v_tracker": "py-1.0.4",
        "v_collector": "ssc-3.2.0-kafka", "v_etl": "snowplow-enrich-kafka-5.1.0", "user_id": value["user_id"],
        "domain_userid": None, "contexts_com_acme_account_1": [{"id": value["account_id"]}],
        "unstruct_event_com_acme_feature_used_1": {"feature": value["feature"]},
        "derived_tstamp": at, "event_vendor": "com.acme", "event_name": value["feature"], "event_format": "jsonschema",
        "event_version": "1-0-0", "true_tstamp": None,
    }
    return [Message(shaping.topic("snowplow", "usage"), value["account_id"].encode(), json_bytes(event), "usage",
                    record.occurred_at)]


def cloudevent(shaping: Shaping, record: Record, account: Account) -> list[Message]:
    """Return a usage event as a CloudEvent, structured or (every other one, when allowed) binary."""
    value = record.value
    data: dict[str, Any] = {"account_id": value["account_id"]}
    if value.get("properties") is not None:
        data["properties"] = value["properties"]
    attributes = {"specversion": "1.0", "id": value["event_id"], "source": CLOUDEVENTS_SOURCE,
                  "type": value["feature"], "time": shaping.fmt(record.occurred_at), "subject": value["user_id"]}
    topic, key = shaping.topic("cloudevents", "usage"), value["account_id"].encode()
    if shaping.binary and shaping.count("cloudevents") % 2 == 1:
        headers = tuple((f"ce_{name}", str(text).encode()) for name, text in attributes.items())
        return [Message(topic, key, json_bytes(data), "usage", record.occurred_at,
                        headers + (("content-type", b"application/json"),))]
    event = {**attributes, "datacontenttype": "application/json", "data": data}
    return [Message(topic, key, json_bytes(event), "usage", record.occurred_at,
                    (("content-type", b"application/cloudevents+json; charset=UTF-8"),))]
