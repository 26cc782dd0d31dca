"""Fault drills: identical input run cleanly and under a fault (rebalance, broker pause, outage, SIGKILLs, poison).

`make drills` runs them all (`python -m healthmon.drills`); small versions run in `make test`.
"""

from healthmon.drills.compare import AlertDiff, Outcome, diff_alerts, diff_health
from healthmon.drills.scenarios import DRILLS, DrillConfig, Drills

__all__ = ["AlertDiff", "DRILLS", "DrillConfig", "Drills", "Outcome", "diff_alerts", "diff_health"]
