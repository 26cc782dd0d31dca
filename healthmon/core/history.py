"""An account's score history: one point per event-time day, in a compact encoding kept in its state.

A point is the account's health at the end of one UTC day (event time): its score, its band and the three
measures that cost the most points. The engine adds a point when an evaluation first passes the end of a
day, so a replay of the same input gives the same points. The encoding is what the Redis view stores:

    version (u8), first day (u32, days since 1970-01-01), measure names (u8 count, then u8 length + UTF-8
    each), then 3 bytes per day from the first day on: score x 10 in 10 bits (1023: none), the band in 2
    bits (0: none), three 4-bit indexes into the names (15: none), least significant bits first.

180 days take 540 bytes plus the names.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import NamedTuple

from healthmon.core.vocabulary import BANDS, Band

__all__ = ["HISTORY_FORMAT", "DayPoint", "HistoryFormatError", "add_point", "add_points", "decode", "last_day",
           "score_on"]

HISTORY_FORMAT = 1
_HEAD = struct.Struct("<BI")
_NO_SCORE = 1023
_NO_NAME = 15
_MAX_NAMES = 15
#: the word of a day without a point: no score, no band, no names
_GAP = b"\xff\xf3\xff"
_BAND_CODES: dict[str | None, int] = {None: 0, **{b: i + 1 for i, b in enumerate(BANDS)}}


class HistoryFormatError(ValueError):
    """The bytes are not a history written by `add_point`."""


class DayPoint(NamedTuple):
    """The account's health at the end of one event-time day."""

    day: int  # days since 1970-01-01
    score: float | None
    band: Band | None
    top: tuple[str, ...]  # the measures that cost the most points, most first (at most three)


class _Parts(NamedTuple):
    first_day: int
    names: list[str]
    packed: bytes  # 3 bytes per day
    body: int  # offset of `packed` in the encoding


def _split(blob: bytes) -> _Parts:
    try:
        version, first_day = _HEAD.unpack_from(blob, 0)
        if version != HISTORY_FORMAT:
            raise HistoryFormatError(f"unknown history format {version} (expected {HISTORY_FORMAT})")
        pos = _HEAD.size
        names = []
        for _ in range(blob[pos]):
            size = blob[pos + 1]
            names.append(blob[pos + 2:pos + 2 + size].decode())
            pos += 1 + size
        pos += 1
    except (struct.error, IndexError, UnicodeDecodeError) as exc:
        raise HistoryFormatError(f"corrupt history: {exc}") from None
    packed = blob[pos:]
    if len(packed) % 3:
        raise HistoryFormatError(f"corrupt history: {len(packed)} bytes of points is no whole number of days")
    return _Parts(first_day, names, packed, pos)


def _unpack(word: int, day: int, names: list[str]) -> DayPoint:
    score10, band = word & 1023, (word >> 10) & 3
    top = tuple(names[i] for i in ((word >> 12) & 15, (word >> 16) & 15, (word >> 20) & 15)
                if i != _NO_NAME and i < len(names))
    return DayPoint(day, None if score10 == _NO_SCORE else score10 / 10, BANDS[band - 1] if band else None, top)


def decode(blob: bytes) -> list[DayPoint]:
    """Return every point of a history, oldest first (an empty history has none)."""
    if not blob:
        return []
    parts = _split(blob)
    p = parts.packed
    return [_unpack(p[i] | p[i + 1] << 8 | p[i + 2] << 16, parts.first_day + i // 3, parts.names)
            for i in range(0, len(p), 3)]


def last_day(blob: bytes) -> int | None:
    """Return the day of the newest point (None: no point yet)."""
    if not blob:
        return None
    parts = _split(blob)
    return parts.first_day + len(parts.packed) // 3 - 1


def score_on(blob: bytes, day: int) -> float | None:
    """Return the score of one day's point (None: no point for that day, or no score)."""
    if not blob:
        return None
    parts = _split(blob)
    i = (day - parts.first_day) * 3
    if i < 0 or i >= len(parts.packed):
        return None
    p = parts.packed
    score10 = (p[i] | p[i + 1] << 8) & 1023
    return None if score10 == _NO_SCORE else score10 / 10


def add_point(blob: bytes, point: DayPoint, max_days: int) -> bytes:
    """Return the history with `point` added after its newest day (gap days have no score); keep `max_days`.

    A point for a day the history already holds, or an earlier one, leaves it unchanged.
    """
    return add_points(blob, (point,), max_days)


def add_points(blob: bytes, points: Sequence[DayPoint], max_days: int) -> bytes:
    """Return the history with `points` (oldest first) added as `add_point` would, one after another.

    The history is split and encoded once, whatever the number of points: a quiet account's catch-up closes up
    to `max_days` days at once.
    """
    if not points:
        return blob
    first_day, names, packed, end = points[0].day, [], bytearray(), points[0].day
    if blob:
        parts = _split(blob)
        first_day, names, end = parts.first_day, list(parts.names), parts.first_day + len(parts.packed) // 3
        packed = bytearray(parts.packed)
    keep = 3 * (max_days - 1)
    changed = False
    for point in points:
        if point.day < end:
            continue  # a day the history already holds, or an earlier one
        if point.day - end < max_days:
            packed += _GAP * (point.day - end)
        else:  # every point held is older than the days kept
            first_day, names, packed = point.day, [], bytearray()
        if len(packed) > keep:
            first_day += (len(packed) - keep) // 3
            del packed[:len(packed) - keep]
        if len(names) + sum(1 for n in point.top[:3] if n not in names) > _MAX_NAMES:
            names, compacted = _compact(names, bytes(packed))
            packed = bytearray(compacted)
        score10 = _NO_SCORE if point.score is None else max(0, min(1000, round(point.score * 10)))
        word = score10 | _BAND_CODES.get(point.band, 0) << 10
        for slot in range(3):
            word |= (_name_index(names, point.top[slot]) if slot < len(point.top) else _NO_NAME) << (12 + 4 * slot)
        packed += bytes((word & 255, word >> 8 & 255, word >> 16))
        end = first_day + len(packed) // 3
        changed = True
    if not changed:
        return blob
    encoded = [n.encode() for n in names]
    return b"".join((_HEAD.pack(HISTORY_FORMAT, first_day), bytes((len(names),)),
                     *(bytes((len(n),)) + n for n in encoded), bytes(packed)))


def _name_index(names: list[str], name: str) -> int:
    if name in names:
        return names.index(name)
    if len(names) < _MAX_NAMES:
        names.append(name)
        return len(names) - 1
    return _NO_NAME  # more than 15 measures in use in the days kept: this one goes unnamed


def _compact(names: list[str], packed: bytes) -> tuple[list[str], bytes]:
    """Drop the names no point uses any more and renumber the points' indexes."""
    words = [packed[i] | packed[i + 1] << 8 | packed[i + 2] << 16 for i in range(0, len(packed), 3)]
    used = sorted({(w >> s) & 15 for w in words for s in (12, 16, 20)} - {_NO_NAME})
    remap = {old: new for new, old in enumerate(used)}
    out = bytearray()
    for w in words:
        low = w & 0xFFF
        for slot, s in enumerate((12, 16, 20)):
            low |= remap.get((w >> s) & 15, _NO_NAME) << (12 + 4 * slot)
        out += bytes((low & 255, low >> 8 & 255, low >> 16))
    return [names[i] for i in used], bytes(out)
