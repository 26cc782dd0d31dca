"""`delighted`: survey-response webhooks (`survey_response.created` and `.updated`), NPS surveys only.

A response is one event: its id is the event id, `created` brings the first score and `updated` a later
answer to the same response, which replaces the earlier score (`Mapped.replacements`, or a
`LinkedEvent` with `replaces`). Times are epoch seconds. Other survey types (CSAT, CES, smileys...) and
other events (`unsubscribe.created`) are ignored; a response without `survey_type` is an NPS one.
"""

from __future__ import annotations

from typing import Any

from healthmon.ingest.formats.mapped import Ignored, Mapped
from healthmon.ingest.formats.preset import Default, Preset, unread
from healthmon.ingest.formats.reader import Reader

__all__ = ["DelightedPreset"]

_CREATED, _UPDATED = "survey_response.created", "survey_response.updated"


class DelightedPreset(Preset):
    """Delighted's webhooks."""

    name = "delighted"
    reference = "https://app.delighted.com/docs/api/webhooks"
    time_unit = "s"
    tables = {"nps": {
        "event_id": Default("event_data.id", "the response id: `created` and `updated` of it are one event"),
        "account_id": unread("name it, e.g. `event_data.person_properties.account_id`"),
        "user_id": Default("event_data.person.id"),
        "score": Default("event_data.score"),
        "occurred_at": Default("event_data.created_at", "epoch seconds"),
    }}
    needs = {"nps": ("account_id",)}

    def map_item(self, index: int | None, item: Any, reader: Reader, out: Mapped) -> None:
        kind = item.get("event_type")
        if kind not in (_CREATED, _UPDATED):
            out.add_ignored(Ignored(index, "delighted event other than a survey response"))
            return
        data = item.get("event_data")
        survey = data.get("survey_type") if isinstance(data, dict) else None
        if survey not in (None, "nps"):  # older webhooks, from before other survey types, name none
            out.add_ignored(Ignored(index, "delighted survey other than nps"))
            return
        reader.emit(index, item, reader.read(item, reader.fields, {}), out, replaces=kind == _UPDATED)
