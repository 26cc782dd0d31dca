"""The hot path of Segment and RudderStack tracks: msgspec reads only the fields the preset's table needs.

`track_fast` either returns exactly what the preset's own path (`segment.SegmentPreset.map_item` through
the `Reader`) returns for a message, or None, and then the caller runs that path. It takes a single
`track` call of an input whose file gives no `fields` or `values`, with plain string ids, an RFC 3339
`timestamp` and an object (or no) `properties`; it declines anything else, so every rejection, every
conversion and every other call still comes from the preset's path (tests/ingest/formats/
test_segment_fast.py holds the two to the same results).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import msgspec

from healthmon.ingest.fastdecode import FastUsage, epoch_ms
from healthmon.ingest.formats.mapped import USER_LINK, LinkedEvent, Mapped
from healthmon.ingest.formats.paths import is_false


class _Floor(Protocol):
    """What the fast path reads of its input's reader: the floor of the message being mapped."""

    min_ms: int

__all__ = ["FastMap", "track_fast"]

#: (value, now_ms, max_future_skew_ms) -> the mapped message, or None to run the preset's own path
FastMap = Callable[[bytes, int, int], Mapped | None]


class _Context(msgspec.Struct):
    groupId: Any = None


class _Track(msgspec.Struct):
    type: Any = None
    messageId: Any = None
    userId: Any = None
    anonymousId: Any = None
    event: Any = None
    timestamp: Any = None
    originalTimestamp: Any = None
    context: _Context | None = None
    properties: Any = None


_DECODE = msgspec.json.Decoder(_Track).decode


def track_fast(*, original_timestamp: bool, reader: _Floor) -> FastMap:
    """Return the fast path of a usage input's tracks (`original_timestamp`: RudderStack's time fallback).

    `reader` is the input's: its `min_ms` is the floor of the message being mapped.
    """
    def fast(value: bytes, now_ms: int, max_future_skew_ms: int) -> Mapped | None:
        try:
            track = _DECODE(value)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return None
        if track.type != "track":
            return None
        user = track.userId
        if type(user) is not str or not user:  # `userId || anonymousId`, as JMESPath reads it
            user = track.anonymousId if is_false(user) else user
        event_id, feature, properties = track.messageId, track.event, track.properties
        if type(user) is not str or not 0 < len(user) <= 200 or type(event_id) is not str or \
                not 0 < len(event_id) <= 200 or type(feature) is not str or not 0 < len(feature) <= 200 or \
                (properties is not None and type(properties) is not dict):
            return None
        when = track.timestamp
        if original_timestamp and is_false(when):
            when = track.originalTimestamp
        if type(when) is not str:
            return None
        at = epoch_ms(when)
        if at is None or at > now_ms + max_future_skew_ms or at < reader.min_ms:
            return None
        context = track.context
        account: Any = context.groupId if context is not None else None
        if is_false(account):
            account = properties.get("account_id") if properties is not None else None
        if is_false(account):
            out = Mapped()
            out.add_linked(LinkedEvent(None, USER_LINK, user, FastUsage(event_id, "", user, feature, at, properties)))
            return out
        if type(account) is not str or len(account) > 200:
            return None
        return Mapped(events=[(None, FastUsage(event_id, account, user, feature, at, properties))])
    return fast
