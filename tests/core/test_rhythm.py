"""Rhythm lines: silence judged against the account's own history (active days so far, the gap between them)."""

from __future__ import annotations

import pytest

from healthmon.core import Engine, parse_policy, state_from_bytes, state_to_bytes
from healthmon.core.lifecycle import rhythm_line
from healthmon.core.measures import compute_metrics
from tests.core.builders import DAY, HOUR, T0, policy_doc, usage, without_processed_at

#: silent for more than 10 days after one active day, 30 after two to four, 5 from five on
TABLE = {"name": "gone_quiet", "metric": "days_since_last_activity", "kind": "rhythm",
         "above_by_active_days": {1: 10, 2: 30, 5: 5}, "exit_below": 0}
GAP = {"name": "off_rhythm", "metric": "days_since_last_activity", "kind": "rhythm",
       "above_by_active_days": {1: 20}, "gap_multiple": 3, "min_above": 4, "max_above": 40}


def _engine(*lines: dict) -> Engine:
    return Engine(parse_policy(policy_doc(warning_lines=list(lines))), clock=lambda: 42)


def _on_days(*days: float) -> list:
    return [usage(T0 + int(d * DAY) + 9 * HOUR, "u1", event_id=f"e-{d}") for d in days]


@pytest.mark.parametrize(("batches", "active", "gap"), [
    pytest.param([[0]], 1, None, id="one-day"),
    pytest.param([[0, 0.1, 0.2]], 1, None, id="three-events-one-day"),
    pytest.param([[0, 1, 2, 3]], 4, 1.0, id="four-days"),
    pytest.param([[0, 10, 20]], 3, 10.0, id="every-ten-days"),
    pytest.param([[0, 3], [1], [1.5]], 3, 1.5, id="late-day-in-between"),
    pytest.param([[5], [4], [3.9]], 2, 1.0, id="late-day-before-the-first"),
    pytest.param([[0, 60], [59]], 3, 30.0, id="late-after-a-long-gap"),
])
def test_active_days_and_their_average_gap_whatever_the_order(batches, active, gap) -> None:
    engine = _engine(TABLE)
    state = engine.new_state("acme")
    for days in batches:
        engine.apply(state, _on_days(*days))
    metrics = compute_metrics(state, state.clock_ms + 1)
    assert (metrics.get("active_days"), metrics.get("activity_gap_days")) == (active, gap)


@pytest.mark.parametrize(("line", "active", "gap", "expected"), [
    pytest.param(TABLE, 0, None, None, id="table-no-usage"),
    pytest.param(TABLE, 1, None, 10.0, id="table-one-day"),
    pytest.param(TABLE, 4, 2.0, 30.0, id="table-four-days"),
    pytest.param(TABLE, 40, 2.0, 5.0, id="table-many-days"),
    pytest.param({**TABLE, "above_by_active_days": {3: 7}}, 2, 1.0, None, id="table-below-its-first-entry"),
    pytest.param(GAP, 1, None, 20.0, id="gap-one-day-uses-the-table"),
    pytest.param(GAP, 5, 5.0, 15.0, id="gap-times-three"),
    pytest.param(GAP, 30, 1.0, 4.0, id="gap-clamped-to-min"),
    pytest.param(GAP, 3, 30.0, 40.0, id="gap-clamped-to-max"),
    pytest.param({**GAP, "above_by_active_days": None}, 1, None, None, id="gap-only-one-day-unwatched"),
])
def test_the_line_follows_the_history(line, active, gap, expected) -> None:
    if line.get("above_by_active_days") is None:
        line = {k: v for k, v in line.items() if k != "above_by_active_days"}
    (parsed,) = parse_policy(policy_doc(warning_lines=[line])).tiers["standard"].warning_lines
    assert rhythm_line(parsed, active, gap) == expected


def _silence(engine: Engine, days: list[float], until_day: int):
    """Apply usage on `days`, then tick only when `next_tick_ms` says so until `until_day`; return the alerts."""
    state = engine.new_state("acme")
    alerts = list(engine.apply(state, _on_days(*days)).alerts)
    while (due := engine.next_tick_ms(state)) is not None and due <= T0 + until_day * DAY:
        alerts += engine.tick(state, due).alerts
    return state, alerts


@pytest.mark.parametrize(("days", "fires_on_day"), [
    pytest.param([0], 11, id="one-day-line-10"),        # day 0 + more than 10 days: the first tick of day 11
    pytest.param([0, 2], 33, id="two-days-line-30"),
    pytest.param([0, 1, 2, 3, 4], 10, id="five-days-line-5"),
])
def test_a_silent_account_crosses_its_own_line_with_no_event_arriving(days, fires_on_day) -> None:
    _, alerts = _silence(_engine(TABLE), days, 60)
    assert [(a["rule"], a["status"]) for a in alerts] == [("gone_quiet", "firing")]
    fired = alerts[0]
    # Days are whole: the value passes the line at the first evaluation of that day, 00:00-01:00 UTC.
    assert fired["event_time"] == T0 + fires_on_day * DAY + HOUR
    assert fired["details"]["kind"] == "rhythm" and fired["details"]["active_days"] == len(days)
    assert "above warning line gone_quiet" in fired["summary"]


def test_it_resolves_on_the_next_activity_and_the_new_day_moves_the_line() -> None:
    engine = _engine(TABLE)
    state, alerts = _silence(engine, [0], 12)
    assert [a["status"] for a in alerts] == ["firing"]
    back = engine.apply(state, _on_days(13)).alerts  # the event crosses the day: evaluated before it applies
    back += engine.tick(state, T0 + 13 * DAY + 10 * HOUR).alerts
    assert [(a["status"], a["details"]["active_days"], a["details"]["line"]) for a in back] == \
        [("resolved", 2, 30.0)]


def test_the_gap_multiple_fires_sooner_for_a_frequent_account() -> None:
    # Every other day for 20 days: a gap of 2, a line of 3 x 2 = 6 days.
    _, alerts = _silence(_engine(GAP), [2 * d for d in range(11)], 80)
    assert [(a["status"], a["details"]["line"], a["details"]["activity_gap_days"]) for a in alerts] == \
        [("firing", 6.0, 2.0)]
    assert alerts[0]["event_time"] == T0 + 27 * DAY + HOUR


def _replay(engine: Engine, days: list[float], until_day: int, *, every_hour: bool, restart: bool):
    """Tick (every hour, or only when due) up to each usage day, apply it; optionally restart from bytes."""
    state, alerts = engine.new_state("acme"), []

    def tick_until(end_ms: int) -> None:
        nonlocal alerts
        if every_hour:
            at = state.last_eval_ms + HOUR if state.last_eval_ms else end_ms + 1
            for t in range(at, end_ms + 1, HOUR):
                alerts += engine.tick(state, t).alerts
            return
        while (due := engine.next_tick_ms(state)) is not None and due <= end_ms:
            alerts += engine.tick(state, due).alerts

    for d in days:
        tick_until(T0 + int(d * DAY))
        alerts += engine.apply(state, _on_days(d)).alerts
        if restart:
            state = state_from_bytes(state_to_bytes(state))  # as a worker restarting from its table would
    tick_until(T0 + until_day * DAY)
    engine.catch_up(state, T0 + until_day * DAY)  # the windows of a quiet account roll on when it is next read
    state.last_eval_ms = 0  # the one field skipped ticks leave behind, by design
    return without_processed_at(alerts), state_to_bytes(state)


def test_replay_every_hour_only_when_due_or_through_the_codec_gives_the_same_alerts() -> None:
    days = [0, 1, 2, 9, 10, 40, 41, 95]
    engine = _engine(TABLE, GAP)
    hourly = _replay(engine, days, 200, every_hour=True, restart=False)
    assert hourly[0] and {a["rule"] for a in hourly[0]} == {"gone_quiet", "off_rhythm"}
    assert {a["status"] for a in hourly[0]} == {"firing", "resolved"}
    assert _replay(engine, days, 200, every_hour=False, restart=False) == hourly
    assert _replay(engine, days, 200, every_hour=False, restart=True) == hourly


def test_the_rhythm_survives_the_codec() -> None:
    engine = _engine(TABLE)
    state = engine.new_state("acme")
    engine.apply(state, _on_days(0, 5, 50, 51))
    again = state_from_bytes(state_to_bytes(state))
    assert (again.active_days, again.first_activity_day) == (4, T0 // DAY)
    assert state_to_bytes(again) == state_to_bytes(state)


#: Written by the codec of the commit before rhythm lines (usage on days 0, 1, 3, 10, 40 and 41 after T0):
#: its window still shows days 10, 40 and 41.
STATE_BEFORE_RHYTHM = bytes.fromhex(
    "01a1000100000020000006005b2261636d65222c6e756c6c2c6e756c6c2c6e756c6c2c6e756c6c2c6e756c6c2c31373731313137"
    "3230303030302c313736373537343830303030302c313737313131373230303030302c302c313737313131373230303030302c32"
    "303439392c5b5b302c302c302c302c302c6e756c6c2c6e756c6c2c6e756c6c5d2c7b7d2c6e756c6c2c6e756c6c5d2c312c5b5d2c"
    "5b5d2c5b302c6e756c6c2c6e756c6c5d5d92994d683f4e6ad5030000800000000001000000010000000000000000000000000000"
    "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0001000000b1bd8a7f278d8d080bec83e6c7e7d9518213ae2c1423a95b")


def test_a_state_saved_before_rhythm_lines_still_loads_with_the_days_its_window_shows() -> None:
    state = state_from_bytes(STATE_BEFORE_RHYTHM)
    assert state.last_activity_ms == T0 + 41 * DAY + HOUR and len(state.seen) == 6 * 4
    assert (state.active_days, state.first_activity_day) == (3, T0 // DAY)
    engine = _engine(TABLE)
    engine.apply(state, _on_days(42))
    assert state.active_days == 4
    assert state_from_bytes(state_to_bytes(state)).active_days == 4


def _errors(*lines: dict, **changes) -> list[str]:
    from healthmon.core import PolicyError

    with pytest.raises(PolicyError) as info:
        parse_policy(policy_doc(warning_lines=list(lines), **changes))
    return info.value.errors


@pytest.mark.parametrize(("lines", "changes", "expected"), [
    pytest.param([{**TABLE, "metric": "events_7d"}], {},
                 ["warning_lines[0].metric: rhythm lines watch days_since_last_activity"], id="wrong-metric"),
    pytest.param([{k: v for k, v in TABLE.items() if k != "above_by_active_days"}], {},
                 ["warning_lines[0]: a rhythm line needs above_by_active_days, gap_multiple, or both"], id="empty"),
    pytest.param([{**TABLE, "above_by_active_days": {0: 5, "two": 9, 3: -1, 4: "x"}}], {},
                 ["warning_lines[0].above_by_active_days.0: must be a whole number of active days, at least 1",
                  "warning_lines[0].above_by_active_days.two: must be a whole number of active days, at least 1",
                  "warning_lines[0].above_by_active_days.3: must be >= 0",
                  "warning_lines[0].above_by_active_days.4: must be a number"], id="bad-table"),
    pytest.param([{**TABLE, "above_by_active_days": {1: 5, "1": 6}}], {},
                 ["warning_lines[0].above_by_active_days.1: duplicate number of active days (1)"], id="dup-key"),
    pytest.param([{**TABLE, "above_by_active_days": []}], {},
                 ["warning_lines[0].above_by_active_days: must be a non-empty mapping of active days so far "
                  "(1, 2, ...) to a line in days"], id="table-not-mapping"),
    pytest.param([{**TABLE, "exit_below": 5}], {},
                 ["warning_lines[0].exit_below: must be smaller than every line (the smallest is 5)"], id="exit"),
    pytest.param([{**GAP, "above_by_active_days": {1: 20, 3: 9}, "min_above": 50}], {},
                 ["warning_lines[0].max_above: must be at least min_above (50)",
                  "warning_lines[0].above_by_active_days.3: unused: with gap_multiple, the line of an account "
                  "with 2 active days or more is its gap times gap_multiple"], id="gap-conflicts"),
    pytest.param([{k: v for k, v in GAP.items() if k != "max_above"} | {"gap_multiple": 0}], {},
                 ["warning_lines[0].gap_multiple: must be > 0", "warning_lines[0].max_above: required with "
                  "gap_multiple"], id="gap-missing-max"),
    pytest.param([{**TABLE, "min_above": 3, "below": 2}], {},
                 ["warning_lines[0].below: only for absolute lines",
                  "warning_lines[0].min_above: only with gap_multiple"], id="foreign-keys"),
    pytest.param([{"name": "idle", "metric": "days_since_last_activity", "kind": "absolute", "above": 7,
                   "exit_below": 1, "gap_multiple": 2}], {},
                 ["warning_lines[0].gap_multiple: only for rhythm lines"], id="rhythm-key-on-absolute"),
    pytest.param([TABLE], {"tiers": {"key": {"warning_lines": {"gone_quiet": {"above_by_active_days": {1: 0}}}}}},
                 ["tiers.key.warning_lines.gone_quiet.exit_below: must be smaller than every line (the smallest "
                  "is 0)"], id="tier-override"),
])
def test_a_broken_rhythm_line_reports_every_error_with_its_path(lines, changes, expected) -> None:
    assert _errors(*lines, **changes) == expected


def test_tiers_override_a_rhythm_line_and_the_table_counts_in_the_version() -> None:
    doc = policy_doc(warning_lines=[TABLE], tiers={"strategic": {"warning_lines": {"gone_quiet": {
        "above_by_active_days": {1: 3, 10: 2}}}}})
    policy = parse_policy(doc)
    (strategic,), (standard,) = policy.tiers["strategic"].warning_lines, policy.tiers["standard"].warning_lines
    assert strategic.above_by_active_days == ((1, 3.0), (10, 2.0))
    assert standard.above_by_active_days == ((1, 10.0), (2, 30.0), (5, 5.0))
    same = parse_policy(policy_doc(warning_lines=[{**TABLE, "above_by_active_days": {"5": 5, "2": 30, "1": 10}}]))
    other = parse_policy(policy_doc(warning_lines=[{**TABLE, "above_by_active_days": {1: 10, 2: 30, 5: 6}}]))
    assert same.version == parse_policy(policy_doc(warning_lines=[TABLE])).version != other.version


def test_the_shipped_purchases_policy_is_valid_and_watches_the_rhythm() -> None:
    from healthmon.config import DEFAULT_POLICY_FILE
    from healthmon.core import load_policy

    policy = load_policy(DEFAULT_POLICY_FILE.parent / "examples" / "purchases.yaml")
    (line,) = policy.tiers["standard"].warning_lines
    assert line.kind == "rhythm" and line.above_by_active_days == ((1, 45.0), (2, 180.0))
    assert policy.stale_after_seconds == {}


def test_the_documented_rhythm_examples_are_valid() -> None:
    import re

    import yaml

    from healthmon.config import DEFAULT_POLICY_FILE

    docs = (DEFAULT_POLICY_FILE.parents[2] / "docs" / "policy.md").read_text()
    section = docs[docs.index("### Rhythm lines"):docs.index("## Tiers")]
    (block,) = re.findall(r"```yaml\n(.*?)```", section, re.S)
    lines = yaml.safe_load(block)["warning_lines"]
    assert {ln["kind"] for ln in lines} == {"rhythm"}
    parse_policy(policy_doc(warning_lines=lines))
