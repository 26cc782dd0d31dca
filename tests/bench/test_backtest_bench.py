"""The backtest benchmark command runs and reports (its figures are for BENCHMARKS.md, not asserted)."""

from __future__ import annotations

from healthmon.bench.backtest import main


def test_backtest_bench_prints_its_line_and_the_in_process_line(capsys) -> None:
    main(["--events", "3000", "--accounts", "40", "--run-lines", "500"])
    backtest, inprocess = capsys.readouterr().out.strip().splitlines()
    assert backtest.startswith("backtest: 3,040 lines") and "alerts" in backtest
    assert inprocess.startswith("in-process, single-event messages: 3,040 events")
    # The same events give the same alerts both ways.
    assert backtest.split("; ")[1].split()[0] == inprocess.split("; ")[1].split()[0]
