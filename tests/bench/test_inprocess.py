"""The in-process ceiling bench: every event is processed and the digests depend on the input only (no timing)."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest
import yaml

from healthmon.bench.inprocess import run_inprocess
from healthmon.config import DEFAULT_POLICY_FILE
from healthmon.core import compiled
from healthmon.core.compiled import PURE_ENV

EVENTS, ACCOUNTS = 3000, 40


def test_same_input_gives_the_same_alerts_and_states_and_every_event_is_counted() -> None:
    first, again = run_inprocess(EVENTS, ACCOUNTS), run_inprocess(EVENTS, ACCOUNTS)
    assert first.events == EVENTS + ACCOUNTS and first.messages < first.events
    assert first.alerts > 0 and first.dead_letters == 0 and first.table_writes > 0
    assert (first.alerts_digest, first.states_digest) == (again.alerts_digest, again.states_digest)


def test_single_event_messages_carry_the_same_events() -> None:
    single = run_inprocess(EVENTS, ACCOUNTS, batch_size=None)
    assert single.events == single.messages == EVENTS + ACCOUNTS and single.dead_letters == 0


def test_dense_workload_packs_tens_of_usage_events_into_each_account_hour() -> None:
    from healthmon.bench.workload import dense_accounts, usage_per_account_hour, workload_records

    events = 30_000
    dense = usage_per_account_hour(workload_records(events, dense_accounts(events), 42, "dense"))
    sparse = usage_per_account_hour(workload_records(events, 600, 42, "sparse"))
    assert dense >= 40 > sparse


def test_cost_model_counts_evaluations_and_leaves_the_outcome_unchanged() -> None:
    plain = run_inprocess(EVENTS, ACCOUNTS)
    timed = run_inprocess(EVENTS, ACCOUNTS, cost_model=True)
    assert (timed.alerts_digest, timed.states_digest) == (plain.alerts_digest, plain.states_digest)
    cost = timed.cost
    assert cost is not None and cost.evaluations > 0 and cost.decode_seconds > 0
    assert 0 < cost.evaluations_per_event < 10


def _digests_in_a_child(pure: bool, policy_file: Path | None = None) -> tuple[str, str, str, str]:
    code = ("from healthmon.bench.inprocess import run_inprocess; from healthmon.core.compiled import core_mode; "
            f"r = run_inprocess({EVENTS}, {ACCOUNTS}); print(core_mode(), r.alerts, r.alerts_digest, r.states_digest)")
    env = {k: v for k, v in os.environ.items() if k not in (PURE_ENV, "HEALTHMON_POLICY_FILE")}
    if pure:
        env[PURE_ENV] = "1"
    if policy_file is not None:
        env["HEALTHMON_POLICY_FILE"] = str(policy_file)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    mode, alerts, alerts_digest, states = out.stdout.split()
    return mode, alerts, alerts_digest, states


def _rhythm_policy(directory: Path) -> Path:
    """Write the default policy plus rhythm lines short enough to fire on the bench's workload."""
    doc = yaml.safe_load(DEFAULT_POLICY_FILE.read_text(encoding="utf-8"))
    doc["warning_lines"] += [
        {"name": "gone_quiet", "metric": "days_since_last_activity", "kind": "rhythm",
         "above_by_active_days": {1: 3, 2: 2, 6: 1}},
        {"name": "off_rhythm", "metric": "days_since_last_activity", "kind": "rhythm",
         "above_by_active_days": {1: 4}, "gap_multiple": 1.5, "min_above": 1, "max_above": 5}]
    path = directory / "rhythm.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize("rhythm", [False, True], ids=["default-policy", "rhythm-lines"])
def test_the_compiled_core_decides_byte_for_byte_what_the_pure_one_does(rhythm, tmp_path) -> None:
    if not any(p.name.endswith(tuple(EXTENSION_SUFFIXES)) for p in Path(compiled.__file__).parent.iterdir()):
        pytest.skip("the core is not compiled here (no C compiler at install, or `make pure`)")
    policy_file = _rhythm_policy(tmp_path) if rhythm else None
    compiled_run, pure_run = _digests_in_a_child(False, policy_file), _digests_in_a_child(True, policy_file)
    assert (compiled_run[0], pure_run[0]) == ("compiled", "pure")
    assert compiled_run[1:] == pure_run[1:]
    if rhythm:
        assert int(compiled_run[1]) > int(_digests_in_a_child(False)[1]), "the rhythm lines should fire too"
