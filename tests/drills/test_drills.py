"""Small fault drills on real parts: a fault may delay alerts, never change, add or drop one."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from healthmon.drills import DRILLS, DrillConfig, Drills
from healthmon.drills.harness import Broker

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Small: the full sizes run in `make drills`. The SIGTERM rebalance and the restarts are covered there and
# by tests/integration (crash recovery, broker outage).
CONFIG = DrillConfig(accounts=12, days=42, seed=7, pause_seconds=6.0)


@pytest.fixture(scope="module")
def drills(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Drills]:
    """A private broker (pausing it must not disturb other tests) and the clean reference run."""
    workdir: Path = tmp_path_factory.mktemp("drills")
    with Broker(workdir) as broker:
        drills = Drills(CONFIG, broker, redis_url, workdir)
        clean = asyncio.run(drills.clean())
        assert clean.alerts, "the traffic must raise alerts for the comparison to mean anything"
        # What users read of the clean run is what it saved, for every account, `as_of` included.
        assert clean.view is not None and len(clean.view.views) == CONFIG.accounts
        assert clean.view.unlike_saved == [], [clean.view.describe(a) for a in clean.view.unlike_saved[:3]]
        yield drills


@pytest.mark.parametrize("name", ["broker-pause", "rebalance-sigkill", "poison", "tight-buffer"])
def test_fault_changes_no_alert_no_dead_letter_no_state_and_no_view(drills: Drills, name: str) -> None:
    outcome = asyncio.run(DRILLS[name](drills))
    assert outcome.alerts.identical, outcome.alerts
    assert outcome.dead_letters == outcome.clean_dead_letters
    assert outcome.accounts_differing == []
    assert outcome.problems == []
    # every account's view over HTTP: as the clean run's, and as this run saved it
    assert outcome.views_unlike_clean == [], outcome.notes
    assert outcome.views_unlike_saved == [], outcome.notes
