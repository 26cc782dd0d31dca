"""Deterministic synthetic traffic: accounts, product usage, tickets and NPS, with scenarios.

Pure: no Kafka, Faust or Redis. The same arguments always give the same records.
"""

from .records import Record, to_batches
from .scenarios import scenario_names
from .traffic import DEFAULT_START_MS, Traffic, generate
from .workload import standard_workload

__all__ = [
    "DEFAULT_START_MS",
    "Record",
    "Traffic",
    "generate",
    "scenario_names",
    "standard_workload",
    "to_batches",
]
