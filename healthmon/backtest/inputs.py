"""Backtest input: JSON Lines files (or a topic's retained history) merged in event-time order.

Each input is sorted by `occurred_at` (stable: equal times keep file order) with a bounded external
merge: runs of at most `run_lines` lines are sorted in memory and spilled to temporary files, then
`heapq.merge` streams them back, so memory is bounded by the run size, not by the history. The sorted
inputs are then merged the way a worker merges a partition's topics: the lowest event time among the
heads goes next (on a tie, the earlier topic in `INPUT_KINDS` order), profiles (which have no event time) first.
A line that only removes an account (a Debezium delete or tombstone) goes where the removal happened: at
its own time, else its record's, and only without either with the profiles.
"""

from __future__ import annotations

import gzip
import heapq
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from healthmon.core.vocabulary import INPUT_KINDS
from schemas.events import parse_epoch_ms

__all__ = ["InputFile", "Line", "LineKeys", "NO_TIME", "PROFILE_ORDER", "RUN_LINES", "Sorter", "file_names",
           "input_files", "line_keys", "merged", "occurred_at_of", "read_lines", "sorted_lines"]

#: Input kinds in the worker's tie-break order (that of `TopicSettings.input_names`).
#: Lines sorted in memory before a run is spilled to a temporary file.
RUN_LINES = 250_000
#: Sort key of a line without a usable event time: profiles and lines that will be dead-lettered go first.
NO_TIME = -1
#: Merge position of every profile: before any event
PROFILE_ORDER = NO_TIME - 1


class Line(NamedTuple):
    """One input line. Lines compare by (order, rank, seq): the merge order, unique per line."""

    #: the merge position: `occurred_at`, or `PROFILE_ORDER` for every profile
    order: int
    #: the input's place in `INPUT_KINDS`, which breaks ties between inputs as the worker does
    rank: int
    #: the line's position in its input, which keeps equal times in input order
    seq: int
    #: the earliest event time of the line, or `NO_TIME`
    occurred_at: int
    kind: str
    #: the account of the line's (first) event, or "" if it has none
    account: str
    #: the message's value (None: a tombstone read from a topic)
    raw: bytes | None
    #: the message's key, kept for a tombstone only: it names the removed account
    key: bytes | None = None


class LineKeys(NamedTuple):
    """What the merge reads of a line."""

    #: its earliest event time, or `NO_TIME`
    occurred_at: int
    #: the account of its (first) event, or "" if it has none
    account: str
    #: for a line that only removes an account: the removal's time (`NO_TIME`: it names none); else None
    removed_at: int | None = None


@dataclass(frozen=True)
class InputFile:
    """One input file of a backtest directory."""

    kind: str
    path: Path


def input_files(directory: Path, topic_names: dict[str, str]) -> list[InputFile]:
    """Return the input files of `directory`: `<topic>.jsonl` or `<topic>.jsonl.gz` per input, any missing.

    `topic_names` maps each input (a kind, or an inputs file's topic) to its file name stem, in order.
    """
    out = []
    for kind, stem in topic_names.items():
        for suffix in (".jsonl", ".jsonl.gz"):
            path = directory / f"{stem}{suffix}"
            if path.is_file():
                out.append(InputFile(kind, path))
    return out


def file_names(settings: Any) -> dict[str, str]:
    """Return each input kind's file name stem: its topic name without the deployment's prefix."""
    return {"usage": settings.topics.usage, "ticket": settings.topics.tickets, "nps": settings.topics.nps,
            "account": settings.topics.accounts}


def read_lines(path: Path) -> Iterator[bytes]:
    """Yield the non-blank lines of a (possibly gzipped) file, without their line ends."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        for raw in handle:
            line = raw.rstrip(b"\r\n")
            if line.strip():
                yield line


def line_keys(raw: bytes | None, key: bytes | None = None) -> LineKeys:
    """Return a line's earliest `occurred_at` (`NO_TIME` if none parses) and its first account ("" if none)."""
    if raw is None:
        return LineKeys(NO_TIME, "")  # a native tombstone: the worker ignores it
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return LineKeys(NO_TIME, "")
    if isinstance(doc, dict) and isinstance(doc.get("events"), list):
        doc = doc["events"]
    items = doc if isinstance(doc, list) else [doc]
    best = None
    account = ""
    for item in items:
        if not isinstance(item, dict):
            continue
        if not account and isinstance(item.get("account_id"), str):
            account = item["account_id"]
        if "occurred_at" in item:
            try:
                t = parse_epoch_ms(item["occurred_at"])
            except ValueError:
                continue
            if best is None or t < best:
                best = t
    return LineKeys(NO_TIME if best is None else best, account)


def occurred_at_of(raw: bytes) -> int:
    """Return a line's sort key: its (earliest) `occurred_at`, or `NO_TIME` if it has none that parses."""
    return line_keys(raw)[0]


def _spill(run: list[Line], directory: str) -> Path:
    handle = tempfile.NamedTemporaryFile("wb", dir=directory, suffix=".run", delete=False)
    with handle:
        for line in run:
            key = b"-" if line.key is None else line.key.hex().encode()
            body = b"~" if line.raw is None else b"=" + line.raw
            handle.write(b"%d\t%d\t%d\t%s\t%s\t%s\n" % (line.order, line.seq, line.occurred_at,
                                                         orjson.dumps(line.account), key, body))
    return Path(handle.name)


def _read_run(path: Path, kind: str, rank: int) -> Iterator[Line]:
    with open(path, "rb") as handle:
        for raw in handle:
            order, seq, t, account, key, body = raw.rstrip(b"\n").split(b"\t", 5)
            yield Line(int(order), rank, int(seq), int(t), kind, orjson.loads(account),
                       None if body == b"~" else body[1:], None if key == b"-" else bytes.fromhex(key.decode()))


class Sorter:
    """Sort one input's lines by event time (stable), spilling sorted runs of `run_lines` to temp files."""

    def __init__(self, kind: str, *, run_lines: int = RUN_LINES, tmp_dir: str | None = None, name: str | None = None,
                 rank: int | None = None, keys: Callable[[bytes | None, bytes | None], LineKeys] | None = None) -> None:
        """`kind` is the input kind; `name` what its lines carry (`Line.kind`: the kind unless an inputs file
        names its inputs by topic), `rank` its tie-break place, `keys` (event time, account) of a line."""
        if run_lines < 1:
            raise ValueError("run_lines must be at least 1")
        self.kind = name or kind
        self._rank = INPUT_KINDS.index(kind) if rank is None else rank
        self._profiles = kind == "account"
        self._keys = keys or line_keys
        self.run_lines = run_lines
        self.tmp_dir = tmp_dir
        self.lines = 0
        self._run: list[Line] = []
        self._spilled: list[Path] = []
        self._workdir: str | None = None

    def add(self, raw: bytes | None, key: bytes | None = None, timestamp_ms: int | None = None) -> None:
        """Take one line: a message's value (None: a tombstone), its `key` and its record's time if read from a topic.

        The key is kept for a tombstone only, the one line that needs it (it names the removed account).
        """
        t, account, removed_at = self._keys(raw, key)
        if removed_at is not None:
            # Before the profiles, a removal would forget an account ahead of its whole history.
            order = removed_at if removed_at != NO_TIME else timestamp_ms if timestamp_ms is not None else PROFILE_ORDER
        else:
            # Profiles carry no event time: they go before every event, in their own order.
            order = PROFILE_ORDER if self._profiles else t
        self._run.append(Line(order, self._rank, self.lines, t, self.kind, account, raw,
                              key if raw is None else None))
        self.lines += 1
        if len(self._run) >= self.run_lines:
            self._run.sort()
            if self._workdir is None:
                self._workdir = tempfile.mkdtemp(prefix="healthmon-backtest-", dir=self.tmp_dir)
            self._spilled.append(_spill(self._run, self._workdir))
            self._run = []

    @property
    def runs_spilled(self) -> int:
        """Return how many sorted runs went to temporary files."""
        return len(self._spilled)

    def __iter__(self) -> Iterator[Line]:
        """Yield every line taken, in event-time order; the temporary files go once done."""
        run, self._run = self._run, []
        run.sort()
        try:
            if not self._spilled:
                yield from run
                return
            streams: list[Iterable[Line]] = [_read_run(p, self.kind, self._rank) for p in self._spilled]
            if run:
                streams.append(run)
            yield from heapq.merge(*streams)
        finally:
            self.close()

    def close(self) -> None:
        """Remove the temporary files."""
        for path in self._spilled:
            path.unlink(missing_ok=True)
        self._spilled = []
        if self._workdir is not None:
            os.rmdir(self._workdir)
            self._workdir = None


def sorted_lines(kind: str, lines: Iterable[bytes], *, run_lines: int = RUN_LINES,
                 tmp_dir: str | None = None) -> Sorter:
    """Return `lines` of one input, sorted by event time (stable), spilling sorted runs past `run_lines`."""
    sorter = Sorter(kind, run_lines=run_lines, tmp_dir=tmp_dir)
    for raw in lines:
        sorter.add(raw)
    return sorter


def merged(inputs: dict[str, Iterable[Line]]) -> Iterator[Line]:
    """Merge sorted inputs by event time: profiles first, then the lowest time, ties in `INPUT_KINDS` order."""
    return heapq.merge(*inputs.values())
