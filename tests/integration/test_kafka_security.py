"""Kafka over TLS and SASL with real parts: Tansu behind a TLS proxy, and Tansu requiring SASL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from healthmon.config import Settings
from healthmon.kafka.broker import EmbeddedBroker, free_port
from healthmon.kafka.security import aiokafka_kwargs
from healthmon.tail import iter_alerts
from tests.conftest import settings_env
from tests.fixtures import WorkerProcess, isolated_settings, merge_sections
from tests.kafka_sasl import SaslProxy
from tests.tls import KEY_PASSWORD, Pki, TlsProxy, make_pki, server_context

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A CA, server and client certificates made for this module."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def tls_broker_url(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A dedicated Tansu reachable only through a mutual-TLS proxy: it advertises the proxy's port."""
    proxy_port = free_port()
    log = tmp_path_factory.mktemp("tls-broker") / "tansu.log"
    with EmbeddedBroker(os.environ.get("HEALTHMON_TANSU_BIN", ""), log_path=log,
                        advertised=f"127.0.0.1:{proxy_port}") as broker:
        proxy = TlsProxy(broker.port, server_context(pki, require_client_cert=True), port=proxy_port).start()
        try:
            yield f"kafka://127.0.0.1:{proxy_port}"
        finally:
            proxy.stop()


SASL_PASSWORD = "right-password-5678"


@pytest.fixture(scope="module")
def sasl_ssl_broker(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, SaslProxy]]:
    """A dedicated Tansu behind TLS plus SASL (PLAIN or SCRAM), advertising the proxy's port."""
    proxy_port = free_port()
    log = tmp_path_factory.mktemp("sasl-ssl-broker") / "tansu.log"
    with EmbeddedBroker(os.environ.get("HEALTHMON_TANSU_BIN", ""), log_path=log,
                        advertised=f"127.0.0.1:{proxy_port}") as broker:
        proxy = SaslProxy(broker.port, {"healthmon": SASL_PASSWORD},
                               server_context(pki, require_client_cert=False), port=proxy_port).start()
        try:
            yield f"kafka://127.0.0.1:{proxy_port}", proxy
        finally:
            proxy.stop()


def sasl_ssl_settings(url: str, pki: Pki, redis_url: str, data: Path, password_file: Path,
                      mechanism: str) -> Settings:
    """Return isolated settings for SASL_SSL with `mechanism`, the password read from `password_file`."""
    return isolated_settings(url, redis_url, data, prefix="sasl",
                             kafka={"security_protocol": "SASL_SSL", "sasl_mechanism": mechanism,
                                    "sasl_username": "healthmon", "sasl_password_file": password_file,
                                    "ssl_cafile": pki.ca},
                             worker={"commit_interval_seconds": 1.0})


# Confluent Cloud style (PLAIN with an API key) and Aiven/Redpanda/MSK style (SCRAM).
@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-512"])
def test_worker_consumes_and_alerts_over_sasl_ssl(sasl_ssl_broker: tuple[str, SaslProxy], pki: Pki,
                                                  redis_url: str, tmp_path: Path, mechanism: str,
                                                  worker_factory: Callable[..., WorkerProcess]) -> None:
    url, proxy = sasl_ssl_broker
    password_file = tmp_path / "kafka-password"
    password_file.write_text(SASL_PASSWORD + "\n")
    settings = sasl_ssl_settings(url, pki, redis_url, tmp_path / "data", password_file, mechanism)
    logins = len(proxy.logins)
    worker = worker_factory(settings=settings)
    worker.wait_ready(120)
    sent = run_cli(["generate", "--accounts", "5", "--rate", "0", "--seed", "6", "--batch-size", "20"], settings)
    assert sent.returncode == 0 and sent.stdout.startswith("sent "), sent.stderr
    alerts = asyncio.run(_read_alerts(url, settings, want=1, timeout_s=150))
    assert alerts, worker.log_tail()
    # Every connection logged in first: the worker's Faust clients, the admin, generate and the reader.
    assert len(proxy.logins) - logins >= 4 and set(proxy.logins[logins:]) == {f"healthmon/{mechanism}"}
    assert SASL_PASSWORD not in worker.log_path.read_text()


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256"])
def test_wrong_sasl_password_stops_the_worker(sasl_ssl_broker: tuple[str, SaslProxy], pki: Pki, redis_url: str,
                                              tmp_path: Path, mechanism: str) -> None:
    url, proxy = sasl_ssl_broker
    password_file = tmp_path / "kafka-password"
    password_file.write_text("wrong-password-0000")
    refused = proxy.refusals
    done = run_cli(["worker"], sasl_ssl_settings(url, pki, redis_url, tmp_path / "data", password_file, mechanism))
    assert done.returncode == 1, done.stderr
    refusal = (f"refused SASL {mechanism} authentication as 'healthmon' ([Error 58] SaslAuthenticationFailed: "
               "Authentication failed: invalid credentials for user healthmon): check KAFKA_SASL_USERNAME and "
               "KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE)")
    assert refusal in done.stderr, done.stderr
    assert "did not answer" not in done.stderr and "wrong-password-0000" not in done.stderr
    assert proxy.refusals == refused + 1  # refused once and explained, not retried


@pytest.fixture(scope="module")
def sasl_broker_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A dedicated Tansu started with `--authentication` (SCRAM required on every connection)."""
    log = tmp_path_factory.mktemp("sasl-broker") / "tansu.log"
    with EmbeddedBroker(os.environ.get("HEALTHMON_TANSU_BIN", ""), log_path=log,
                        extra_args=("--authentication",)) as broker:
        yield broker.url


def tls_settings(url: str, pki: Pki, redis_url: str, data: Path, **sections: dict[str, Any]) -> Settings:
    """Return isolated settings that reach `url` with mutual TLS (encrypted client key)."""
    values = merge_sections({"kafka": {"security_protocol": "SSL", "ssl_cafile": pki.ca,
                                       "ssl_certfile": pki.client_cert, "ssl_keyfile": pki.client_key_encrypted,
                                       "ssl_key_password": KEY_PASSWORD},
                             "worker": {"commit_interval_seconds": 1.0}}, sections)
    return isolated_settings(url, redis_url, data, prefix="tls", **values)


def run_cli(args: list[str], settings: Settings, timeout_s: float = 90.0) -> subprocess.CompletedProcess:
    """Run `healthmon ARGS` with `settings` in its environment."""
    return subprocess.run([sys.executable, "-m", "healthmon", *args], env=settings_env(settings), cwd=REPO,
                          capture_output=True, text=True, timeout=timeout_s)


async def _read_alerts(url: str, settings: Settings, want: int, timeout_s: float) -> list[dict[str, Any]]:
    stop = asyncio.Event()
    alerts: list[dict[str, Any]] = []

    async def collect() -> None:
        async for alert in iter_alerts(url, settings.topics.alerts_name, from_beginning=True, stop=stop,
                                       security=aiokafka_kwargs(settings.kafka)):
            alerts.append(alert)
            if len(alerts) >= want:
                stop.set()

    task = asyncio.create_task(collect())
    try:
        await asyncio.wait_for(asyncio.shield(task), timeout_s)
    except TimeoutError:
        stop.set()
        await task
    return alerts


def test_worker_consumes_and_alerts_over_mutual_tls(tls_broker_url: str, pki: Pki, redis_url: str, tmp_path: Path,
                                                    worker_factory: Callable[..., WorkerProcess]) -> None:
    settings = tls_settings(tls_broker_url, pki, redis_url, tmp_path / "data")
    worker = worker_factory(settings=settings)
    worker.wait_ready(120)
    # `generate`'s producer, the worker's Faust clients and `tail`'s consumer all go through the TLS proxy:
    # the broker advertises only the proxy's port.
    sent = run_cli(["generate", "--accounts", "5", "--rate", "0", "--seed", "5", "--batch-size", "20"], settings)
    assert sent.returncode == 0 and sent.stdout.startswith("sent "), sent.stderr
    alerts = asyncio.run(_read_alerts(tls_broker_url, settings, want=1, timeout_s=150))
    assert alerts, worker.log_tail()
    assert {"alert_id", "account_id", "kind", "status"} <= set(alerts[0])
    tailed = orjson.loads(_tail_once(settings))  # the CLI: its first alert, of any partition
    assert tailed["alert_id"] and tailed["kind"] and tailed["account_id"]
    # A restart recovers the table from its changelog, through the end-offset check's own consumer.
    worker.stop()
    worker.start()
    worker.wait_ready(120)


def _tail_once(settings: Settings, timeout_s: float = 60.0) -> str:
    """Run `healthmon tail --from-beginning --json` until it prints its first alert; return that line."""
    proc = subprocess.Popen([sys.executable, "-m", "healthmon", "tail", "--from-beginning", "--json"],
                            env=settings_env(settings), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    timer = threading.Timer(timeout_s, proc.kill)
    timer.start()
    try:
        assert proc.stdout is not None
        return proc.stdout.readline()
    finally:
        timer.cancel()
        proc.kill()
        proc.communicate(timeout=10)


def test_wrong_ca_stops_the_worker_with_a_clear_message(tls_broker_url: str, pki: Pki, redis_url: str,
                                                        tmp_path: Path) -> None:
    settings = tls_settings(tls_broker_url, pki, redis_url, tmp_path / "data", kafka={"ssl_cafile": pki.other_ca})
    done = run_cli(["worker"], settings)  # a hang would hit run_cli's timeout
    assert done.returncode == 1, done.stderr
    assert "refused by TLS: its certificate is not trusted" in done.stderr, done.stderr
    assert f"check KAFKA_SSL_CAFILE={pki.other_ca}" in done.stderr, done.stderr
    assert "did not answer" not in done.stderr  # refused at the first attempt, not retried until the deadline


def test_missing_client_certificate_is_refused_not_hung(tls_broker_url: str, pki: Pki, redis_url: str,
                                                        tmp_path: Path) -> None:
    settings = tls_settings(tls_broker_url, pki, redis_url, tmp_path / "data",
                            kafka={"ssl_certfile": None, "ssl_keyfile": None, "ssl_key_password": "",
                                   "client_wait_seconds": 5.0})  # a close that says nothing is retried until then
    done = run_cli(["tail"], settings)
    assert done.returncode == 1, done.stderr
    assert "KAFKA_SSL_CERTFILE" in done.stderr, done.stderr


def test_plaintext_client_cannot_use_the_tls_listener(tls_broker_url: str, pki: Pki, redis_url: str,
                                                      tmp_path: Path) -> None:
    settings = isolated_settings(tls_broker_url, redis_url, tmp_path / "data",  # PLAINTEXT
                                 kafka={"client_wait_seconds": 5.0})
    done = run_cli(["tail"], settings, timeout_s=60)
    assert done.returncode == 1, done.stderr
    assert "cannot reach Kafka" in done.stderr, done.stderr


@pytest.mark.parametrize("mechanism, expected", [
    ("SCRAM-SHA-512", "refused SASL SCRAM-SHA-512 authentication as 'healthmon' ("),
    ("SCRAM-SHA-256", "refused SASL SCRAM-SHA-256 authentication as 'healthmon' ("),
    # Tansu with --authentication does not take PLAIN: it answers the handshake with an error, or closes
    # the connection, or both (which the client sees first varies). Either is a refusal of PLAIN.
    ("PLAIN", "refused SASL PLAIN at the handshake ("),
])
def test_rejected_sasl_credentials_stop_the_worker(sasl_broker_url: str, redis_url: str, tmp_path: Path,
                                                   mechanism: str, expected: str) -> None:
    password = "not-the-password-1234"
    settings = isolated_settings(sasl_broker_url, redis_url, tmp_path / "data",
                                 kafka={"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": mechanism,
                                        "sasl_username": "healthmon", "sasl_password": password})
    done = run_cli(["worker"], settings)
    assert done.returncode == 1, done.stderr
    assert f"Kafka at 127.0.0.1:{sasl_broker_url.rpartition(':')[2]} {expected}" in done.stderr, done.stderr
    settings_named = ("check KAFKA_SASL_MECHANISM" if mechanism == "PLAIN" else
                      "check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD")
    assert settings_named in done.stderr, done.stderr
    assert "did not answer" not in done.stderr  # a refusal, reported at once, never as silence
    assert password not in done.stderr + done.stdout
