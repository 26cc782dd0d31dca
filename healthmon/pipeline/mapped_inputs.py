"""The inputs file's side of a processor: each topic's mapper, and what a mapped message says beyond its events.

`MappedInputs.take` turns one `Mapped` into work the processor routes as it routes native events: the
events whose account is known (directly, through a link, or a profile whose traits are now complete),
the held events a new link released, and the held events pushed out of the wait. Links are written
before the message's own events are resolved, so a batch that groups a user and then tracks for them
needs no wait. What each part means is in docs/inputs.md ("What the pipeline does with a mapped message").
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

from healthmon.ingest.formats import AccountRemoval, InputMapper, Mapped, ProfilePatch
from healthmon.ingest.formats.preset import Headers
from healthmon.ingest.formats.spec import InputsFile
from healthmon.ingest.repartition import Source
from healthmon.pipeline.links import Held, LinkTables, LinkWait, Traits
from healthmon.pipeline.pending import NO_EVENT_TIME

__all__ = ["MAX_HELD_BYTES", "MAX_HELD_EVENTS", "MappedInputs", "Taken", "event_time"]

#: formats whose NPS responses can be answered again, a later answer replacing the earlier one
ANSWERS_REPLACED = ("delighted",)
#: The link wait holds at most this many events, and about this many bytes; past either, the oldest go.
MAX_HELD_EVENTS = 100_000
MAX_HELD_BYTES = 64 * 1024 * 1024
#: what one held event costs beyond its bytes (the records that hold it), for the wait's byte bound
_HELD_OVERHEAD = 256


def event_time(mapped: Mapped) -> int:
    """Return the earliest `occurred_at` of a mapped message's events, resolved or not (`NO_EVENT_TIME`: none has
    one, as profiles, traits and links)."""
    earliest = NO_EVENT_TIME
    for events in (mapped.events, mapped.replacements):
        for _, event in events:
            at = getattr(event, "occurred_at", None)
            if at is not None and (earliest == NO_EVENT_TIME or at < earliest):
                earliest = at
    for linked in mapped.linked:
        at = getattr(linked.event, "occurred_at", None)
        if at is not None and (earliest == NO_EVENT_TIME or at < earliest):
            earliest = at
    return earliest


@dataclass
class Taken:
    """What one mapped message gives the processor to route."""

    #: (batch index, event) pairs with their account set: events, resolved links, completed profiles
    items: list[tuple[int | None, Any]] = field(default_factory=list)
    #: events that replace the earlier event of their `event_id` (a later Delighted answer)
    replacements: list[tuple[int | None, Any]] = field(default_factory=list)
    removals: list[AccountRemoval] = field(default_factory=list)
    #: partial profiles, merged into the traits on their account's partition only (`Traits.merge`)
    patches: list[ProfilePatch] = field(default_factory=list)
    #: held events (of earlier messages) whose link this message brought, their account set
    released: list[Held] = field(default_factory=list)
    #: held events pushed out of the wait to keep it within bounds: dead letters
    evicted: list[Held] = field(default_factory=list)
    held: int = 0


class MappedInputs:
    """Mappers by topic, the link tables, the traits and the link wait of one processor."""

    def __init__(self, inputs: InputsFile, links: MutableMapping[bytes, bytes], traits: MutableMapping[bytes, bytes],
                 wait_ms: int, max_events: int = MAX_HELD_EVENTS, max_bytes: int = MAX_HELD_BYTES) -> None:
        self.inputs = inputs
        mappers = {spec.topic: InputMapper(spec) for spec in inputs.inputs}
        #: the inputs that are not read by the native decoder as today (a format, `fields`, `values`, a link)
        self.mappers = {topic: m for topic, m in mappers.items() if not m.native}
        #: topics whose NPS answers a later answer may replace (their answers are kept in the state)
        self.answer_topics = frozenset(spec.topic for spec in inputs.inputs if spec.format in ANSWERS_REPLACED)
        self.links = LinkTables(links)
        self.traits = Traits(traits)
        self.wait = LinkWait(wait_ms, max_events, max_bytes)

    def map(self, topic: str, value: bytes | None, key: bytes | None, headers: Headers | None, *, now_ms: int,
            max_bytes: int, max_future_skew_ms: int, min_occurred_at_ms: int) -> Mapped | None:
        """Map one message of `topic`, or return None when the topic is read natively."""
        mapper = self.mappers.get(topic)
        if mapper is None:
            return None
        return mapper.map(value, key, headers, now_ms=now_ms, max_bytes=max_bytes,
                          max_future_skew_ms=max_future_skew_ms, min_occurred_at_ms=min_occurred_at_ms)

    def plain(self, mapped: Mapped) -> list[tuple[int | None, Any]] | None:
        """Return a message's events with their links resolved when that is all it carries (nothing to learn,
        merge, remove, replace or ignore, and every link known), as `take` would give them; else None."""
        if mapped.links or mapped.patches or mapped.removals or mapped.replacements or mapped.ignored:
            return None
        if not mapped.linked:
            return mapped.events
        accounts = []
        for linked in mapped.linked:
            account = None if linked.replaces else self.links.get(linked.link, linked.key)
            if account is None:
                return None
            accounts.append(account)
        items = list(mapped.events)
        for linked, account in zip(mapped.linked, accounts):
            linked.event.account_id = account
            items.append((linked.index, linked.event))
        return items

    def take(self, mapped: Mapped, *, kind: str, source: Source, key: bytes | None, value: bytes | None,
             now_ms: int, token: Any) -> Taken:
        """Write the message's links, resolve its events, hold the ones whose link is unknown."""
        out = Taken(items=list(mapped.events), removals=list(mapped.removals), patches=list(mapped.patches))
        for update in mapped.links:
            if self.links.learn(update) and update.account_id is not None:
                for held in self.wait.release(update.link, update.key):
                    held.linked.event.account_id = update.account_id
                    out.released.append(held)
        out.replacements = list(mapped.replacements)
        size = _HELD_OVERHEAD + (len(value) if value is not None and len(mapped.linked) == 1 else _HELD_OVERHEAD)
        for linked in mapped.linked:
            account = self.links.get(linked.link, linked.key)
            if account is not None:
                linked.event.account_id = account
                (out.replacements if linked.replaces else out.items).append((linked.index, linked.event))
                continue
            held = Held(linked, kind, source, key, value, now_ms, now_ms + self.wait.wait_ms, token, size)
            accepted, evicted = self.wait.hold(held)
            out.held += accepted
            out.evicted.extend(evicted)
        return out
