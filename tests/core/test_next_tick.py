"""Skipping the ticks `Engine.next_tick_ms` says cannot change anything changes nothing a user sees."""

from __future__ import annotations

import orjson
import pytest
import yaml

from healthmon.config import DEFAULT_POLICY_FILE
from healthmon.core import Engine, load_policy, parse_policy, state_to_bytes
from healthmon.generator import generate
from healthmon.ingest import decode_message

HOUR = 3_600_000


def _with_rhythm_line() -> dict:
    doc = yaml.safe_load(open(DEFAULT_POLICY_FILE, encoding="utf-8"))
    doc["warning_lines"].append({"name": "gone_quiet", "metric": "days_since_last_activity", "kind": "rhythm",
                                 "above_by_active_days": {1: 4}, "gap_multiple": 2, "min_above": 2,
                                 "max_above": 6})
    return doc


def _replay(scenario: str, only_due: bool, rhythm: bool = False) -> tuple[list[dict], dict[str, bytes]]:
    policy = parse_policy(_with_rhythm_line()) if rhythm else load_policy(DEFAULT_POLICY_FILE)
    engine = Engine(policy, clock=lambda: 0)
    traffic = generate(accounts=10, scenario=scenario, seed=11, start_ms=1_767_571_200_000, days=42)
    states, due, alerts = {}, {}, []
    last_tick = 0
    for rec in traffic.records():
        decoded = decode_message(rec.kind, orjson.dumps(rec.value), now_ms=2_000_000_000_000, max_bytes=1 << 20,
                                 max_future_skew_ms=0)
        for _, event in decoded.events:
            state = states.get(event.account_id) or engine.new_state(event.account_id)
            states[event.account_id] = state
            result = engine.apply(state, [event])
            alerts += result.alerts
            due[event.account_id] = engine.next_tick_ms(state)
        boundary = rec.occurred_at - rec.occurred_at % HOUR
        if last_tick and boundary > last_tick:
            for at in range(last_tick + HOUR, boundary + 1, HOUR):
                for account in sorted(states):
                    if only_due and (due[account] is None or due[account] > at):
                        continue
                    alerts += engine.tick(states[account], at).alerts
                    due[account] = engine.next_tick_ms(states[account])
        last_tick = max(last_tick, boundary)
    for state in states.values():
        state.last_eval_ms = 0  # the one field skipped ticks leave behind, by design
    return alerts, {a: state_to_bytes(s) for a, s in states.items()}


@pytest.mark.parametrize(("scenario", "rhythm"), [("mixed", False), ("silent", False), ("drop", False),
                                                  ("recover", False), ("ticket_spike", False), ("silent", True),
                                                  ("mixed", True)])
def test_ticking_only_when_due_gives_the_same_alerts_and_states(scenario, rhythm):
    every_alerts, every_states = _replay(scenario, only_due=False, rhythm=rhythm)
    due_alerts, due_states = _replay(scenario, only_due=True, rhythm=rhythm)
    assert every_alerts, "the scenario should raise alerts"
    if rhythm:  # the silent accounts cross their own line, on ticks alone
        assert any(a["rule"] == "gone_quiet" and a["status"] == "firing" for a in every_alerts)
    assert due_alerts == every_alerts
    assert due_states == every_states
