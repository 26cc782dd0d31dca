"""Fixtures of the backtest tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.backtest.tiny import write_tiny


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the directory of the tiny hand-checked history (`tests.backtest.tiny`)."""
    return write_tiny(tmp_path_factory.mktemp("tiny"))
