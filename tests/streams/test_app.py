"""The Faust app built from the settings object."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from healthmon.config import Settings
from healthmon.ingest.deadletter import MAX_RAW_BYTES_LIMIT, max_record_bytes
from healthmon.pipeline import max_output_bytes
from streams.app import create_app


def test_the_producer_takes_the_largest_dead_letter_and_a_repartitioned_batch():
    with pytest.raises(ValidationError):
        Settings(ingest={"deadletter_max_raw_bytes": MAX_RAW_BYTES_LIMIT + 1})
    largest = Settings(ingest={"deadletter_max_raw_bytes": MAX_RAW_BYTES_LIMIT, "max_message_bytes": 3_000_000})
    assert max_output_bytes(largest.ingest) >= max(max_record_bytes(MAX_RAW_BYTES_LIMIT), 6_000_000)
    assert max_record_bytes(MAX_RAW_BYTES_LIMIT) < 1_000_000  # fits a broker left at Kafka's default limit
    default = Settings()
    assert max_output_bytes(default.ingest) >= 2 * default.ingest.max_message_bytes
    app = create_app(default, "kafka://127.0.0.1:9")
    assert app.conf.producer_max_request_size == max_output_bytes(default.ingest)


def test_standby_replicas_reach_faust_and_stay_in_range(monkeypatch):
    assert create_app(Settings(), "kafka://127.0.0.1:9").conf.table_standby_replicas == 0
    monkeypatch.setenv("HEALTHMON_STANDBY_REPLICAS", "1")
    assert create_app(Settings(), "kafka://127.0.0.1:9").conf.table_standby_replicas == 1
    monkeypatch.setenv("HEALTHMON_STANDBY_REPLICAS", "-1")
    with pytest.raises(ValidationError, match="standby_replicas"):
        Settings()
