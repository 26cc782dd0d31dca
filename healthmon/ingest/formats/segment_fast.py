"""The hot path of Segment and RudderStack tracks: msgspec reads only the fields the preset's table needs.

`track_fast` either returns exactly what the preset's own path (`segment.SegmentPreset.map_item` through
the `Reader`) returns for a message, or None, and then the caller runs that path. It takes a single
`track` call of an input whose file gives no `fields` or `values`, with plain string ids, an RFC 3339
`timestamp` (msgspec parses it in C) and an object (or no) `properties`; it declines anything else, so
every rejection, every conversion and every other call still comes from the preset's path
(tests/ingest/formats/test_segment_fast.py holds the two to the same results).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

import msgspec

from healthmon.ingest.fastdecode import FastUsage, datetime_ms, may_round_apart
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
    # RFC 3339 parsed in C; any other time (epoch numbers, "") is the preset path's
    timestamp: datetime | None = None
    context: _Context | None = None
    properties: Any = None


class _RudderTrack(_Track):
    originalTimestamp: datetime | None = None


_DECODE = msgspec.json.Decoder(_Track).decode
_DECODE_RUDDER = msgspec.json.Decoder(_RudderTrack).decode


def track_fast(*, original_timestamp: bool, reader: _Floor) -> FastMap:
    """Return the fast path of a usage input's tracks (`original_timestamp`: RudderStack's time fallback).

    `reader` is the input's: its `min_ms` is the floor of the message being mapped.
    """
    decode = _DECODE_RUDDER if original_timestamp else _DECODE

    def fast(value: bytes, now_ms: int, max_future_skew_ms: int) -> Mapped | None:
        try:
            track = decode(value)
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
        if original_timestamp and when is None:
            when = track.originalTimestamp  # type: ignore[attr-defined]  # a _RudderTrack
        if when is None or may_round_apart(value):
            return None
        at = datetime_ms(when)
        if at is None or at > now_ms + max_future_skew_ms or at < reader.min_ms:
            return None
        context = track.context
        account: Any = context.groupId if context is not None else None
        if type(account) is not str or not account:  # else not false: the common case skips `is_false`
            if is_false(account):
                account = properties.get("account_id") if properties is not None else None
            if is_false(account):
                return Mapped(linked=[LinkedEvent(None, USER_LINK, user, FastUsage(event_id, "", user, feature, at,
                                                                                   properties))])
            if type(account) is not str:
                return None
        if len(account) > 200:
            return None
        # positional: a keyword call of the dataclass costs a third more, on every track
        return Mapped([(None, FastUsage(event_id, account, user, feature, at, properties))])
    return fast
