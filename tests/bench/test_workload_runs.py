"""How the bench sizes the run that measures several workers (no timing: the arithmetic only)."""

from __future__ import annotations

import pytest

from healthmon.bench.workload_runs import workers_scale_factor


@pytest.mark.parametrize("workers_seconds, expected", [
    (2.63, 5),    # the full run of 2026-12-06: 2.6 s measured, so 5x the events for 12 s or more
    (5.9, 3),
    (9.9, 2),     # never less than twice
    (0.0, 120),   # nothing measured at all: the most the floor of 0.1 s allows
])
def test_the_several_worker_run_is_scaled_to_measure_at_least_the_minimum(workers_seconds, expected):
    factor = workers_scale_factor(workers_seconds, 10.0)
    assert factor == expected
    assert workers_seconds == 0.0 or workers_seconds * factor >= 10.0
