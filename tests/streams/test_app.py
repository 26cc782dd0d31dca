"""The Faust app built from the settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from healthmon.ingest.deadletter import MAX_RAW_BYTES_LIMIT, max_record_bytes
from streams.app import create_app, producer_max_request_bytes
from streams.settings import Settings


def test_the_producer_takes_the_largest_dead_letter_and_a_repartitioned_batch():
    with pytest.raises(ValidationError):
        Settings(deadletter_max_raw_bytes=MAX_RAW_BYTES_LIMIT + 1)
    largest = Settings(deadletter_max_raw_bytes=MAX_RAW_BYTES_LIMIT, max_message_bytes=3_000_000)
    assert producer_max_request_bytes(largest) >= max(max_record_bytes(MAX_RAW_BYTES_LIMIT), 6_000_000)
    assert max_record_bytes(MAX_RAW_BYTES_LIMIT) < 1_000_000  # fits a broker left at Kafka's default limit
    default = Settings()
    assert producer_max_request_bytes(default) >= 2 * default.max_message_bytes
    app = create_app(default, "kafka://127.0.0.1:9")
    assert app.conf.producer_max_request_size == producer_max_request_bytes(default)
