"""`snowplow`: enriched events as the Snowplow analytics SDKs' JSON event transformer writes them.

That is the shape Snowbridge's `spEnrichedToJson` transformation sends to Kafka: one flat object per
event, each context as `contexts_<vendor>_<name>_<major>` (a list of objects). The account lives in a
context of your own, so the file names it: `fields: {account_id: contexts_com_acme_account_1[0].id}`.
"""

from __future__ import annotations

from typing import Any

from healthmon.ingest.formats.mapped import Mapped
from healthmon.ingest.formats.preset import Default, Preset, unread
from healthmon.ingest.formats.reader import Reader

__all__ = ["SnowplowPreset"]


class SnowplowPreset(Preset):
    """Snowplow enriched events, transformed to JSON."""

    name = "snowplow"
    reference = "https://docs.snowplow.io/docs/api-reference/analytics-sdk/"
    tables = {"usage": {
        "event_id": Default("event_id"),
        "account_id": unread("name the context that holds it, e.g. `contexts_com_acme_account_1[0].id`"),
        "user_id": Default("user_id || domain_userid"),
        "feature": Default("event_name || event"),
        "occurred_at": Default("derived_tstamp || collector_tstamp"),
    }}
    needs = {"usage": ("account_id",)}

    def map_item(self, index: int | None, item: Any, reader: Reader, out: Mapped) -> None:
        reader.emit(index, item, reader.read(item, reader.fields, {}), out)
