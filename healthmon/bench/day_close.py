"""The day close's cost: the extra scoring of an account at the end of each of its event-time days.

`python -m healthmon.bench.day_close [--events N] [--seed N] [--repeat N] [--json]` runs the dense
workload in process (`healthmon.bench.inprocess`, as a worker schedules it) and counts its day closes:
every point of an account's score history is one (`healthmon.core.daily.close_days` scores the account as
of the day's end, beside the evaluations). `day_closes_per_evaluation_dense` is that count over the run's
full evaluations, a count that machine load cannot move; the run has the cost model's timers, so
`us_per_evaluation_dense` is there to compare with. Then `close_days` alone is timed on the run's
end states: each closes its next day, as the engine does at the first evaluation or event of the day
after, from the same state and history again and again (`us_per_day_close`, a timing: say the machine's
load beside it).

On a loaded machine count instructions instead: `--samples-out FILE` keeps the end states, and
`--close-only FILE --repeat N` runs only the timed closes on them, so that two runs under
`valgrind --tool=callgrind` with different `--repeat` give the instructions of one close by difference.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import orjson

from healthmon.bench.inprocess import run_inprocess
from healthmon.bench.workload import dense_accounts
from healthmon.config import Settings
from healthmon.core import load_policy, state_from_bytes
from healthmon.core.compiled import core_mode
from healthmon.core.daily import close_days, closed_day
from healthmon.core.history import decode

__all__ = ["run_day_close", "time_day_closes"]


def time_day_closes(samples: list[bytes], repeat: int = 20) -> tuple[int, float]:
    """Close the next day of each sampled state, `repeat` times over; return the days closed and their seconds."""
    settings = Settings(redis={"url": ""})
    policy = load_policy(settings.engine.policy_file)
    closes, spent_ns = 0, 0
    for raw in samples:
        state = state_from_bytes(raw)
        ended = closed_day(state)  # the newest day its history holds
        if ended < 0:
            continue
        tier, history = policy.for_tier(state.tier), state.history
        for _ in range(repeat):
            state.history, state.closed_day = history, ended
            started = time.perf_counter_ns()
            closed = close_days(state, ended + 1, tier, settings.engine.history_days)
            spent_ns += time.perf_counter_ns() - started
            closes += len(closed)
    return closes, spent_ns / 1e9


def run_day_close(events: int = 100_000, seed: int = 42, repeat: int = 20, *,
                  samples_out: str | None = None) -> dict[str, Any]:
    """Return the day closes of the dense workload per full evaluation, and µs per day close."""
    accounts = dense_accounts(events)
    result = run_inprocess(events, accounts, seed, 100, "dense", cost_model=True)
    cost = result.cost
    assert cost is not None  # a cost-model run
    points = sum(len(decode(state_from_bytes(raw).history)) for raw in result.state_samples)
    if not points or not cost.evaluations:
        raise RuntimeError(f"the dense run closed {points} days in {cost.evaluations} evaluations")
    if samples_out:
        with open(samples_out, "wb") as f:
            f.write(orjson.dumps([raw.hex() for raw in result.state_samples]))
    closes, seconds = time_day_closes(result.state_samples, repeat)
    if not closes:
        raise RuntimeError("no end state of the dense run could close its next day")
    us_per_close = 1e6 * seconds / closes
    return {
        "core_mode": core_mode(), "accounts": accounts, "events": result.events, "day_closes": points,
        "evaluations": cost.evaluations, "day_closes_per_evaluation_dense": round(points / cost.evaluations, 5),
        "us_per_day_close": round(us_per_close, 3), "timed_day_closes": closes,
        "us_per_evaluation_dense": round(cost.us_per_evaluation, 3),
        "day_close_us_per_event_dense": round(us_per_close * points / result.events, 4),
    }


def main(argv: list[str] | None = None) -> None:
    """Run from the command line and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="events of the dense workload")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=20, help="times each end state's days are closed again")
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    parser.add_argument("--samples-out", help="write the dense run's end states to this file")
    parser.add_argument("--close-only", metavar="FILE", help="only close the next day of the states in FILE")
    args = parser.parse_args(argv)
    if args.close_only:
        with open(args.close_only, "rb") as f:
            closes, seconds = time_day_closes([bytes.fromhex(h) for h in orjson.loads(f.read())], args.repeat)
        print(orjson.dumps({"timed_day_closes": closes, "us_per_day_close": round(1e6 * seconds / closes, 3)}).decode())
        return
    fig = run_day_close(args.events, args.seed, args.repeat, samples_out=args.samples_out)
    print(f"day close ({fig['core_mode']} core, dense workload, {fig['accounts']:,} accounts, {fig['events']:,} "
          f"events): {fig['day_closes']:,} day closes in {fig['evaluations']:,} full evaluations "
          f"({fig['day_closes_per_evaluation_dense']} per evaluation); {fig['us_per_day_close']} µs per day close "
          f"({fig['timed_day_closes']:,} timed; a full evaluation {fig['us_per_evaluation_dense']} µs), "
          f"{fig['day_close_us_per_event_dense']} µs per event")
    if args.json:
        print(orjson.dumps(fig).decode())


if __name__ == "__main__":
    main()
