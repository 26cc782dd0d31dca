"""Kafka, Redis and API secrets in the settings: bad combinations, secrecy, and what the clients receive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError
from pydantic import ValidationError

from healthmon.cli.base import settings_from_env
from healthmon.config import Settings
from healthmon.kafka.security import _explain, aiokafka_kwargs
from healthmon.serving.redis_clients import redis_kwargs
from streams.app import create_app, faust_credentials
from tests.tls import KEY_PASSWORD, Pki, make_pki

SECRET = "s3cret-Value-never-shown"
BROKER = "kafka://broker.example.com:9093"
NOT_PEM = str(Path(__file__))  # readable, and no certificate


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def settings(**fields: Any) -> Settings:
    """Return Settings from `<section>_<field>=value` pairs (`kafka_security_protocol="SSL"`), the broker set."""
    sections: dict[str, dict[str, Any]] = {"kafka": {"broker_url": BROKER}}
    for name, value in fields.items():
        section, _, field = ("http", "", name) if name.startswith("api_token") else name.partition("_")
        sections.setdefault(section, {})[field] = value
    return Settings(**sections)


def problems_of(**values: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        settings(**values)
    return str(caught.value)


SASL = dict(kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="SCRAM-SHA-512")


@pytest.mark.parametrize("values, expected", [
    (dict(kafka_broker_url="", kafka_security_protocol="SSL"),
     "KAFKA_SECURITY_PROTOCOL=SSL needs KAFKA_BROKER_URL"),
    (dict(**SASL, kafka_sasl_password=SECRET),
     "KAFKA_SASL_USERNAME: required with KAFKA_SECURITY_PROTOCOL=SASL_SSL"),
    (dict(**SASL, kafka_sasl_username="u"),
     "KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE: required"),
    (dict(kafka_sasl_username="u", kafka_sasl_password=SECRET),
     "KAFKA_SECURITY_PROTOCOL=PLAINTEXT sends no credentials"),
    (dict(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_username="u", kafka_sasl_password=SECRET,
          kafka_ssl_cafile=NOT_PEM), "KAFKA_SSL_CAFILE: set, but KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT"),
    (dict(kafka_security_protocol="SSL", kafka_ssl_cafile="/nonexistent/ca.pem"),
     "KAFKA_SSL_CAFILE: cannot read /nonexistent/ca.pem (No such file or directory)"),
    (dict(kafka_security_protocol="SSL", kafka_ssl_cafile=NOT_PEM),
     f"KAFKA_SSL_CAFILE: {NOT_PEM} holds no usable PEM certificate"),
    (dict(kafka_security_protocol="SSL", kafka_ssl_keyfile=NOT_PEM),
     "KAFKA_SSL_KEYFILE: set without KAFKA_SSL_CERTFILE"),
    (dict(kafka_security_protocol="SSL", kafka_ssl_key_password=SECRET),
     "KAFKA_SSL_KEY_PASSWORD: set without KAFKA_SSL_KEYFILE"),
    (dict(**SASL, kafka_sasl_username="u", kafka_sasl_password=SECRET, kafka_sasl_password_file=NOT_PEM),
     "KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE: set one of them, not both"),
    (dict(**SASL, kafka_sasl_username="u", kafka_sasl_password_file="/nonexistent/pw"),
     "KAFKA_SASL_PASSWORD_FILE: cannot read /nonexistent/pw"),
    (dict(redis_url="redis://127.0.0.1:6379/0", redis_ssl_ca_file=NOT_PEM),
     "REDIS_SSL_CA_FILE: set, but REDIS_URL uses redis:// (TLS needs rediss://)"),
    (dict(redis_url="rediss://u:pw@127.0.0.1:6380/0", redis_password=SECRET),
     "REDIS_PASSWORD: set, and REDIS_URL holds a password too"),
    (dict(redis_url="rediss://u@127.0.0.1:6380/0", redis_username="v"),
     "REDIS_USERNAME: set, and REDIS_URL names a user too"),
    (dict(redis_url="rediss://127.0.0.1:6380/0", redis_ssl_ca_file="/nonexistent/ca.pem"),
     "REDIS_SSL_CA_FILE: cannot read /nonexistent/ca.pem"),
    (dict(redis_url="", redis_password=SECRET),
     "REDIS_USERNAME/REDIS_PASSWORD/REDIS_SSL_CA_FILE: set, but REDIS_URL is empty"),
    (dict(api_token=SECRET, api_token_file=NOT_PEM),
     "HEALTHMON_API_TOKEN and HEALTHMON_API_TOKEN_FILE: set one of them, not both"),
])
def test_bad_combinations_name_the_variable_and_the_reason(values: dict[str, Any], expected: str) -> None:
    message = problems_of(**values)
    assert expected in message
    assert SECRET not in message


def test_client_certificate_problems_are_caught_at_start(pki: Pki) -> None:
    base = dict(kafka_security_protocol="SSL", kafka_ssl_cafile=pki.ca, kafka_ssl_certfile=pki.client_cert)
    assert "holds no private key: set KAFKA_SSL_KEYFILE" in problems_of(**base)
    assert "do not match" in problems_of(**base, kafka_ssl_keyfile=pki.server_key)
    wrong = problems_of(**base, kafka_ssl_keyfile=pki.client_key_encrypted, kafka_ssl_key_password=SECRET)
    assert "KAFKA_SSL_KEY_PASSWORD is missing or wrong" in wrong and SECRET not in wrong
    # No password for an encrypted key: refused at once (OpenSSL would otherwise prompt on the terminal).
    assert "KAFKA_SSL_KEY_PASSWORD is missing" in problems_of(**base, kafka_ssl_keyfile=pki.client_key_encrypted)
    settings(**base, kafka_ssl_keyfile=pki.client_key_encrypted, kafka_ssl_key_password=KEY_PASSWORD)


def test_empty_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "token"
    empty.write_text("\n")
    assert f"HEALTHMON_API_TOKEN_FILE: {empty} is empty" in problems_of(api_token_file=empty)


def test_the_cli_reports_every_problem_and_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BROKER_URL", BROKER)
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", SECRET)
    monkeypatch.setenv("KAFKA_SSL_CERTFILE", "/nonexistent/client.pem")
    with pytest.raises(click.ClickException) as caught:
        settings_from_env()
    message = caught.value.message
    assert "KAFKA_SASL_USERNAME: required" in message
    assert "KAFKA_SSL_CERTFILE: cannot read /nonexistent/client.pem" in message
    assert SECRET not in message


def test_oauthbearer_is_refused_with_the_allowed_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "OAUTHBEARER")
    with pytest.raises(click.ClickException) as caught:
        settings_from_env()
    assert "KAFKA_SASL_MECHANISM" in caught.value.message and "SCRAM-SHA-512" in caught.value.message


def test_empty_path_variables_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("KAFKA_SSL_CAFILE", "KAFKA_SASL_PASSWORD_FILE", "REDIS_SSL_CA_FILE", "HEALTHMON_API_TOKEN_FILE"):
        monkeypatch.setenv(var, "")
    loaded = Settings()
    assert loaded.kafka.ssl_cafile is None and loaded.http.api_token_file is None


def test_secrets_stay_out_of_reprs(tmp_path: Path) -> None:
    loaded = settings(**SASL, kafka_sasl_username="svc", kafka_sasl_password=SECRET, redis_password=SECRET,
                      api_token=SECRET)
    assert SECRET not in repr(loaded) and SECRET not in str(loaded)
    assert SECRET not in repr(faust_credentials(loaded.kafka))
    assert loaded.kafka.secret("sasl_password") == SECRET


def test_password_file_is_read_and_stripped(tmp_path: Path) -> None:
    path = tmp_path / "pw"
    path.write_text(SECRET + "\n")
    loaded = settings(**SASL, kafka_sasl_username="svc", kafka_sasl_password_file=path)
    assert aiokafka_kwargs(loaded.kafka)["sasl_plain_password"] == SECRET


@pytest.mark.parametrize("protocol, tls, sasl", [
    ("PLAINTEXT", False, False), ("SSL", True, False), ("SASL_PLAINTEXT", False, True), ("SASL_SSL", True, True),
])
async def test_every_client_kind_gets_the_security_settings(pki: Pki, protocol: str, tls: bool, sasl: bool) -> None:
    values: dict[str, Any] = dict(kafka_security_protocol=protocol)
    if tls:
        values.update(kafka_ssl_cafile=pki.ca, kafka_ssl_check_hostname=False)
    if sasl:
        values.update(kafka_sasl_mechanism="SCRAM-SHA-256", kafka_sasl_username="svc", kafka_sasl_password=SECRET)
    loaded = settings(**values)
    kwargs = aiokafka_kwargs(loaded.kafka)
    app = create_app(loaded, BROKER)
    faust_producer = app.producer._new_producer()
    faust_consumer = app.consumer._thread._create_worker_consumer(app.transport)
    clients = [AIOKafkaProducer(bootstrap_servers="x:1", **kwargs).client,
               AIOKafkaConsumer(bootstrap_servers="x:1", **kwargs)._client,
               AIOKafkaAdminClient(bootstrap_servers="x:1", **kwargs)._client,
               faust_producer.client, faust_consumer._client]
    for client in clients:
        assert client._security_protocol == protocol
        assert (client._ssl_context is not None) is tls
        if tls:
            assert client._ssl_context.check_hostname is False
        if sasl:
            assert (client._sasl_mechanism, client._sasl_plain_username, client._sasl_plain_password) == \
                ("SCRAM-SHA-256", "svc", SECRET)
        else:
            assert client._sasl_plain_username is None


def test_redis_kwargs_carry_the_ca_and_credentials(pki: Pki, tmp_path: Path) -> None:
    path = tmp_path / "redis-pw"
    path.write_text(SECRET)
    loaded = settings(redis_url="rediss://127.0.0.1:6380/0", redis_ssl_ca_file=pki.ca, redis_username="healthmon",
                      redis_password_file=path)
    assert redis_kwargs(loaded.redis) == {"ssl_ca_certs": str(pki.ca), "username": "healthmon", "password": SECRET}
    assert redis_kwargs(settings().redis) == {}


@pytest.mark.parametrize("step, exc, refused", [
    # before the broker judged anything: not up yet, or a dropped connection: tried again
    ("connecting", ConnectionRefusedError(111, "Connection refused"), None),
    ("first request", TimeoutError(), None),
    # the broker answered, then failed the handshake or the credentials, whatever the client raised
    ("SASL handshake", KafkaConnectionError("Connection at b:9096 closed"),
     "refused SASL SCRAM-SHA-512 at the handshake (the broker closed the connection): check KAFKA_SASL_MECHANISM"),
    ("credentials", TimeoutError(), "refused SASL SCRAM-SHA-512 authentication as 'svc' (no answer): check "
                                    "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"),
    ("credentials", KafkaConnectionError("Connection at b:9096 closed"),
     "refused SASL SCRAM-SHA-512 authentication as 'svc' (the broker closed the connection)"),
    ("credentials", KeyError("v"), "refused SASL SCRAM-SHA-512 authentication as 'svc' (KeyError: 'v')"),
])
def test_a_failure_after_the_broker_answered_is_a_refusal(step: str, exc: BaseException, refused: str | None) -> None:
    kafka = settings(**SASL, kafka_sasl_username="svc", kafka_sasl_password=SECRET).kafka
    reason = _explain(exc, step, "Kafka at b:9096", kafka)
    if refused is None:
        assert reason is None
    else:
        assert reason is not None and reason.startswith("Kafka at b:9096 " + refused) and SECRET not in reason, reason
