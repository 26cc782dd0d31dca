"""`healthmon tail` and `generate` against a broker that is not there: a clear error, a bounded wait, a prompt stop."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from healthmon.kafka.broker import EmbeddedBroker, free_port
from healthmon.kafka.connect import bootstrap_of

pytestmark = pytest.mark.integration

WAIT_S = 2  # HEALTHMON_CLIENT_WAIT_SECONDS for these tests
COMMANDS = {"tail": ["tail"], "generate": ["generate", "--accounts", "5", "--rate", "300"]}


def _env(broker_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEALTHMON_")}
    return {**env, "KAFKA_BROKER_URL": broker_url, "HEALTHMON_CLIENT_WAIT_SECONDS": str(WAIT_S),
            "HEALTHMON_TOPIC_PREFIX": _prefix()}


def _spawn(command: str, broker_url: str, stdout: Any = subprocess.PIPE) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "healthmon", *COMMANDS[command]], env=_env(broker_url),
                            stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE, text=True)


def _prefix() -> str:
    return f"guard{os.getpid()}-"


def _wait_for(condition: Callable[[], bool], timeout_s: float, what: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert proc.poll() is None, f"the client exited while waiting for {what}"
        assert time.monotonic() < deadline, f"{what}: not within {timeout_s} s"
        time.sleep(0.1)


async def _usage_messages(broker_url: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_of(broker_url), request_timeout_ms=5000)
    await consumer.start()
    try:
        partitions = await consumer._client.fetch_all_metadata()
        topic = f"{_prefix()}product-usage"
        tps = [TopicPartition(topic, p) for p in (partitions.partitions_for_topic(topic) or ())]
        return sum((await consumer.end_offsets(tps)).values()) if tps else 0
    finally:
        await consumer.stop()


def _sending(broker_url: str) -> Callable[[], bool]:
    """Return a check that `generate` has put events on the broker."""
    return lambda: asyncio.run(_usage_messages(broker_url)) > 0


def _reading(broker_url: str, printed: Path) -> Callable[[], bool]:
    """Return a check that `tail` reads: an alert sent now gets printed (tail starts at the latest offset)."""

    async def send() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap_of(broker_url), enable_idempotence=False)
        await producer.start()
        try:
            alert = {"kind": "health_changed", "status": "firing", "summary": "probe", "severity": "info"}
            await producer.send_and_wait(f"{_prefix()}health-alerts", orjson.dumps(alert), key=b"probe")
        finally:
            await producer.stop()

    def check() -> bool:
        asyncio.run(send())
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            if "probe" in printed.read_text():
                return True
            time.sleep(0.05)
        return False

    return check


def _paused(broker: EmbeddedBroker) -> Callable[[], bool]:
    """Return a check that the broker process is stopped (SIGSTOP taken: state T in /proc)."""
    assert broker.proc is not None
    stat = f"/proc/{broker.proc.pid}/stat"
    return lambda: open(stat).read().rsplit(")", 1)[1].split()[0] == "T"


def _finish(proc: subprocess.Popen, timeout_s: float) -> tuple[int, str, float]:
    started = time.monotonic()
    try:
        _, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"still running after {timeout_s} s:\n{err[-3000:]}") from None
    return proc.returncode, err, time.monotonic() - started


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_broker_that_never_answers_is_a_clear_error(command: str) -> None:
    url = f"kafka://127.0.0.1:{free_port()}"
    code, err, _ = _finish(_spawn(command, url), 30)
    assert code == 1, err
    assert f"Error: cannot reach Kafka at KAFKA_BROKER_URL={url}" in err
    assert f"did not answer within {WAIT_S} s" in err
    assert "Traceback" not in err


def test_generate_gives_up_on_a_broker_that_died_and_says_what_was_sent(private_broker: EmbeddedBroker) -> None:
    proc = _spawn("generate", private_broker.url)
    _wait_for(_sending(private_broker.url), 60, "generate sending events", proc)
    assert private_broker.proc is not None
    private_broker.proc.kill()
    code, err, took = _finish(proc, 40)
    assert code == 1, err
    lines = err.strip().splitlines()
    assert "healthmon generate: cannot reach Kafka" in err and f"waiting up to {WAIT_S} s" in err
    assert lines[-1].startswith(f"Error: gave up after waiting {WAIT_S} s for Kafka: cannot reach Kafka"), err
    assert "events were handed to the producer" in lines[-1]
    assert len(lines) < 10, err  # not aiokafka's 24 lines a second
    assert "Traceback" not in err


@pytest.mark.parametrize("command, sig", [("tail", signal.SIGTERM), ("generate", signal.SIGINT)])
def test_a_signal_stops_a_client_whose_broker_is_paused(private_broker: EmbeddedBroker, command: str,
                                                        sig: signal.Signals, tmp_path: Path) -> None:
    printed = tmp_path / "stdout"
    with printed.open("w") as stdout:
        proc = _spawn(command, private_broker.url, stdout=stdout)
    connected = _reading(private_broker.url, printed) if command == "tail" else _sending(private_broker.url)
    _wait_for(connected, 60, f"{command} connected", proc)
    assert private_broker.proc is not None
    private_broker.proc.send_signal(signal.SIGSTOP)
    try:
        _wait_for(_paused(private_broker), 10, "the broker paused", proc)
        proc.send_signal(sig)
        code, err, took = _finish(proc, 20)
    finally:
        private_broker.proc.send_signal(signal.SIGCONT)
    assert took < 10, err
    assert f"healthmon {command}: {sig.name} received; stopping" in err
    if command == "tail":
        assert code == 0, err  # a signal is how tail is meant to end
    else:
        assert code == 128 + sig, err
        assert f"healthmon generate: stopped by {sig.name} after " in err
