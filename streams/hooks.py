"""Faust sensors the worker hangs on its app: save the changed states before each offset commit."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from faust.sensors import Sensor

from healthmon.pipeline import Processor

__all__ = ["SaveStatesBeforeCommit"]

log = logging.getLogger(__name__)


class SaveStatesBeforeCommit(Sensor):
    """Write the processor's changed states to the table whenever Faust is about to commit offsets.

    Faust calls `on_commit_initiated` synchronously before it picks the offsets to commit, and the
    commit then flushes the producer (changelog included) before it commits: so an offset is never
    committed ahead of the changelog records of the states it covers.

    A worker put out of its group (`fenced`: frozen past its session timeout) saves nothing: its commit
    fails, the new owners have saved newer states since, and an older record written after theirs would
    be what the next recovery reads. It drops its live states instead.
    """

    def __init__(self, processor: Processor, fenced: Callable[[], bool] = lambda: False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.processor = processor
        self.fenced = fenced

    def on_commit_initiated(self, consumer: Any) -> Any:
        """Save changed states; their changelog records go out with the commit's producer flush."""
        if self.fenced():
            dropped = self.processor.drop_states()
            if dropped:
                log.warning("out of the consumer group (fenced): dropped %d unsaved states, saving nothing", dropped)
            return None
        self.processor.flush_states()
        return None
