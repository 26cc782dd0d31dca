"""The sweep benchmark command runs and reports (its figures are for BENCHMARKS.md, not asserted)."""

from __future__ import annotations

from healthmon.bench.sweep import main


def test_sweep_bench_prints_the_single_backtest_the_sweep_and_the_ratio(capsys) -> None:
    main(["--events", "2000", "--accounts", "20", "--sweep", "warning_lines[0].below=0.2,0.25,0.3"])
    single, sweep, ratio = capsys.readouterr().out.strip().splitlines()
    assert single.startswith("single backtest: 2,020 lines")
    assert sweep.startswith("sweep: 3 variants in") and "on the frontier" in sweep
    assert ratio.startswith("ratio: ") and "target: at most 3x for 16 variants" in ratio
