"""The pipeline's public interface: what `streams`, `agents`, the backtest and the benchmarks may import.

That they import nothing else of it is an import-linter contract (`pipeline-interface` in pyproject.toml).
"""

from __future__ import annotations

import healthmon.pipeline as pipeline


def test_public_api() -> None:
    assert set(pipeline.__all__) >= {"Processor", "Inbound", "Aligner", "Backlog", "Pending", "NO_EVENT_TIME",
                                     "OutputSender", "LiveStates", "TickSchedule", "max_output_bytes"}
    for name in pipeline.__all__:
        assert getattr(pipeline, name) is not None, name
