"""An account's user table, packed: 16 bytes per user, in the order the users first came.

Each user is a pair of unsigned 64-bit words, its id's hash (`state.hash_id`) and its day bits (activity
bits | core bits << `CORE_SHIFT`), kept one after the other in an `array("Q")`. That is the layout the
saved state has always had (`codec`): a table is saved and loaded by copying its bytes. A dict of Python
ints held the same users in about 110 bytes each.

Lookups go through an open-addressing index of positions, built at the first lookup and dropped whenever
the table is rewritten (a day rolls in `windows.advance`), so a table that is only held, evaluated or
saved has none. The index takes 2 bytes per slot (4 from 65,535 users on), with at most half of its slots in
use: 4 to 8 bytes per user.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterator
from typing import Final

__all__ = ["UserTable"]

_BIG_ENDIAN: Final = sys.byteorder == "big"
#: the smallest index (slots): a power of two
_MIN_SLOTS: Final = 8


def _packed(data: bytes | bytearray | memoryview) -> array[int]:
    words = array("Q")
    words.frombytes(data)
    if _BIG_ENDIAN:
        words.byteswap()
    return words[:]  # `frombytes` leaves room for more: a copy holds exactly the users


class UserTable:
    """User hash -> day bits, as a dict would hold them (insertion order kept), in 16 bytes per user."""

    __slots__ = ("_pairs", "_index")

    def __init__(self, pairs: array[int] | None = None) -> None:
        #: hash, bits, hash, bits, ... in the order the users were first added
        self._pairs: array[int] = pairs if pairs is not None else array("Q")
        #: slot -> position + 1 of the user whose hash probes to it (0: empty); None: not built yet
        self._index: array[int] | None = None

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> UserTable:
        """Return the table saved as `to_bytes` wrote it (16 bytes per user, little-endian)."""
        if len(data) % 16:
            raise ValueError(f"a user table takes 16 bytes per user, not {len(data)} bytes")
        return cls(_packed(data))

    @classmethod
    def from_items(cls, items: dict[int, int]) -> UserTable:
        """Return a table of the users of `items` (hash -> bits), in its order."""
        return cls(array("Q", [v for item in items.items() for v in item]))

    def to_bytes(self) -> bytes:
        """Return the users as pairs of little-endian u64 (hash, bits), in insertion order."""
        if _BIG_ENDIAN:
            words = array("Q", self._pairs)
            words.byteswap()
            return words.tobytes()
        return self._pairs.tobytes()

    def __len__(self) -> int:
        return len(self._pairs) >> 1

    def __iter__(self) -> Iterator[int]:
        return iter(self._pairs[0::2])

    def __contains__(self, key: int) -> bool:
        return self._find(key) >= 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UserTable) and self._pairs == other._pairs

    def __repr__(self) -> str:
        return f"UserTable({dict(self.items())!r})"

    def keys(self) -> array[int]:
        """Return the user hashes, in insertion order."""
        return self._pairs[0::2]

    def values(self) -> array[int]:
        """Return the users' day bits, in insertion order."""
        return self._pairs[1::2]

    def items(self) -> Iterator[tuple[int, int]]:
        """Yield (hash, bits) in insertion order."""
        words = iter(self._pairs)
        for key in words:
            yield key, next(words)

    def get(self, key: int, default: int = 0) -> int:
        """Return the bits of user `key` (`default` if absent)."""
        at = self._find(key)
        return self._pairs[at + 1] if at >= 0 else default

    def merge(self, key: int, bits: int) -> int:
        """Set `bits` in user `key`'s bits, adding the user if new; return its bits before (0: new)."""
        index = self._index
        if index is None:
            index = self._build_index()
        pairs = self._pairs
        mask = len(index) - 1
        slot = key & mask
        while True:
            at = index[slot]
            if not at:
                break
            at = 2 * at - 2
            if pairs[at] == key:
                old: int = pairs[at + 1]
                new = old | bits
                if new != old:
                    pairs[at + 1] = new
                return old
            slot = (slot + 1) & mask
        pairs.append(key)
        pairs.append(bits)
        size = len(pairs) >> 1
        if 2 * size > len(index) or size == 65_535:  # over half full, or too many users for 16-bit positions
            self._build_index()
        else:
            index[slot] = size
        return 0

    def replace(self, pairs: array[int]) -> None:
        """Take `pairs` (hash, bits, ... in the order to keep) as the whole table."""
        self._pairs = pairs
        self._index = None

    def pairs(self) -> array[int]:
        """Return the packed words themselves (hash, bits, ...): read them, change them through `replace`."""
        return self._pairs

    def clear(self) -> None:
        """Forget every user."""
        self.replace(array("Q"))

    def index_bytes(self) -> int:
        """Return the bytes the lookup index holds (0: none built)."""
        index = self._index
        return 0 if index is None else len(index) * index.itemsize

    def _find(self, key: int) -> int:
        """Return the word position of user `key`'s hash in the pairs (-1: absent)."""
        index = self._index
        if index is None:
            index = self._build_index()
        pairs = self._pairs
        mask = len(index) - 1
        slot = key & mask
        while True:
            at = index[slot]
            if not at:
                return -1
            at = 2 * at - 2
            if pairs[at] == key:
                return at
            slot = (slot + 1) & mask

    def _build_index(self) -> array[int]:
        pairs = self._pairs
        size = len(pairs) >> 1
        slots = _MIN_SLOTS
        while slots < 2 * size + 2:  # built at most half full (after one more user), rebuilt once over
            slots <<= 1
        wide = size >= 65_535
        index = array("I" if wide else "H", bytes(slots * (4 if wide else 2)))
        mask = slots - 1
        for n in range(size):
            slot = pairs[2 * n] & mask
            while index[slot]:
                slot = (slot + 1) & mask
            index[slot] = n + 1
        self._index = index
        return index
