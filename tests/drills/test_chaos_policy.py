"""The chaos drill's policy: the traffic's own quiet spells, per partition, are not stalls."""

from __future__ import annotations

from pathlib import Path

import pytest

from healthmon.config import Settings
from healthmon.core import load_policy
from healthmon.drills.chaos import longest_quiet_spells_ms, stall_free_policy
from healthmon.generator.records import Record
from healthmon.ingest import partition_for

DAY = 86_400_000
PARTITIONS = 4


def _account_on(partition: int) -> str:
    return next(a for a in (f"acc-{n}" for n in range(1000)) if partition_for(a, PARTITIONS) == partition)


A, B = _account_on(0), _account_on(1)


def rec(kind: str, account: str, day: float) -> Record:
    return Record(kind, account, {}, int((100 + day) * DAY))


@pytest.mark.parametrize(("records", "spells"), [
    # one partition: the longest gap between two tickets
    ([rec("usage", A, 0), rec("ticket", A, 1), rec("ticket", A, 5), rec("usage", A, 6)], {"usage": 6, "ticket": 4}),
    # tickets every day overall, but each partition's every other day: a worker owning one sees 2 days
    ([rec("ticket", A if d % 2 else B, d) for d in range(10)], {"ticket": 2}),
    # a source quiet at the end of the traffic while others flow is quiet until the traffic's end
    ([rec("ticket", A, 0), rec("usage", A, 1), rec("usage", A, 9), rec("usage", B, 8)], {"ticket": 9, "usage": 8}),
])
def test_longest_quiet_spells_per_partition(records: list[Record], spells: dict[str, float]) -> None:
    assert longest_quiet_spells_ms(records, PARTITIONS) == {k: int(v * DAY) for k, v in spells.items()}


def test_the_policy_raises_only_the_thresholds_a_quiet_spell_reaches(tmp_path: Path) -> None:
    default = Settings().engine.policy_file
    before = load_policy(default).stale_after_seconds
    assert before == {"usage": 86_400, "ticket": 259_200}  # what the cases below assume
    records = [rec("usage", A, d / 4) for d in range(40)] + [rec("ticket", A, 0), rec("ticket", A, 5.5)]
    path, raised = stall_free_policy(records, PARTITIONS, default, tmp_path / "p.yaml")
    assert raised == {"ticket": 7 * 86_400}  # 5.5 days: whole days and one more; usage's 0.25 days is no stall
    assert load_policy(path).stale_after_seconds == {"usage": 86_400, "ticket": 7 * 86_400}
