"""The hot path of Segment and RudderStack tracks: msgspec reads only the fields the preset's table needs.

`track_fast` either returns exactly what the preset's own path (`segment.SegmentPreset.map_item` through
the `Reader`) returns for a message, or None, and then the caller runs that path. It takes a single
`track` call of an input whose file gives no `fields`, `values` or `account_link`, with string ids of
at most 200 characters, a string `timestamp` that `parse_epoch_ms` reads and an object (or no)
`properties`; it declines anything else, so every rejection, every conversion and every other call
still comes from the preset's path (tests/ingest/formats/test_segment_fast.py holds the two to the same
results).

The struct's types do the checks msgspec can do in C while it decodes (a message that fails one raises
`ValidationError`, and is declined); what is left in Python is what the types cannot say: `userId ||
anonymousId`, the account's alternatives and the time. The time is read by `datetime.fromisoformat`
after `parse_epoch_ms`'s own checks of the text, so it is that function's reading by construction: no
rounding of long fractions to guard against (msgspec's own datetime rounds them), and cheaper.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec

from healthmon.ingest.fastdecode import FastUsage
from healthmon.ingest.formats.mapped import USER_LINK, LinkedEvent, Mapped
from schemas.events import EPOCH_MS, MAX_OCCURRED_AT_MS

__all__ = ["FastMap", "track_fast"]

#: (value, now_ms, max_future_skew_ms, min_occurred_at_ms) -> the mapped message, or None to run the preset's path
FastMap = Callable[[bytes, int, int, int], Mapped | None]

# What the contract takes as an id (`schemas.events.Id`). A user id may be "" (then `anonymousId` is read).
_Id = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
_MaybeId = Annotated[str, msgspec.Meta(max_length=200)]


class _Context(msgspec.Struct, gc=False):
    groupId: _MaybeId | None = None


class _Track(msgspec.Struct, gc=False):
    # no default: a message without one of these is the preset path's to reject
    type: Literal["track"]
    messageId: _Id
    event: _Id
    userId: _MaybeId | None = None
    anonymousId: _MaybeId | None = None
    # epoch numbers are the preset path's (they take the input's `time_unit`)
    timestamp: str | None = None
    context: _Context | None = None
    properties: dict[str, Any] | None = None


class _RudderTrack(_Track, gc=False):
    originalTimestamp: str | None = None


_DECODE = msgspec.json.Decoder(_Track).decode
_DECODE_RUDDER = msgspec.json.Decoder(_RudderTrack).decode
_FAILED = (msgspec.DecodeError, msgspec.ValidationError)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_parse = datetime.fromisoformat
_new = object.__new__


def track_fast(*, original_timestamp: bool) -> FastMap:
    """Return the fast path of a usage input's tracks (`original_timestamp`: RudderStack's time fallback)."""
    decode = _DECODE_RUDDER if original_timestamp else _DECODE

    def fast(value: bytes, now_ms: int, max_future_skew_ms: int, min_ms: int) -> Mapped | None:
        try:
            track = decode(value)
        except _FAILED:
            return None
        user = track.userId or track.anonymousId  # `userId || anonymousId`, as JMESPath reads two strings
        text = track.timestamp
        if original_timestamp and not text:
            text = track.originalTimestamp  # type: ignore[attr-defined]  # a _RudderTrack
        # `parse_epoch_ms`'s checks of the text (it strips it and reads `z` as `Z`: those are declined)
        if not user or not text or len(text) < 19 or text[10] != "T":
            return None
        try:
            delta = _parse(text) - _EPOCH
        except (ValueError, OverflowError, TypeError):  # TypeError: no offset (naive minus aware)
            return None
        # whole milliseconds, rounded down: `parse_epoch_ms`'s `// timedelta(milliseconds=1)`, for less
        at = delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000
        if at < min_ms or at < EPOCH_MS or at > MAX_OCCURRED_AT_MS or at > now_ms + max_future_skew_ms:
            return None
        context, properties = track.context, track.properties
        account: Any = context.groupId if context is not None else None
        # The result is `Mapped([(None, event)])` or `Mapped(linked=[...])`, built here without the dataclass's
        # `__init__`, which costs more than the rest of building it (the tests hold it to `Mapped(...)`, every field).
        out: Mapped = _new(Mapped)
        out.rejections, out.is_batch = [], False
        out.replacements = out.links = out.patches = out.removals = out.ignored = ()
        if not account:  # `context.groupId || properties.account_id`: groupId is a string or None here
            account = properties.get("account_id") if properties else None
            if account is None or account == "":  # what `Reader.get` reads as nothing (JMESPath's [] is not)
                item: LinkedEvent = _new(LinkedEvent)
                item.index, item.link, item.key, item.replaces = None, USER_LINK, user, False
                item.event = FastUsage(track.messageId, "", user, track.event, at, properties)
                out.events, out.linked = [], [item]
                return out
            if type(account) is not str or len(account) > 200:
                return None
        out.events, out.linked = [(None, FastUsage(track.messageId, account, user, track.event, at, properties))], ()
        return out
    return fast
