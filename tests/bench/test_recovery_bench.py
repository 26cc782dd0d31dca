"""The recovery benchmark starts a worker twice on each store over a filled changelog (figures: BENCHMARKS.md)."""

from __future__ import annotations

import pytest

from healthmon.bench.recovery import STORES, recovery_summary, run_recovery

pytestmark = pytest.mark.integration


def test_each_store_starts_twice_over_the_changelog_and_rocksdb_keeps_every_account_on_disk(broker_url, tmp_path):
    runs = run_recovery(300, tmp_path, broker_url)
    assert [run.store for run in runs] == list(STORES)
    assert all(run.first_start_s > 0 and run.restart_s > 0 for run in runs)
    by_store = {run.store: run for run in runs}
    assert by_store["memory://"].local_accounts is None
    assert by_store["rocksdb://"].local_accounts == 300  # recovered into its databases, kept across the restart
    keys = recovery_summary(runs, 300)
    assert {"recovery_seconds_300_memory", "recovery_seconds_300_rocksdb"} <= keys.keys()
