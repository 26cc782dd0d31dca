"""An evaluation of a pending account whose data and day are unchanged and whose timers run on is skipped.

Replaying every generator scenario with and without that fast path gives the same alerts (every field but
the processing time) and the same saved states.
"""

from __future__ import annotations

import orjson
import pytest

from healthmon.config import DEFAULT_POLICY_FILE
from healthmon.core import Engine, EngineConfig, load_policy, state_to_bytes
from healthmon.core.engine import EvaluationStats
from healthmon.generator import generate, scenario_names
from healthmon.ingest import decode_message

HOUR = 3_600_000


def _replay(scenario: str, fast: bool) -> tuple[list[dict], dict[str, bytes], int]:
    engine = Engine(load_policy(DEFAULT_POLICY_FILE), EngineConfig(fast_pending=fast), clock=lambda: 0)
    engine.stats = EvaluationStats(timed=False)
    traffic = generate(accounts=12, scenario=scenario, seed=5, start_ms=1_767_571_200_000, days=42)
    states, alerts = {}, []
    last_tick = 0
    for rec in traffic.records():
        decoded = decode_message(rec.kind, orjson.dumps(rec.value), now_ms=2_000_000_000_000, max_bytes=1 << 20,
                                 max_future_skew_ms=0)
        for _, event in decoded.events:
            state = states.setdefault(event.account_id, engine.new_state(event.account_id))
            alerts += engine.apply(state, [event]).alerts
        boundary = rec.occurred_at - rec.occurred_at % HOUR
        if last_tick and boundary > last_tick:
            for at in range(last_tick + HOUR, boundary + 1, HOUR):
                for account in sorted(states):
                    alerts += engine.tick(states[account], at).alerts
        last_tick = max(last_tick, boundary)
    return alerts, {a: state_to_bytes(s) for a, s in states.items()}, engine.stats.fast


@pytest.mark.parametrize("scenario", scenario_names())
def test_the_fast_path_for_pending_accounts_changes_no_alert_and_no_state(scenario):
    full_alerts, full_states, _ = _replay(scenario, fast=False)
    fast_alerts, fast_states, _ = _replay(scenario, fast=True)
    assert fast_alerts == full_alerts  # processing times too: the engine's clock is fixed
    assert fast_states == full_states


def test_pending_accounts_take_the_fast_path_more_often_with_it_on():
    _, _, fast_without = _replay("drop", fast=False)
    alerts, _, fast_with = _replay("drop", fast=True)
    assert alerts and fast_with > fast_without
