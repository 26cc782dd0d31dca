"""Deterministic synthetic traffic: accounts, product usage, tickets and NPS, with scenarios.

Pure: no Kafka, Faust or Redis, no global random state, no wall clock. The same arguments always
give the same records, in occurred_at order, account profiles first.

- `generate(accounts, scenario, seed, start_ms, days)`: scenario traffic for the demo, the CLI and
  end-to-end tests. The change starts at `Traffic.change_day_ms` (day `days - 14`); `Traffic.plan`
  says which account does what.
- `standard_workload(events, ...)`: the benchmark's workload, exactly `events` events after one
  profile per account, generated lazily one day at a time.
- `to_batches(records, size)`: group records into batch envelopes of one kind and one account.
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
