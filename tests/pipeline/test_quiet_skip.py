"""Ticking a quiet account only when something can change gives the alerts and states of ticking it daily.

Each replay runs twice through the worker's processor: with `EngineConfig.skip_quiet` (the default) and
without it, where every known account is evaluated at least once a day. The alerts digest covers every
field but the processing time; the states digest every byte of every state as of its partition's stream
time but the last evaluation instant; the views digest what the view shows of each account (score, band, the
scores 7 and 30 days before) before a quiet account's skipped days are closed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from healthmon.bench.inprocess import PARTITIONS, run_inprocess
from healthmon.bench.workload import PURCHASES_POLICY_FILE
from healthmon.config import DEFAULT_POLICY_FILE
from healthmon.generator import Record, generate, scenario_names
from healthmon.generator.dormant import dormant_records
from healthmon.generator.records import DAY_MS
from healthmon.generator.traffic import DEFAULT_START_MS
from healthmon.ingest import partition_for


def _both(records: list[Record], policy_file: Path) -> tuple:
    quiet = run_inprocess(0, 0, batch_size=None, records=records, policy_file=policy_file)
    daily = run_inprocess(0, 0, batch_size=None, records=records, policy_file=policy_file, skip_quiet=False)
    return quiet, daily


def _rhythm_policy(directory: Path) -> Path:
    """Write the default policy plus a rhythm line short enough to cross within a scenario."""
    doc = yaml.safe_load(DEFAULT_POLICY_FILE.read_text(encoding="utf-8"))
    doc["warning_lines"].append({"name": "gone_quiet", "metric": "days_since_last_activity", "kind": "rhythm",
                                 "above_by_active_days": {1: 4}, "gap_multiple": 2, "min_above": 2, "max_above": 6})
    path = directory / "rhythm.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize("rhythm", [False, True], ids=["default-policy", "rhythm-line"])
@pytest.mark.parametrize("scenario", scenario_names())
def test_every_scenario_raises_the_same_alerts_and_leaves_the_same_states(scenario, rhythm, tmp_path) -> None:
    records = list(generate(accounts=10, scenario=scenario, seed=11, days=42).records())
    quiet, daily = _both(records, _rhythm_policy(tmp_path) if rhythm else DEFAULT_POLICY_FILE)
    assert daily.alerts > 0 or scenario in ("healthy", "ingest_stall")  # these two raise none at this size
    assert (quiet.alerts, quiet.alerts_digest, quiet.states_digest, quiet.views_digest) == \
        (daily.alerts, daily.alerts_digest, daily.states_digest, daily.views_digest)
    assert quiet.evaluations <= daily.evaluations


def test_the_dormant_workload_is_evaluated_a_few_times_per_purchase_with_the_same_outcome() -> None:
    records = list(dormant_records(400, seed=3))
    purchases = sum(1 for r in records if r.kind == "usage")
    quiet, daily = _both(records, PURCHASES_POLICY_FILE)
    assert daily.alerts > 100  # the silence line fires for most of them
    assert (quiet.alerts_digest, quiet.states_digest, quiet.views_digest) == \
        (daily.alerts_digest, daily.states_digest, daily.views_digest)
    assert quiet.evaluations / purchases <= 5 < 20 < daily.evaluations / purchases


def _same_partition(account: str, prefix: str) -> str:
    return next(c for n in range(1000) if partition_for(c := f"{prefix}-{n}", PARTITIONS)
                == partition_for(account, PARTITIONS))


def _purchase(account: str, day: float, n: int) -> Record:
    at = DEFAULT_START_MS + int(day * DAY_MS)
    return Record("usage", account, {"event_id": f"{account}-{n}", "account_id": account, "user_id": account,
                                     "feature": "purchase", "occurred_at": at}, at)


def test_a_purchase_far_behind_the_stream_meets_the_account_as_daily_evaluations_left_it() -> None:
    # A buys on day 0, then goes quiet; its neighbour on the same partition carries the stream to day 100.
    # A purchase of A dated day 50 then arrives: over 35 days behind the stream, it is too old for the
    # windows a daily-evaluated account holds, and must count no more in a quiet one.
    neighbour = _same_partition("acme", "other")
    records = [_purchase("acme", 0.5, 0)] + [_purchase(neighbour, d + 0.5, d) for d in range(0, 101, 5)]
    records += [_purchase("acme", 50.5, 1), _purchase(neighbour, 120.5, 999)]
    quiet, daily = _both(records, PURCHASES_POLICY_FILE)
    assert daily.alerts > 0
    assert (quiet.alerts_digest, quiet.states_digest) == (daily.alerts_digest, daily.states_digest)
