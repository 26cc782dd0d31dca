"""The embedded broker: starts on a free port, answers Kafka, and leaves nothing behind."""

from __future__ import annotations

import os
import stat

import pytest

from healthmon.kafka.broker import BrokerError, EmbeddedBroker, free_port, resolve_tansu_binary, wait_for_kafka


def test_embedded_broker_answers_and_stops():
    with EmbeddedBroker() as broker:
        pid = broker.proc.pid
        wait_for_kafka(broker.host, broker.port, 5)
        assert broker.url == f"kafka://127.0.0.1:{broker.port}"
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_override_must_be_executable(tmp_path):
    fake = tmp_path / "tansu"
    fake.write_text("not a binary")
    with pytest.raises(BrokerError, match="not an executable file"):
        resolve_tansu_binary(str(fake))


def test_broker_that_exits_at_once_is_reported(tmp_path):
    fake = tmp_path / "tansu"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    with pytest.raises(BrokerError, match="exited with code 3"):
        EmbeddedBroker(str(fake)).start(timeout_s=5)


def test_unreachable_kafka_is_a_clear_error():
    with pytest.raises(BrokerError, match="did not answer"):
        wait_for_kafka("127.0.0.1", free_port(), 0.5)
