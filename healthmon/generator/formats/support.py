"""Tickets as Zendesk ticket events or Intercom conversation webhooks; NPS answers as Delighted webhooks.

- Zendesk: opened is `ticket.created`, closed a `status_changed` to SOLVED, reopened one from SOLVED back
  to OPEN, updated a `comment_added`; the ticket's organization is the account's Zendesk organization
  (Debezium rows link the two). Zendesk has no 1-5 CSAT: the generated events carry none.
- Intercom: opened is `conversation.user.created`, closed `conversation.admin.closed` (the rating is the
  CSAT), reopened `conversation.admin.opened`, updated `conversation.user.replied`. Intercom has two
  priorities (`priority`, `not_priority`) and whole seconds.
- Delighted: each answer is `survey_response.created`; every fifth response is followed by an `updated`
  of the same response (a comment added, the same score). Whole seconds.
"""

from __future__ import annotations

from typing import Any

from ..accounts import Account
from ..records import Record
from .message import Message, Shaping, json_bytes, zendesk_org_id

__all__ = ["delighted_response", "intercom_conversation", "zendesk_ticket"]

#: the Zendesk tenant of the generated events (the payloads' own `account_id`, never the customer)
ZENDESK_TENANT = 10_973_248
_ZENDESK_TYPES = {"opened": "ticket.created", "updated": "ticket.comment_added", "closed": "ticket.status_changed",
                  "reopened": "ticket.status_changed"}
_ZENDESK_CHANGE = {"closed": {"previous": "OPEN", "current": "SOLVED"},
                   "reopened": {"previous": "SOLVED", "current": "OPEN"}}
_ZENDESK_STATUS = {"opened": "NEW", "updated": "OPEN", "closed": "SOLVED", "reopened": "OPEN"}
_INTERCOM_TOPICS = {"opened": "conversation.user.created", "updated": "conversation.user.replied",
                    "closed": "conversation.admin.closed", "reopened": "conversation.admin.opened"}


def zendesk_ticket(shaping: Shaping, record: Record, account: Account) -> list[Message]:
    """Return a ticket event as a Zendesk ticket event webhook."""
    value, status = record.value, record.value["status"]
    at = shaping.fmt(record.occurred_at)
    event: Any = _ZENDESK_CHANGE.get(status) or (
        {"comment": {"id": value["event_id"], "body": "Any news on this?", "is_public": True}}
        if status == "updated" else {"current": {"status": "NEW"}})
    payload = {
        "type": f"zen:event-type:{_ZENDESK_TYPES[status]}", "account_id": ZENDESK_TENANT, "id": value["event_id"],
        "time": at, "zendesk_event_version": "2022-11-06", "subject": f"zen:ticket:{value['ticket_id']}",
        "detail": {"id": value["ticket_id"], "organization_id": str(zendesk_org_id(account)),
                   "priority": value["priority"].upper(), "status": _ZENDESK_STATUS[status], "type": "QUESTION",
                   "subject": "Help with our account", "requester_id": "8447388090494", "via": {"channel": "web"},
                   "created_at": at, "updated_at": at},
        "event": event,
    }
    return [Message(shaping.topic("zendesk", "ticket"), value["account_id"].encode(), json_bytes(payload), "ticket",
                    record.occurred_at)]


def intercom_conversation(shaping: Shaping, record: Record, account: Account) -> list[Message]:
    """Return a ticket event as an Intercom conversation notification."""
    value, status = record.value, record.value["status"]
    seconds = record.occurred_at // 1000
    item: dict[str, Any] = {
        "type": "conversation", "id": value["ticket_id"], "created_at": seconds, "updated_at": seconds,
        "state": "closed" if status == "closed" else "open", "open": status != "closed",
        "priority": "priority" if value["priority"] in ("high", "urgent") else "not_priority",
        "custom_attributes": {"account_id": value["account_id"]},
        "conversation_rating": {"rating": value["csat"], "remark": "", "created_at": seconds}
        if value.get("csat") is not None else None,
    }
    payload = {"type": "notification_event", "app_id": "acme1234", "id": value["event_id"],
               "topic": _INTERCOM_TOPICS[status], "data": {"type": "notification_event_data", "item": item},
               "links": {}, "delivery_status": "pending", "delivery_attempts": 1, "delivered_at": 0,
               "first_sent_at": seconds, "created_at": seconds, "self": None}
    return [Message(shaping.topic("intercom", "ticket"), value["account_id"].encode(), json_bytes(payload), "ticket",
                    record.occurred_at)]


def delighted_response(shaping: Shaping, record: Record, account: Account) -> list[Message]:
    """Return an NPS answer as Delighted's `survey_response.created`, and for every fifth an `updated`."""
    value = record.value
    seconds = record.occurred_at // 1000
    data: dict[str, Any] = {
        "id": value["event_id"],
        "person": {"id": value["user_id"], "email": f"{value['user_id']}@example.com", "created_at": seconds},
        "survey_type": "nps", "score": value["score"], "comment": None, "created_at": seconds,
        "updated_at": seconds, "person_properties": {"account_id": value["account_id"]}, "notes": [], "tags": [],
        "additional_answers": [],
    }
    topic, key = shaping.topic("delighted", "nps"), value["account_id"].encode()
    created = {"event_type": "survey_response.created", "event_id": f"{value['event_id']}-c", "event_data": data}
    out = [Message(topic, key, json_bytes(created), "nps", record.occurred_at)]
    if shaping.count("delighted") % 5 == 4:
        data = {**data, "comment": "Thanks, it keeps getting better.", "updated_at": seconds + 600}
        updated = {"event_type": "survey_response.updated", "event_id": f"{value['event_id']}-u", "event_data": data}
        out.append(Message(topic, key, json_bytes(updated), "nps", record.occurred_at))
    return out
