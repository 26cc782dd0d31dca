"""`zendesk`: ticket event webhooks (`zen:event-type:ticket.*`), as Zendesk's event subscriptions send them.

- `ticket.created` is `opened`. `ticket.status_changed` to solved or closed is `closed`; from solved or
  closed to anything else is `reopened`; any other status change, and every other ticket event, is
  `updated`. Statuses and priorities are read in either case (`SOLVED`, `solved`); a ticket without a
  priority is `normal`.
- The account is the ticket's `detail.organization_id`, through `account_link` when the file sets one.
  The payload's top-level `account_id` is the Zendesk tenant, never the customer.
- Zendesk's satisfaction rating is good or bad: it is not a 1-5 CSAT, and is never turned into one.
- Events other than ticket events (users, organizations, articles) are ignored.
"""

from __future__ import annotations

from typing import Any

from healthmon.ingest.formats.mapped import Ignored, Mapped
from healthmon.ingest.formats.preset import Default, Preset, derived, unread
from healthmon.ingest.formats.reader import Reader

__all__ = ["ZendeskPreset", "ticket_status"]

_PREFIX = "zen:event-type:ticket."
_DONE = frozenset({"solved", "closed"})


class ZendeskPreset(Preset):
    """Zendesk's ticket event webhooks."""

    name = "zendesk"
    reference = "https://developer.zendesk.com/api-reference/webhooks/event-types/ticket-events/"
    tables = {"ticket": {
        "event_id": Default("id"),
        "ticket_id": Default("detail.id"),
        "account_id": Default("detail.organization_id",
                              "through `account_link` when set; the top-level `account_id` is the Zendesk tenant"),
        "status": derived("`ticket.created` opened; a `status_changed` to solved/closed closed, from them reopened; "
                          "else updated"),
        "priority": Default("detail.priority", "either case; none is normal"),
        "occurred_at": Default("time"),
        "csat": unread("not read: Zendesk's good/bad satisfaction is no 1-5 CSAT"),
    }}

    def map_item(self, index: int | None, item: Any, reader: Reader, out: Mapped) -> None:
        kind = item.get("type")
        if not isinstance(kind, str) or not kind.startswith(_PREFIX):
            out.add_ignored(Ignored(index, "zendesk event other than a ticket event"))
            return
        values = reader.read(item, ("event_id", "ticket_id", "occurred_at", "csat"), {})
        values["status"] = reader.get("status", item) if reader.has("status") else ticket_status(kind, item)
        values["priority"] = reader.get("priority", item, required=False) or "normal"
        reader.emit(index, item, values, out)


def ticket_status(kind: str, item: dict[str, Any]) -> str:
    """Return the contract status of a Zendesk ticket event of type `kind`."""
    event = kind.removeprefix(_PREFIX)
    if event == "created":
        return "opened"
    if event != "status_changed":
        return "updated"
    change = item.get("event")
    change = change if isinstance(change, dict) else {}
    detail = item.get("detail")
    current = change.get("current") or (detail.get("status") if isinstance(detail, dict) else None)
    previous = change.get("previous")
    if _word(current) in _DONE:
        return "closed"
    if _word(previous) in _DONE:
        return "reopened"
    return "updated"


def _word(value: Any) -> str:
    return value.lower() if isinstance(value, str) else ""
