"""`history_bytes_per_account`: the Redis memory of an account's full score history, measured, within target."""

from __future__ import annotations

import pytest

from healthmon.bench.history import HISTORY_TARGET_BYTES, history_bytes_per_account
from healthmon.bench.report import check_targets
from healthmon.config import Settings

pytestmark = pytest.mark.integration


def test_a_full_history_takes_at_most_a_kilobyte_of_redis_memory(redis_url: str) -> None:
    figures = history_bytes_per_account(Settings(redis={"url": redis_url}), accounts=4, seed=3)
    assert figures["history_days"] == 180 and figures["history_accounts"] == 4
    # MEMORY USAGE counts Redis's own overhead on top of the encoded bytes
    assert figures["history_encoded_bytes_per_account"] < figures["history_bytes_per_account"]
    assert 540 < figures["history_bytes_per_account"] <= HISTORY_TARGET_BYTES
    assert check_targets(figures)["history_bytes_per_account<=1024"] is True
