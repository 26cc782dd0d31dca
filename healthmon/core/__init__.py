"""The pure health engine: per-account state, scoring, alert lifecycle. No Faust, Kafka or Redis here."""

from healthmon.core.compiled import use_pure_source

use_pure_source()  # before any compiled module loads: HEALTHMON_PURE_CORE=1 runs the Python source

from healthmon.core.codec import StateFormatError, state_from_bytes, state_size_bytes, state_to_bytes
from healthmon.core.engine import DUPLICATE, OK, TOO_LATE, ApplyResult, Engine, EngineConfig
from healthmon.core.pipeline import PipelineClock
from healthmon.core.policy import Policy, PolicyError, check_policy_file, load_policy, parse_policy
from healthmon.core.state import AccountState

__all__ = [
    "DUPLICATE",
    "OK",
    "TOO_LATE",
    "AccountState",
    "ApplyResult",
    "Engine",
    "EngineConfig",
    "PipelineClock",
    "Policy",
    "PolicyError",
    "StateFormatError",
    "check_policy_file",
    "load_policy",
    "parse_policy",
    "state_from_bytes",
    "state_size_bytes",
    "state_to_bytes",
]
