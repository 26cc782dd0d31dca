"""The processor's routing: events to their account's partition (packed when they move, applied from packs
when they arrive), and for mapped messages what
`MappedInputs.take` resolved, the wait for links, and the dead letters of events whose link never came.

Mixed into `healthmon.pipeline.processor.Processor`, whose routing (`_route`, `_apply`) and outputs it
uses. An event held for its link keeps its message un-acked (`Inbound.holds`), so that a crash reads it
again; `on_done` acks the message once none of its events waits any more.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson

from healthmon.core.saved_view import view_version
from healthmon.core.vocabulary import DEAD_LETTER, IGNORED
from healthmon.ingest import Rejection, partition_for
from healthmon.ingest.formats import Mapped, ProfilePatch
from healthmon.ingest.repartition import REMOVAL, TRAITS, PackEntry, Removal, Repartitioned, Source, pack_entries
from healthmon.pipeline.links import Held
from healthmon.serving.metrics import TOPIC_LABELS
from schemas.deadletter import DeadLetterReason

if TYPE_CHECKING:
    from healthmon.core import Engine
    from healthmon.pipeline.live_states import LiveStates
    from healthmon.pipeline.mapped_inputs import MappedInputs
    from healthmon.pipeline.outputs import OutputSender
    from healthmon.serving.metrics import Metrics
    from healthmon.serving.view_refresh import ViewRefresh

#: `healthmon.pipeline.processor.Inbound` (which imports this module)
Inbound = Any

__all__ = ["MappedRouting"]


async def _acked_already(inbound: Inbound) -> None:
    """Ack nothing: without a consumer (the backtest) a message needs no ack."""


def _owns_none(partition: int) -> bool:
    """Own no partition beyond the one being processed (the backtest loops every move back itself)."""
    return False


class MappedRouting:
    """Routing, and mapped messages' links, held events and dead letters (see the module docstring)."""

    #: called with a message once none of its events waits for a link (the worker acks it)
    on_done: Callable[[Inbound], Awaitable[None]] = staticmethod(_acked_already)  # type: ignore[assignment]
    #: whether this worker owns an account partition now: a profile, trait or removal read on another of its
    #: partitions is applied there at once, as a native profile is (see `_home_of_profile`)
    owns: Callable[[int], bool] = staticmethod(_owns_none)  # type: ignore[assignment]

    if TYPE_CHECKING:  # the processor's parts this mixin uses
        mapped: MappedInputs
        metrics: Metrics
        outputs: OutputSender
        partitions: int
        wall_ms: Callable[[], int]
        _ev: dict[tuple[str, str], Any]

        engine: Engine
        states: LiveStates
        topics: Any
        view_refresh: ViewRefresh

        async def _apply(self, account_id: str, kind: str, items: list[tuple[int | None, Any]],
                         source: Source | list[Source], key: bytes | None, value: bytes | None, now_ms: int,
                         position: tuple[str, int] | None, home: int, replaces: bool = False) -> None: ...

        async def _advance(self, partition: int) -> None: ...

    async def _route(self, kind: str, events: list[tuple[int | None, Any]], source: Source, key: bytes | None,
                     value: bytes | None, now_ms: int, position: tuple[str, int] | None, partition: int,
                     replaces: bool = False) -> None:
        """Apply the events of this partition's accounts, send the others to their account's partition."""
        groups: dict[str, list[tuple[int | None, Any]]] = {}
        for index, event in events:
            groups.setdefault(event.account_id, []).append((index, event))
        for account_id, items in groups.items():
            if partition_for(account_id, self.partitions) == partition:
                await self._apply(account_id, kind, items, source, key, value, now_ms, position=position,
                                  home=partition, replaces=replaces)
            else:
                to = partition_for(account_id, self.partitions)
                await self.outputs.repartition(account_id, kind, items, source, to, replaces)

    async def dead_letter_crash(self, topic: str, partition: int, offset: int, key: bytes | None,
                                value: bytes | None, exc: BaseException) -> None:
        """Dead-letter a message whose processing raised, so that it is never lost silently."""
        kind = self.topics.kind_by_name.get(topic, "repartition")
        entries = pack_entries(value) if kind == "repartition" else None
        if not entries:
            entries = [PackEntry(Source(topic, partition, offset), value or b"")]
        error = f"{type(exc).__name__}: {exc}"
        for source, raw in entries:  # each at the input message its events came from, not the internal topic
            label = TOPIC_LABELS.get(self.topics.kind_by_name.get(source.topic, kind), "product-usage")
            await self.outputs.dead_letter(source, key, Rejection(None, DeadLetterReason.PROCESSING_ERROR, error, raw),
                                           self.wall_ms())
            self._ev[(label, DEAD_LETTER)].inc()

    async def flush_repartition(self) -> None:
        """Send the repartition packs not sent yet (see `healthmon.pipeline.packs`)."""
        await self.outputs.flush_repartition()

    def take_repartition(self) -> list[tuple[int, bytes]]:
        """Return the packs not sent yet as (partition, body), for a caller that cannot await (a commit hook)."""
        packs = self.outputs.packs
        return packs.take() if packs is not None else []

    async def _apply_pack(self, entries: list[Repartitioned], offset: int, home: int, now_ms: int) -> None:
        """Apply a repartition message's entries, one `Engine.apply` per account, input kind and `replaces`.

        The message's position is recorded with each account's last group, so a redelivered pack is a
        duplicate; its earlier groups, applied again, are duplicates by their event ids. An account's
        removal comes after its events of the same pack.
        """
        groups: dict[tuple[str, str, bool], tuple[list[tuple[int | None, Any]], list[Source]]] = {}
        last: dict[str, tuple[str, str, bool]] = {}
        removals: list[tuple[Removal, Source]] = []
        for kind, source, items, replaces in entries:
            if kind == REMOVAL:
                removals.extend((removal, source) for _, removal in items)
                continue
            if kind == TRAITS:  # merged here, on the account's partition; a complete profile applies in turn
                profiles = [(i, p) for i, patch in items if (p := self.mapped.traits.merge(patch)) is not None]
                kind, items = "account", profiles
            for item in items:
                account_id = item[1].account_id
                group = groups.setdefault((account_id, kind, replaces), ([], []))
                group[0].append(item)
                group[1].append(source)
                last[account_id] = (account_id, kind, replaces)
        for (account_id, kind, replaces), (items, sources) in groups.items():
            position = ("repartition", offset) if last[account_id] == (account_id, kind, replaces) else None
            await self._apply(account_id, kind, items, sources, account_id.encode(), None, now_ms,
                              position=position, home=home, replaces=replaces)
        for removal, source in removals:
            await self._remove(removal.account_id, removal.reason, source, home)

    async def _remove(self, account_id: str, reason: str, source: Source, partition: int) -> None:
        """Forget an account its source removed, resolving its open alerts, on the account's own partition."""
        if self._home_of_profile(account_id, partition) is None:
            await self.outputs.repartition(account_id, REMOVAL, [(None, Removal(account_id, reason))], source,
                                           partition_for(account_id, self.partitions))
            return
        self.mapped.traits.forget(account_id)
        state = self.states.get(account_id)
        if state is None:
            return
        await self.outputs.alerts(self.engine.remove(state, reason))
        self.states.remove(account_id)
        # Its last state's version: the view refuses any later push of that state (a resync, a late writer).
        self.view_refresh.remove(account_id, *view_version(state))

    def _home_of_profile(self, account_id: str, partition: int) -> int | None:
        """Return the partition where a profile, trait or removal read on `partition` is applied now (None: moved).

        A profile carries no event time, so it must be applied before the events queued with it, as a native
        one is (its topic is aligned with theirs). Read on another partition that this worker owns too, it is
        applied there at once, and the aligner holds that partition's events until the accounts topics'
        partitions this worker owns are read (`Aligner.gates`); moved, it would arrive after them.
        """
        home = partition_for(account_id, self.partitions)
        return home if home == partition or self.owns(home) else None

    async def _take_mapped(self, inbound: Inbound, decoded: Mapped, source: Source,
                           position: tuple[str, int]) -> None:
        """Count ignored items, learn links and traits, route the resolved events, hold the others."""
        kind, key, value, now_ms = inbound.kind, inbound.key, inbound.value, inbound.now_ms
        plain = self.mapped.plain(decoded)
        if plain is not None:  # most messages (a track): nothing is learnt, held or released, the wait unchanged
            await self._route_items(inbound, plain, source, position)
            return
        if decoded.ignored:
            self._ev[(TOPIC_LABELS[kind], IGNORED)].inc(len(decoded.ignored))
        taken = self.mapped.take(decoded, kind=kind, source=source, key=key, value=value, now_ms=now_ms,
                                 token=inbound)
        inbound.holds += taken.held
        await self._route_items(inbound, taken.items, source, position)
        for patch in taken.patches:
            await self._merge_traits(patch, source, key, value, now_ms, inbound.partition)
        if taken.replacements:  # a replacement is idempotent: no redelivery check of its own
            await self._route(kind, taken.replacements, source, key, value, now_ms, None, inbound.partition,
                              replaces=True)
        for removal in taken.removals:
            await self._remove(removal.account_id, removal.reason, source, inbound.partition)
        for held in taken.released:
            await self._release(held)
        for held in taken.evicted:
            await self._give_up(held, "evicted", "the link wait was full")
        self.metrics.link_wait.set(len(self.mapped.wait))

    async def _route_items(self, inbound: Inbound, items: list[tuple[int | None, Any]], source: Source,
                           position: tuple[str, int]) -> None:
        """Route a mapped message's events, and apply its profiles where they belong."""
        kind, key, value, now_ms = inbound.kind, inbound.key, inbound.value, inbound.now_ms
        if len(items) == 1 and items[0][1].kind != "account":  # most messages: one event, no profile to sort out
            await self._route(kind, items, source, key, value, now_ms, position, inbound.partition)
            return
        events = [(i, e) for i, e in items if e.kind != "account"]
        # A profile from traits may come on a usage topic (Segment group calls); applying it twice
        # changes nothing, so it needs no redelivery check of its own.
        profiles = [(i, e) for i, e in items if e.kind == "account"]
        if events:
            await self._route(kind, events, source, key, value, now_ms, position, inbound.partition)
        moved = []
        for profile in profiles:
            home = self._home_of_profile(profile[1].account_id, inbound.partition)
            if home is None:
                moved.append(profile)
            else:
                await self._apply(profile[1].account_id, "account", [profile], source, key, value, now_ms,
                                  position=None, home=home)
        if moved:
            await self._route("account", moved, source, key, value, now_ms, None, inbound.partition)

    async def _merge_traits(self, patch: ProfilePatch, source: Source, key: bytes | None, value: bytes | None,
                            now_ms: int, partition: int) -> None:
        """Merge a partial profile on its account's partition only (one writer of its traits); apply it once complete.

        Read, merged and written by two workers at once, two patches of one account could each miss the
        other's fields: so a patch read elsewhere goes to the account's partition first, as its events do
        (unless this worker owns that partition: then it is the one writer).
        """
        home = self._home_of_profile(patch.account_id, partition)
        if home is None:
            to = partition_for(patch.account_id, self.partitions)
            await self.outputs.repartition(patch.account_id, TRAITS, [(None, patch)], source, to)
            return
        profile = self.mapped.traits.merge(patch)
        if profile is not None:  # applying it twice changes nothing: no redelivery check of its own
            await self._apply(patch.account_id, "account", [(None, profile)], source, key, value, now_ms,
                              position=None, home=home)

    async def check_links(self) -> None:
        """Release held events whose link another worker wrote; dead-letter those whose wait ended."""
        wait = self.mapped.wait
        if not len(wait):
            return
        for link, key in wait.waiting():
            account = self.mapped.links.get(link, key)
            if account is not None:
                for held in wait.release(link, key):
                    held.linked.event.account_id = account
                    await self._release(held)
        waited = wait.wait_ms // 1000
        for held in wait.expired(self.wall_ms()):
            await self._give_up(held, "expired", f"waited {waited} s")
        self.metrics.link_wait.set(len(wait))

    async def end_link_waits(self, reason: str = "the input ended") -> None:
        """Dead-letter every held event now (the end of a backtest's input)."""
        for held in self.mapped.wait.drain():
            await self._give_up(held, "expired", reason)
        self.metrics.link_wait.set(0)

    def let_go_held(self) -> list[Any]:
        """Stop holding every event, unprocessed and un-acked (a revoke or a stop): return their ack tokens."""
        tokens = {id(h.token): h.token for h in self.mapped.wait.drain()}
        self.metrics.link_wait.set(0)
        return [t.ack_token for t in tokens.values() if t.ack_token is not None]

    async def _release(self, held: Held) -> None:
        """Route a held event whose link arrived, as its message would have (no redelivery check: it is late)."""
        self.metrics.link_waits.labels("resolved").inc()
        event = held.linked.event
        home = held.source.partition
        items = [(held.linked.index, event)]
        if partition_for(event.account_id, self.partitions) == home:
            await self._apply(event.account_id, held.kind, items, held.source, held.key, held.value, self.wall_ms(),
                              position=None, home=home)
            await self._advance(home)
        else:
            await self.outputs.repartition(event.account_id, held.kind, items, held.source,
                                           partition_for(event.account_id, self.partitions))
        await self._done(held)

    async def _give_up(self, held: Held, outcome: str, why: str) -> None:
        """Dead-letter a held event as `unknown_account`, naming the link and the key it waited for."""
        self.metrics.link_waits.labels(outcome).inc()
        linked = held.linked
        raw = held.value if linked.index is None and held.value is not None else \
            orjson.dumps(linked.event.model_dump(mode="json"))
        error = f"account_id: link {linked.link!r} names no account for {linked.key!r} ({why})"
        await self.outputs.dead_letter(held.source, held.key, Rejection(
            linked.index, DeadLetterReason.UNKNOWN_ACCOUNT, error, raw), self.wall_ms())
        self._ev[(TOPIC_LABELS[held.kind], DEAD_LETTER)].inc()
        await self._done(held)

    async def _done(self, held: Held) -> None:
        inbound = held.token
        inbound.holds -= 1
        if inbound.holds == 0:
            await self.on_done(inbound)
