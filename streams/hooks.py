"""Faust sensors the worker hangs on its app: save the changed states before each offset commit."""

from __future__ import annotations

from typing import Any

from faust.sensors import Sensor

from healthmon.pipeline import Processor

__all__ = ["SaveStatesBeforeCommit"]


class SaveStatesBeforeCommit(Sensor):
    """Write the processor's changed states to the table whenever Faust is about to commit offsets.

    Faust calls `on_commit_initiated` synchronously before it picks the offsets to commit, and the
    commit then flushes the producer (changelog included) before it commits: so an offset is never
    committed ahead of the changelog records of the states it covers.
    """

    def __init__(self, processor: Processor, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.processor = processor

    def on_commit_initiated(self, consumer: Any) -> Any:
        """Save changed states; their changelog records go out with the commit's producer flush."""
        self.processor.flush_states()
        return None
