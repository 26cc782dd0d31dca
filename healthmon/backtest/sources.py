"""The backtest's inputs: today's four (one file or topic per kind) or those of the inputs file, in its formats.

Without `HEALTHMON_INPUTS_FILE` a source is a kind: `product-usage.jsonl` and the like, exactly as before.
With it, a source is each input of the file, its lines named after its topic (`segment-tracks.jsonl`),
sorted by the event time its mapping gives, and tie-broken in file order as the worker's aligner does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from healthmon.backtest.inputs import NO_TIME, LineKeys, Sorter, file_names, line_keys
from healthmon.core.vocabulary import INPUT_KINDS
from healthmon.ingest.formats import InputMapper
from healthmon.ingest.inputs import InputsFile, inputs_or_default

__all__ = ["InputSource", "input_sources", "mapped_keys"]

#: a line's event time is read with no future limit and no floor: the replay judges both
_FAR_FUTURE_MS = 99_999_999_999_999


@dataclass(frozen=True)
class InputSource:
    """One input of a backtest: where its lines come from, what they are, and how they sort."""

    #: the name its lines carry through the merge (`Line.kind`): the kind without a file, the topic with one
    name: str
    kind: str
    #: the topic the processor knows it by
    topic: str
    #: the file name stem of its lines (`<stem>.jsonl`)
    stem: str
    #: its place in the tie-break order
    rank: int
    #: (event time, account, removal time) of a line and its key: `line_keys` for native lines, else the mapping's
    keys: Callable[[bytes | None, bytes | None], LineKeys] = line_keys

    def sorter(self, run_lines: int) -> Sorter:
        """Return an empty sorter of this input's lines."""
        return Sorter(self.kind, run_lines=run_lines, name=self.name, rank=self.rank, keys=self.keys)


def input_sources(settings: Any, inputs: InputsFile | None = None) -> list[InputSource]:
    """Return the backtest's inputs: those of `inputs` (else `HEALTHMON_INPUTS_FILE`'s), or today's four."""
    if inputs is None:
        inputs = inputs_or_default(settings.ingest.inputs_file, settings.topics.input_names)
    if inputs.source == "defaults":
        stems, topics = file_names(settings), settings.topics.input_names
        return [InputSource(kind, kind, topics[kind], stems[kind], INPUT_KINDS.index(kind)) for kind in INPUT_KINDS]
    out = []
    for rank, spec in enumerate(inputs.inputs):
        mapper = InputMapper(spec)
        keys = line_keys if mapper.native else mapped_keys(mapper)
        out.append(InputSource(spec.topic, spec.kind, spec.topic, spec.topic, rank, keys))
    return out


def mapped_keys(mapper: InputMapper) -> Callable[[bytes | None, bytes | None], LineKeys]:
    """Return the (earliest event time, first account, removal time) of a line as `mapper` reads it."""
    def keys(raw: bytes | None, key: bytes | None) -> LineKeys:
        mapped = mapper.map(raw, key, now_ms=_FAR_FUTURE_MS, max_bytes=len(raw or b"") + 1, max_future_skew_ms=0,
                            min_occurred_at_ms=0)
        times = [e.occurred_at for _, e in mapped.events if getattr(e, "occurred_at", None) is not None]
        times += [e.occurred_at for _, e in mapped.replacements]
        times += [linked.event.occurred_at for linked in mapped.linked]
        account = next((e.account_id for _, e in (*mapped.events, *mapped.replacements)), "")
        removed_at = None
        if mapped.removals and not times:
            account = account or mapped.removals[0].account_id
            known = [r.occurred_at for r in mapped.removals if r.occurred_at is not None]
            removed_at = min(known) if known else NO_TIME
        return LineKeys(min(times) if times else NO_TIME, account, removed_at)
    return keys
