"""Usage and profiles as Segment or RudderStack calls: tracks, and group calls that link users to accounts.

Half the users of each account (those with an odd number) are linked by a `group` call at the start and
send tracks without `context.groupId`; the others' tracks name their group. The account's profile is the
traits of one `group` call, unless Debezium rows carry the profiles.
"""

from __future__ import annotations

from typing import Any

from ..accounts import Account
from ..records import Record
from ..usage import user_id
from .message import Message, Shaping, json_bytes

__all__ = ["group_calls", "linked_user", "track"]

_LIBRARY = {"segment": {"name": "analytics-python", "version": "2.3.2"},
            "rudderstack": {"name": "rudder-sdk-python", "version": "2.1.0"}}


def linked_user(user: str) -> bool:
    """Return whether a user's account comes from a `group` call (odd user numbers) rather than its tracks."""
    return int(user.rsplit("-", 1)[1]) % 2 == 1


def _time(shaping: Shaping, fmt: str, ms: int) -> dict[str, str]:
    text = shaping.fmt(ms)
    # RudderStack clients send originalTimestamp; Segment's server sets timestamp.
    return {"originalTimestamp": text} if fmt == "rudderstack" else {"timestamp": text, "originalTimestamp": text}


def track(fmt: str, shaping: Shaping, record: Record, account: Account) -> list[Message]:
    """Return a usage event as a `track` call."""
    value = record.value
    user = value["user_id"]
    context: dict[str, Any] = {"library": _LIBRARY[fmt]}
    if shaping.links is None or not linked_user(user):
        context["groupId"] = value["account_id"]
    call: dict[str, Any] = {"type": "track", "messageId": value["event_id"], "userId": user, "event": value["feature"],
                            "context": context, **_time(shaping, fmt, record.occurred_at)}
    if value.get("properties") is not None:
        call["properties"] = value["properties"]
    if fmt == "rudderstack":
        call["channel"] = "server"
    key = user.encode() if fmt == "rudderstack" else None  # Segment's destination sends no key by default
    return [Message(shaping.topic(fmt, "usage"), key, json_bytes(call), "usage", record.occurred_at)]


def _traits(profile: dict[str, Any]) -> dict[str, Any]:
    return {name: profile[name] for name in ("name", "tier", "seats", "arr", "csm", "contract_start", "renewal_date")}


def group_calls(fmt: str, shaping: Shaping, record: Record, account: Account, *, traits: bool) -> list[Message]:
    """Return an account's `group` calls: its profile (with `traits`) from user 0, and one per linked user."""
    topic = shaping.topic(fmt, "account")
    out = []
    users = [0] if traits else []
    if shaping.links is not None:
        users += [n for n in range(1, account.seats, 2)]
    for n in users:
        user = user_id(account, n)
        call: dict[str, Any] = {"type": "group", "messageId": f"g-{account.account_id}-{n}", "userId": user,
                                "groupId": account.account_id, "context": {"library": _LIBRARY[fmt]},
                                **_time(shaping, fmt, record.occurred_at)}
        if traits and n == 0:
            call["traits"] = _traits(record.value)
        key = user.encode() if fmt == "rudderstack" else None
        out.append(Message(topic, key, json_bytes(call), "account", record.occurred_at))
    return out
