"""The day-close bench: day closes are counted from the score histories, and each timed close adds one day."""

from __future__ import annotations

import orjson
from click.testing import CliRunner

from healthmon.bench.day_close import run_day_close, time_day_closes
from healthmon.bench.inprocess import run_inprocess
from healthmon.cli import cli
from healthmon.config import Settings
from healthmon.core import load_policy, state_from_bytes
from healthmon.core.compiled import core_mode
from healthmon.core.daily import close_days, closed_day
from healthmon.core.history import decode


def test_the_dense_run_closes_each_account_s_days_beside_its_evaluations() -> None:
    fig = run_day_close(12_000, seed=3, repeat=3)
    assert (fig["accounts"], fig["events"], fig["core_mode"]) == (4, 12_004, core_mode())
    # 2 days of events: each account closes its first day, and the day after ends at the next evaluation
    assert fig["accounts"] <= fig["day_closes"] <= 3 * fig["accounts"] < fig["evaluations"]
    assert fig["day_closes_per_evaluation_dense"] == round(fig["day_closes"] / fig["evaluations"], 5)
    assert fig["timed_day_closes"] == 3 * fig["accounts"]  # every account closes its next day, 3 times
    assert fig["us_per_day_close"] > 0 and fig["us_per_evaluation_dense"] > 0
    assert fig["day_close_us_per_event_dense"] == round(fig["us_per_day_close"] * fig["day_closes"] / 12_004, 4)


def test_a_timed_close_is_the_next_day_s_point_as_the_engine_adds_it() -> None:
    samples = run_inprocess(6_000, 2, 3, 100, "dense").state_samples
    closes, seconds = time_day_closes(samples, repeat=2)
    assert closes == 2 * len(samples) and seconds > 0
    policy = load_policy(Settings(redis={"url": ""}).engine.policy_file)
    for raw in samples:
        state = state_from_bytes(raw)
        held = decode(state.history)
        closed = close_days(state, closed_day(state) + 1, policy.for_tier(state.tier), 180)
        assert [day for day, _ in closed] == [held[-1].day + 1]
        assert decode(state.history)[:-1] == held and decode(state.history)[-1].score == closed[0][1].score


def test_healthmon_bench_day_close_prints_the_figures_as_json() -> None:
    result = CliRunner().invoke(cli, ["bench", "--day-close", "--events", "6000", "--seed", "3"])
    assert result.exit_code == 0, result.output
    fig = orjson.loads(result.output.strip().splitlines()[-1])
    assert fig["accounts"] == 2 and fig["us_per_day_close"] > 0 and fig["day_closes_per_evaluation_dense"] > 0
