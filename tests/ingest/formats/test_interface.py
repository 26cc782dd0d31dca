"""The mapping layer's public interface (its purity is an import-linter contract: `ingest-pure` in pyproject.toml)."""

from __future__ import annotations

import healthmon.ingest.formats as formats
import healthmon.ingest.inputs as inputs


def test_public_api() -> None:
    for module in (formats, inputs):
        assert module.__all__
        for name in module.__all__:
            assert getattr(module, name) is not None
