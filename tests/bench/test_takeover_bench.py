"""The takeover benchmark kills one of two workers and times the survivor's takeover (figures: BENCHMARKS.md)."""

from __future__ import annotations

import pytest

from healthmon.bench.takeover import STANDBYS, probe_accounts, run_takeover, takeover_summary
from healthmon.ingest.routing import partition_for


def test_probes_are_one_account_per_partition_by_the_workers_own_partitioner():
    accounts = [f"rec-{i:07d}" for i in range(50)]
    probes = probe_accounts(accounts, 4)
    assert [partition_for(a, 4) for a in probes] == [0, 1, 2, 3]
    assert all(a in accounts for a in probes)
    with pytest.raises(ValueError, match="do not cover 4 partitions"):
        probe_accounts(accounts[:1], 4)


@pytest.mark.integration
def test_a_survivor_takes_the_killed_workers_partitions_over_with_and_without_a_standby(broker_url, tmp_path):
    runs = run_takeover(300, tmp_path, broker_url)
    assert [run.standby_replicas for run in runs] == list(STANDBYS)
    # Each run killed a worker that owned partitions, and the survivor applied every probe sent after it.
    assert all(0 < run.victim_partitions < 4 and 0 < run.takeover_s <= run.takeover_view_s for run in runs)
    assert set(takeover_summary(runs, 300)) == {
        "takeover_accounts", "takeover_seconds_300_standby0", "takeover_seconds_300_standby1",
        "takeover_view_seconds_300_standby0", "takeover_view_seconds_300_standby1"}
