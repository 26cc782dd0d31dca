"""The processor's side of the moved events' merge (`healthmon.pipeline.moved_merge`): a repartition message
is taken apart into its entries, and each entry, released in its turn, is applied on its own.

Entries of one message are released at different times, among other messages' entries, so a message's
offset is no longer a position its accounts reach in order: an account records the highest offset up to
which every entry is released (`Moved.through`), and an entry at or below its recorded position is a
duplicate (a message read again after a crash). Mixed into `healthmon.pipeline.processor.Processor`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from healthmon.core.vocabulary import DEAD_LETTER
from healthmon.ingest import Rejection
from healthmon.ingest.repartition import REMOVAL, TRAITS, Mark, Repartitioned, Source, encode_repartitioned
from healthmon.pipeline.committed_cut import Committed, ahead_of_commit
from healthmon.pipeline.moved_merge import Moved
from healthmon.pipeline.pacing import Progress
from healthmon.pipeline.pending import NO_EVENT_TIME
from healthmon.serving.metrics import TOPIC_LABELS
from schemas.deadletter import DeadLetterReason

if TYPE_CHECKING:
    from healthmon.pipeline.live_states import LiveStates
    from healthmon.pipeline.mapped_inputs import MappedInputs
    from healthmon.pipeline.outputs import OutputSender
    from healthmon.pipeline.tick_schedule import TickSchedule

__all__ = ["MovedApply", "MovedEntries", "REPARTITION_POSITION", "earliest_event_time"]

log = logging.getLogger(__name__)

#: the redelivery check's source of the repartition topic
REPARTITION_POSITION = "repartition"

#: a message's entries for the merge, the indexes of its removals, and its marks
MovedEntries = tuple[list[tuple[int, str, int, int, str, Any]], frozenset[int], list[tuple[tuple[str, int], Progress]]]


def earliest_event_time(events: Iterable[Any]) -> int:
    """Return the earliest `occurred_at` of `events` (`NO_EVENT_TIME` when none has one, as profiles and traits)."""
    times = [t for t in (getattr(e, "occurred_at", None) for e in events) if t is not None]
    return min(times) if times else NO_EVENT_TIME


class MovedApply:
    """Take a repartition message apart for the merge; apply one released entry."""

    if TYPE_CHECKING:  # the processor's parts this mixin uses
        mapped: MappedInputs
        outputs: OutputSender
        states: LiveStates
        ticks: TickSchedule
        wall_ms: Any
        position_key: dict[str, str]
        partitions: int
        settings: Any
        _ev: dict[tuple[str, str], Any]

        async def _apply(self, account_id: str, kind: str, items: list[tuple[int | None, Any]],
                         source: Source | list[Source], key: bytes | None, value: bytes | None, now_ms: int,
                         position: tuple[str, int] | None, home: int, replaces: bool = False) -> None: ...

        async def _advance(self, partition: int) -> None: ...

        async def _remove(self, account_id: str, reason: str, source: Source, partition: int) -> None: ...

    #: the group's committed offset of an input partition (set by the input agent; None: all states resume time)
    committed: Committed | None = None

    def _resume_ticks(self) -> None:
        if not self.ticks.resumed:  # first, so that it sees the saved states only
            ahead = None
            if self.committed is not None:
                topic_of = {key: topic for topic, key in self.position_key.items()}
                topic_of[REPARTITION_POSITION] = self.settings.repartition_topic
                ahead = ahead_of_commit(self.committed, topic_of, self.partitions)
            held = self.ticks.resume(((a, s) for a in self.states.saved_accounts()
                                      if (s := self.states.get(a)) is not None), ahead)
            for partition, (resumed, later) in held.items():
                log.info("resume: partition %d resumes its stream time at %d, not at %d: states saved ahead of the "
                         "committed offsets (a commit cut short) meet their input again as duplicates",
                         partition, resumed, later)

    @staticmethod
    def moved_entries(packed: list[Repartitioned], marks: list[Mark]) -> MovedEntries:
        """Return a decoded repartition message's entries for `MovedMerge.add`, its removals and its marks."""
        entries: list[tuple[int, str, int, int, str, Any]] = []
        removals = []
        for entry in packed:
            if not entry.items:
                continue
            first = entry.items[0][1]
            if entry.kind == REMOVAL:
                removals.append(len(entries))
            when = NO_EVENT_TIME if entry.kind in (REMOVAL, TRAITS) else earliest_event_time(e for _, e in entry.items)
            source = entry.source
            entries.append((when, source.topic, source.partition, source.offset, first.account_id, entry))
        return entries, frozenset(removals), [((t, p), Progress(e, c)) for t, p, e, c in marks]

    async def process_moved(self, moved: Moved, now_ms: int) -> None:
        """Apply one released entry of a repartition message on its account's partition, then tick the partition."""
        self._resume_ticks()
        entry: Repartitioned = moved.entry
        kind, source, items, replaces = entry
        home = moved.partition
        if kind == REMOVAL:
            for _, removal in items:
                await self._remove(removal.account_id, removal.reason, source, home)
        else:
            if kind == TRAITS:  # merged here, on the account's partition; a complete profile applies in turn
                items = [(i, p) for i, patch in items if (p := self.mapped.traits.merge(patch)) is not None]
                kind = "account"
            if items:
                account_id = items[0][1].account_id
                await self._apply(account_id, kind, items, source, account_id.encode(), None, now_ms,
                                  position=self._position(account_id, moved), home=home, replaces=replaces)
        await self._advance(home)

    def _position(self, account_id: str, moved: Moved) -> tuple[str, int] | None:
        state = self.states.get(account_id)
        saved = state.positions.get(REPARTITION_POSITION, -1) if state is not None else -1
        if moved.pack.offset <= saved:
            return REPARTITION_POSITION, moved.pack.offset  # applied before a crash: the engine finds duplicates
        return (REPARTITION_POSITION, moved.through) if moved.through > saved else None

    async def send_marks(self) -> None:
        """Send the packs and marks now if a mark entered another interval (receivers may wait for it)."""
        packs = self.outputs.packs
        if packs is not None and packs.marks_moved():
            await self.outputs.flush_repartition()

    async def dead_letter_moved(self, moved: Moved, key: bytes | None, exc: BaseException) -> None:
        """Dead-letter an entry whose processing raised, at the input message its events came from."""
        entry: Repartitioned = moved.entry
        raw = encode_repartitioned(entry.kind, entry.source, entry.items, entry.replaces)
        rejection = Rejection(None, DeadLetterReason.PROCESSING_ERROR, f"{type(exc).__name__}: {exc}", raw)
        await self.outputs.dead_letter(entry.source, key, rejection, self.wall_ms())
        label = TOPIC_LABELS.get(entry.kind, "product-usage")
        self._ev[(label, DEAD_LETTER)].inc()
