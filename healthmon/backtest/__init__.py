"""Backtest: replay a history through the worker's own processor under a policy, and measure its alerts."""

from healthmon.backtest.run import BASELINE_DAYS, BacktestOptions, backtest, run_backtest

__all__ = ["BASELINE_DAYS", "BacktestOptions", "backtest", "run_backtest"]
