"""The core's public interface (its purity is an import-linter contract: `core-pure` in pyproject.toml)."""

from __future__ import annotations

import healthmon.core as core


def test_public_api() -> None:
    assert set(core.__all__) >= {"Engine", "EngineConfig", "load_policy", "PolicyError", "PipelineClock",
                                 "state_from_bytes", "state_to_bytes", "check_policy_file", "parse_policy"}
    for name in core.__all__:
        assert getattr(core, name) is not None
