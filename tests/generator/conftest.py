from __future__ import annotations

from functools import cache

import pytest

from healthmon.generator import Record, Traffic, generate

# Sizes stay small: every scenario test reads the same cached traffic.
ACCOUNTS = 16
SEED = 11


@cache
def _traffic(scenario: str, accounts: int, seed: int) -> tuple[Traffic, tuple[Record, ...]]:
    traffic = generate(accounts, scenario=scenario, seed=seed)
    return traffic, tuple(traffic.records())


@pytest.fixture
def traffic_factory():
    """Return (traffic, records) for a scenario, generated once per session."""

    def make(scenario: str = "mixed", accounts: int = ACCOUNTS, seed: int = SEED) -> tuple[Traffic, list[Record]]:
        traffic, records = _traffic(scenario, accounts, seed)
        return traffic, list(records)

    return make


@pytest.fixture
def mixed(traffic_factory):
    return traffic_factory("mixed")
