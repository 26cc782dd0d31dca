"""Zendesk, Intercom and Delighted webhook payloads, copied from their published examples.

Sources:
- Zendesk ticket events: https://developer.zendesk.com/api-reference/webhooks/event-types/ticket-events/
  (upper-case statuses and priorities, string ids, nanosecond times; the top-level `account_id` is the
  Zendesk tenant). `ticket.created` as Zendesk sends it, quoted in Prismatic's example payloads
  (https://prismatic.io/docs/example-payloads/zendesk/triggers/webhook.json, mixed case `Open`);
  `ticket.agent_assignment_changed` as Dust quotes the Zendesk docs (dust-tt/dust,
  front/lib/api/triggers/built-in-webhooks/zendesk/schemas/ticket_agent_assignment_changed.ts).
- Intercom: the notification envelope of https://developers.intercom.com/docs/references/webhooks/webhook-models
  around the conversation model of https://developers.intercom.com/docs/references/rest-api/api.intercom.io/
  conversations/conversation (the `custom_attributes.account_id` is added: Intercom names no account).
- Delighted: https://app.delighted.com/docs/api/webhooks, "Example request body for a survey_response object"
  (`person_properties.account_id` is added where a test says so: the example has `person_properties: null`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["DELIGHTED_UPDATED", "INTERCOM_CLOSED", "INTERCOM_PING", "ZENDESK_ASSIGNED", "ZENDESK_CREATED",
           "ZENDESK_STATUS_CHANGED", "ZENDESK_USER_EVENT"]

ZENDESK_CREATED: dict[str, Any] = {
    "type": "zen:event-type:ticket.created",
    "account_id": 88888888,
    "id": "01HNXXXX-CTEXAMPLE",
    "time": "2024-04-17T17:18:10Z",
    "zendesk_event_version": "2022-11-06",
    "subject": "zen:ticket:35436",
    "detail": {"id": "35436", "status": "Open", "via": {"channel": "web"}, "created_at": "2024-04-17T17:18:10Z",
               "updated_at": "2024-04-17T17:18:10Z", "organization_id": "8447346622462", "priority": "High"},
    "event": {"current": {"status": "Open"}},
}

ZENDESK_DETAIL: dict[str, Any] = {
    "actor_id": "8447388090494", "assignee_id": "8447388090496", "brand_id": "8447346621310",
    "created_at": "2025-01-08T10:12:07Z", "custom_status": "8447320465790",
    "description": "Customer is experiencing login issues with the mobile app", "external_id": None,
    "form_id": "8646151517822", "group_id": "8447320466430", "id": "5158", "is_public": True,
    "organization_id": "8447346622462", "priority": "URGENT", "requester_id": "8447388090494", "status": "OPEN",
    "subject": "Cannot login to mobile app", "submitter_id": "8447388090494",
    "tags": ["mobile", "login", "priority-support"], "type": "PROBLEM", "updated_at": "2025-01-08T12:15:45Z",
    "via": {"channel": "web_service"},
}

ZENDESK_ASSIGNED: dict[str, Any] = {
    "account_id": 22129848,
    "detail": ZENDESK_DETAIL,
    "event": {"previous": "8447388090494", "current": "8447388090496"},
    "id": "c6d7e8f9-0a1b-2c3d-4e5f-6a7b8c9d0e1f",
    "subject": "zen:ticket:5158",
    "time": "2025-01-08T12:15:45.789012345Z",
    "type": "zen:event-type:ticket.agent_assignment_changed",
    "zendesk_event_version": "2022-11-06",
}

ZENDESK_STATUS_CHANGED: dict[str, Any] = {
    "account_id": 22129848,
    "detail": {**ZENDESK_DETAIL, "status": "SOLVED"},
    "event": {"current": "SOLVED", "previous": "OPEN"},
    "id": "cbe4028c-7239-495d-b020-f22348516046",
    "subject": "zen:ticket:5158",
    "time": "2025-01-08T13:02:11.672717030Z",
    "type": "zen:event-type:ticket.status_changed",
    "zendesk_event_version": "2022-11-06",
}

ZENDESK_USER_EVENT: dict[str, Any] = {
    "type": "zen:event-type:user.active_changed",
    "account_id": 12514403,
    "id": "2b24ef10-19d4-4740-93cf-8f98ec4776c0",
    "time": "2099-07-04T05:33:18Z",
    "zendesk_event_version": "2022-06-20",
    "subject": "zen:user:6596848315901",
    "detail": {"created_at": "2099-07-04T05:27:58Z", "email": "someone@example.com", "external_id": "",
               "default_group_id": "0", "id": "6596848315901", "organization_id": "0", "role": "end-user",
               "updated_at": "2099-07-04T05:33:18Z"},
    "event": {"current": False, "previous": True},
}

INTERCOM_CLOSED: dict[str, Any] = {
    "type": "notification_event",
    "app_id": "ja43hiec",
    "data": {"type": "notification_event_data", "item": {
        "type": "conversation",
        "id": "1295",
        "title": "Conversation Title",
        "created_at": 1663597223,
        "updated_at": 1663597260,
        "waiting_since": 1663597260,
        "snoozed_until": None,
        "open": False,
        "state": "closed",
        "read": True,
        "priority": "not_priority",
        "admin_assignee_id": 0,
        "team_assignee_id": "5017691",
        "conversation_rating": {"rating": 5, "remark": "", "created_at": 1671028894,
                                "contact": {"type": "contact", "id": "5ba682d23d7cf92bef87bfd4",
                                            "external_id": "f3b87a2e09d514c6c2e79b9a"},
                                "teammate": {"type": "contact", "id": "1a2b3c"}},
        "contacts": {"type": "contact.list", "contacts": [
            {"type": "contact", "id": "5ba682d23d7cf92bef87bfd4", "external_id": "f3b87a2e09d514c6c2e79b9a"}]},
        "custom_attributes": {"Copilot used": True, "account_id": "acc-00042"},
    }},
    "links": {},
    "id": "notif_ccd8a4d2-c8bd-4f0e-9d5d-1e4b1a1f1c1c",
    "topic": "conversation.admin.closed",
    "delivery_status": "pending",
    "delivery_attempts": 1,
    "delivered_at": 0,
    "first_sent_at": 1671028900,
    "created_at": 1671028899,
    "self": None,
}

INTERCOM_PING: dict[str, Any] = {
    "type": "notification_event", "app_id": "ja43hiec",
    "data": {"type": "notification_event_data", "item": {"type": "ping", "message": "something something interzen"}},
    "links": {}, "id": None, "topic": "ping", "delivery_status": None, "delivery_attempts": 1, "delivered_at": 0,
    "first_sent_at": 1513261536, "created_at": 1513261536, "self": None,
}

DELIGHTED_UPDATED: dict[str, Any] = {
    "event_type": "survey_response.updated",
    "event_id": "b8d057c59327541d7ec2104c0a9a255ad1997fb00831b9c6bbf09561e6d5cbd0",
    "event_data": {
        "id": "5435",
        "person": {"id": "5975", "email": "charlie_gravis@example.com", "name": "Charlie Gravis",
                   "created_at": 1737526916},
        "survey_type": "nps",
        "score": 9,
        "comment": "Your service is fast and flawless!",
        "permalink": "https://app.delighted.com/r/5pFDpmlyC8GUc5oxU6USto5VonSKAqOa",
        "created_at": 1737526976,
        "updated_at": 1737527576,
        "person_properties": None,
        "notes": [],
        "tags": [],
        "additional_answers": [],
    },
}
