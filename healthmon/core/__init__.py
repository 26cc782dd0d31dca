"""The pure health engine: per-account state, scoring, alert lifecycle. No Faust, Kafka or Redis here."""

from healthmon.core.compiled import use_pure_source

use_pure_source()  # before any compiled module loads: HEALTHMON_PURE_CORE=1 runs the Python source

from healthmon.core.codec import StateFormatError, state_from_bytes, state_size_bytes, state_to_bytes  # noqa: E402
from healthmon.core.engine import ApplyResult, Engine, EngineConfig  # noqa: E402
from healthmon.core.pipeline import PipelineClock  # noqa: E402
from healthmon.core.policy import Policy, PolicyError, check_policy_file, load_policy, parse_policy  # noqa: E402
from healthmon.core.state import AccountState  # noqa: E402
from healthmon.core.vocabulary import DUPLICATE, OK, TOO_LATE  # noqa: E402

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
