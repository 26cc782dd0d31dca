"""`healthmon tail` and `generate` against a broker that is not there: a clear error, a bounded wait, a prompt stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from healthmon.kafka.broker import EmbeddedBroker, free_port

pytestmark = pytest.mark.integration

WAIT_S = 2  # HEALTHMON_CLIENT_WAIT_SECONDS for these tests
COMMANDS = {"tail": ["tail"], "generate": ["generate", "--accounts", "5", "--rate", "300"]}


def _env(broker_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEALTHMON_")}
    return {**env, "KAFKA_BROKER_URL": broker_url, "HEALTHMON_CLIENT_WAIT_SECONDS": str(WAIT_S),
            "HEALTHMON_TOPIC_PREFIX": f"guard{os.getpid()}-"}


def _spawn(command: str, broker_url: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "healthmon", *COMMANDS[command]], env=_env(broker_url),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


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
    time.sleep(3)  # sending
    assert private_broker.proc is not None and proc.poll() is None
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
                                                        sig: signal.Signals) -> None:
    proc = _spawn(command, private_broker.url)
    time.sleep(3)  # connected: tail polls, generate sends
    assert private_broker.proc is not None and proc.poll() is None
    private_broker.proc.send_signal(signal.SIGSTOP)
    time.sleep(1)
    proc.send_signal(sig)
    code, err, took = _finish(proc, 20)
    assert took < 10, err
    assert f"healthmon {command}: {sig.name} received; stopping" in err
    if command == "tail":
        assert code == 0, err  # a signal is how tail is meant to end
    else:
        assert code == 128 + sig, err
        assert f"healthmon generate: stopped by {sig.name} after " in err
