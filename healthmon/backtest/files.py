"""Write generated traffic as a backtest input directory: one JSON Lines file per input topic."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import orjson

from healthmon.generator import Record

__all__ = ["write_input_files"]


def write_input_files(records: Iterable[Record], directory: Path, file_names: dict[str, str]) -> Counter[str]:
    """Write each record to `<directory>/<file_names[kind]>.jsonl`, one per line; return lines per kind.

    Existing files of those names are replaced, so a directory always holds one generation.
    """
    directory.mkdir(parents=True, exist_ok=True)
    handles = {kind: open(directory / f"{name}.jsonl", "wb") for kind, name in file_names.items()}  # noqa: SIM115
    counts: Counter[str] = Counter()
    try:
        for rec in records:
            handles[rec.kind].write(orjson.dumps(rec.value) + b"\n")
            counts[rec.kind] += 1
    finally:
        for handle in handles.values():
            handle.close()
    return counts
