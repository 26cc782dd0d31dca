"""An evaluation of a pending account whose data and day are unchanged and whose timers run on is skipped.

Replaying every generator scenario with and without that fast path gives the same alerts (every field but
the processing time) and the same saved states.
"""

from __future__ import annotations

import orjson
import pytest

from healthmon.core import Engine, load_policy, state_to_bytes
from healthmon.generator import generate, scenario_names
from healthmon.ingest import decode_message
from streams.settings import DEFAULT_POLICY_FILE

HOUR = 3_600_000


def _replay(scenario: str, fast: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[list[dict], dict[str, bytes], int]:
    engine = Engine(load_policy(DEFAULT_POLICY_FILE), clock=lambda: 0)
    skipped = 0
    if not fast:
        monkeypatch.setattr(engine, "_timer_due", lambda state, last_ms, at_ms: True)
    else:
        due = engine._timer_due

        def counting(state, last_ms, at_ms):  # noqa: ANN001, ANN202 - a spy with the method's signature
            nonlocal skipped
            moved = due(state, last_ms, at_ms)
            skipped += not moved
            return moved

        monkeypatch.setattr(engine, "_timer_due", counting)
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
    return alerts, {a: state_to_bytes(s) for a, s in states.items()}, skipped


@pytest.mark.parametrize("scenario", scenario_names())
def test_the_fast_path_for_pending_accounts_changes_no_alert_and_no_state(scenario, monkeypatch):
    full_alerts, full_states, _ = _replay(scenario, fast=False, monkeypatch=monkeypatch)
    fast_alerts, fast_states, skipped = _replay(scenario, fast=True, monkeypatch=monkeypatch)
    assert fast_alerts == full_alerts  # processing times too: the engine's clock is fixed
    assert fast_states == full_states


def test_the_fast_path_is_taken_in_a_scenario_with_warning_lines_pending(monkeypatch):
    alerts, _, skipped = _replay("drop", fast=True, monkeypatch=monkeypatch)
    assert alerts and skipped > 0
