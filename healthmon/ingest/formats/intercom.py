"""`intercom`: conversation webhooks (`notification_event`s whose topic is `conversation.*`).

- A topic ending in `.created` is `opened` (`conversation.user.created`, `conversation.admin.single.created`),
  `.closed` is `closed`, `.opened` (an admin reopening it) is `reopened`, and any other conversation
  topic is `updated`. Other topics (`ping`, `contact.*`) are ignored.
- `created_at` (the notification's, when the change happened) is epoch seconds.
- The conversation rating (1-5) is the CSAT. Intercom's `priority` is `high`, `not_priority` is `normal`.
- The account is named by the file, e.g. `fields: {account_id: data.item.custom_attributes.account_id}`.
"""

from __future__ import annotations

from typing import Any

from healthmon.ingest.formats.mapped import Ignored, Mapped
from healthmon.ingest.formats.preset import Default, Preset, derived, unread
from healthmon.ingest.formats.reader import Reader

__all__ = ["IntercomPreset", "conversation_status"]

_PRIORITIES = {"priority": "high", "not_priority": "normal"}


class IntercomPreset(Preset):
    """Intercom's webhooks (API 2.x)."""

    name = "intercom"
    reference = "https://developers.intercom.com/docs/references/webhooks/webhook-models"
    time_unit = "s"
    tables = {"ticket": {
        "event_id": Default("id", "the notification id"),
        "ticket_id": Default("data.item.id"),
        "account_id": unread("name it, e.g. `data.item.custom_attributes.account_id`"),
        "status": derived("topic `*.created` opened, `*.closed` closed, `*.opened` reopened, else updated"),
        "priority": Default("data.item.priority", "`priority` high, `not_priority` (or none) normal"),
        "occurred_at": Default("created_at", "epoch seconds"),
        "csat": Default("data.item.conversation_rating.rating"),
    }}
    needs = {"ticket": ("account_id",)}

    def map_item(self, index: int | None, item: Any, reader: Reader, out: Mapped) -> None:
        topic = item.get("topic")
        if not isinstance(topic, str) or not topic.startswith("conversation."):
            out.add_ignored(Ignored(index, "intercom notification other than a conversation's"))
            return
        values = reader.read(item, ("event_id", "ticket_id", "occurred_at", "csat"), {})
        values["status"] = reader.get("status", item) if reader.has("status") else conversation_status(topic)
        priority = reader.get("priority", item, required=False)
        values["priority"] = _PRIORITIES.get(priority, priority) if priority is not None else "normal"
        reader.emit(index, item, values, out)


def conversation_status(topic: str) -> str:
    """Return the contract status of an Intercom conversation notification's topic."""
    if topic.endswith(".created"):
        return "opened"
    if topic.endswith(".closed"):
        return "closed"
    if topic.endswith((".opened", ".reopened")):
        return "reopened"
    return "updated"
