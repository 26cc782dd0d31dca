"""Link tables, profile traits and the link wait: what resolves a mapped event's account before it is routed.

- `LinkTables`: link name and key -> account id (the `user` link of Segment and RudderStack calls, and the
  `links` of accounts inputs), in a mapping every worker reads: a Faust `GlobalTable` in the worker (its
  changelog is `<app_id>-links-changelog`), a dict in the backtest.
- `Traits`: the merged traits of each account (Segment `group` calls carry partial updates), in the same
  kind of mapping; a profile is applied once every required field has arrived. Only the account's own
  partition merges them (patches travel there as links do not), so each account has one writer; and the
  merge keeps, per field, the value of the latest patch by event time (on a tie, the larger JSON), so the
  patches of several input partitions, however interleaved or read again, give one result.
- `LinkWait`: events whose link is not known yet, held (bounded in events and bytes) until the link
  arrives or their wait ends.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

import orjson

from healthmon.ingest.formats import LinkedEvent, LinkUpdate, ProfilePatch
from healthmon.ingest.repartition import Source
from schemas.events import AccountProfile

__all__ = ["Held", "LinkTables", "LinkWait", "Traits", "merge_traits"]

#: separates the link name from the key in a link table's keys (no link name holds it)
_SEP = b"\x1f"
#: the profile fields that must have arrived before a profile built from traits is applied
_REQUIRED = tuple(name for name, f in AccountProfile.model_fields.items() if f.is_required())
#: the stamp of a patch without an event time: older than any that has one
_NO_TIME = -1
#: the stamp of a field merged before fields had stamps: any patch replaces it
_UNSTAMPED = -2


def merge_traits(known: dict[str, Any], patch: ProfilePatch) -> dict[str, Any]:
    """Return the traits `known` (`{"fields": ..., "at": ...}`) with `patch` merged in; `known` is not changed.

    Each field keeps the value of the patch with the latest `occurred_at`, and of equal times the larger
    JSON: a join, so any order of the same patches (and any patch applied twice) gives the same traits.
    """
    fields = dict(known.get("fields") or {})
    at = dict(known.get("at") or {})
    stamp = patch.occurred_at if patch.occurred_at is not None else _NO_TIME
    # dates as ISO text, as the model reads them
    for name, value in orjson.loads(orjson.dumps(patch.fields)).items():
        held = at.get(name, _UNSTAMPED) if name in fields else None
        if held is None or (stamp, orjson.dumps(value)) > (held, orjson.dumps(fields[name])):
            fields[name] = value
            at[name] = stamp
    fields["account_id"] = patch.account_id
    return {"fields": fields, "at": at}


def _stored(raw: bytes | None) -> dict[str, Any]:
    """Return stored traits as `merge_traits` reads them (fields merged before stamps: unstamped)."""
    doc = orjson.loads(raw) if raw else {}
    return doc if "fields" in doc and "at" in doc else {"fields": doc, "at": {}}


class LinkTables:
    """Every link's key -> account id, in one mapping shared by all workers (see the module docstring)."""

    def __init__(self, table: MutableMapping[bytes, bytes]) -> None:
        self.table = table

    def get(self, link: str, key: str) -> str | None:
        """Return the account `key` names in link `link`, or None while unknown."""
        value = self.table.get(link.encode() + _SEP + key.encode())
        return value.decode() if value else None

    def learn(self, update: LinkUpdate) -> bool:
        """Write one link (an unlink deletes it); return whether it now names an account it did not before."""
        k = update.link.encode() + _SEP + update.key.encode()
        if update.account_id is None:
            if k in self.table:
                del self.table[k]
            return False
        value = update.account_id.encode()
        if self.table.get(k) == value:
            return False
        self.table[k] = value
        return True


class Traits:
    """Each account's traits merged over time, in one mapping shared by all workers."""

    def __init__(self, table: MutableMapping[bytes, bytes]) -> None:
        self.table = table

    def merge(self, patch: ProfilePatch) -> AccountProfile | None:
        """Merge a patch into the account's traits (`merge_traits`); return its profile once complete (None while
        partial). Only the account's own partition may call it: one writer per account."""
        key = patch.account_id.encode()
        known = self.table.get(key)
        merged = merge_traits(_stored(known), patch)
        encoded = orjson.dumps(merged)
        if encoded != known:
            self.table[key] = encoded
        fields = merged["fields"]
        if any(name not in fields for name in _REQUIRED):
            return None
        return AccountProfile.model_validate(fields)

    def forget(self, account_id: str) -> None:
        """Drop the account's traits (it was removed from its source)."""
        key = account_id.encode()
        if key in self.table:
            del self.table[key]


@dataclass(slots=True)
class Held:
    """One event waiting for its link, with what its dead letter needs."""

    linked: LinkedEvent
    kind: str
    source: Source
    key: bytes | None
    value: bytes | None
    #: wall clock (ms) when it was first held, and when its wait ends
    held_ms: int
    deadline_ms: int
    #: what the message it came from is waiting for (acked once none of its events is held)
    token: Any
    size: int


class LinkWait:
    """Events held for a link (link, key) until it arrives or their wait ends; bounded in events and bytes."""

    def __init__(self, wait_ms: int, max_events: int, max_bytes: int) -> None:
        self.wait_ms = wait_ms
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.bytes = 0
        #: (link, key) -> its held events, oldest first; the dict's order is the order of first holds
        self._held: OrderedDict[tuple[str, str], list[Held]] = OrderedDict()
        self._count = 0
        #: (topic, partition, offset, index) of every held event: a message read again is not held twice
        self._positions: set[tuple[str, int, int, int | None]] = set()

    def __len__(self) -> int:
        return self._count

    def hold(self, item: Held) -> tuple[bool, list[Held]]:
        """Hold `item`; return whether it was not held already (a message read again), and the held events
        pushed out to stay within bounds (oldest first, maybe `item` itself), to dead-letter."""
        position = (*item.source, item.linked.index)
        if position in self._positions:
            return False, []
        self._positions.add(position)
        self._held.setdefault((item.linked.link, item.linked.key), []).append(item)
        self._count += 1
        self.bytes += item.size
        out: list[Held] = []
        while self._count > self.max_events or self.bytes > self.max_bytes:
            out.extend(self._pop_oldest())
        return True, out

    def waiting(self) -> list[tuple[str, str]]:
        """Return every (link, key) some event waits for."""
        return list(self._held)

    def release(self, link: str, key: str) -> list[Held]:
        """Return (and stop holding) the events waiting for (link, key)."""
        return self._drop(self._held.pop((link, key), []))

    def expired(self, now_ms: int) -> list[Held]:
        """Return (and stop holding) every event whose wait ended by `now_ms`."""
        out: list[Held] = []
        for link_key in list(self._held):
            items = self._held[link_key]
            done = [h for h in items if h.deadline_ms <= now_ms]
            if done:
                rest = [h for h in items if h.deadline_ms > now_ms]
                if rest:
                    self._held[link_key] = rest
                else:
                    del self._held[link_key]
                out.extend(self._drop(done))
        return out

    def drain(self) -> list[Held]:
        """Return (and stop holding) every held event (a revoke, a stop, the end of a backtest)."""
        out = [h for items in self._held.values() for h in items]
        self._held.clear()
        return self._drop(out)

    def _pop_oldest(self) -> list[Held]:
        link_key, items = next(iter(self._held.items()))
        oldest = items.pop(0)
        if not items:
            del self._held[link_key]
        return self._drop([oldest])

    def _drop(self, items: list[Held]) -> list[Held]:
        for h in items:
            self._positions.discard((*h.source, h.linked.index))
            self._count -= 1
            self.bytes -= h.size
        return items
