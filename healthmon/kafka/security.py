"""Kafka TLS and SASL: the one mapping from the settings to every Kafka client healthmon creates.

Every client takes its security from here, so a managed cluster (SASL_SSL with SCRAM, mutual TLS, ...)
needs one set of `KAFKA_*` variables, not one per tool:

- an aiokafka client (producer, consumer, admin): `AIOKafkaProducer(bootstrap_servers=..., **aiokafka_kwargs(settings))`
- the Faust app: `faust.App(..., broker_credentials=faust_credentials(settings))` (see `streams.app`)
- before the first client, `await check_kafka(bootstrap, settings)` turns a wrong CA, a missing client
  certificate or rejected credentials into one clear `KafkaSecurityError` instead of a retry loop.

`kafka_problems` is the start-up check of the settings themselves (run by `Settings`): a bad
combination names its variable and the reason. Passwords stay in `SecretStr` until a client needs them.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faust.types.auth import CredentialsT

    from streams.settings import Settings

__all__ = ["KafkaSecurityError", "aiokafka_kwargs", "check_kafka", "faust_credentials", "kafka_problems",
           "ssl_context"]

_TLS = ("SSL", "SASL_SSL")
_SASL = ("SASL_PLAINTEXT", "SASL_SSL")


class KafkaSecurityError(RuntimeError):
    """The brokers refused the TLS handshake or the SASL credentials (not worth a retry)."""


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """Return the TLS context of `settings` (CA, client certificate, hostname check), or None without TLS."""
    if settings.kafka_security_protocol not in _TLS:
        return None
    cafile = settings.kafka_ssl_cafile
    context = ssl.create_default_context(cafile=str(cafile) if cafile else None)
    context.check_hostname = settings.kafka_ssl_check_hostname  # the chain is verified either way
    if settings.kafka_ssl_certfile is not None:
        keyfile = settings.kafka_ssl_keyfile
        # A callable, never None: with None, OpenSSL would prompt on the terminal for an encrypted key.
        context.load_cert_chain(str(settings.kafka_ssl_certfile), str(keyfile) if keyfile else None,
                                password=settings.kafka_ssl_key_password.get_secret_value)
    return context


def aiokafka_kwargs(settings: Settings) -> dict[str, Any]:
    """Return the security keyword arguments of any aiokafka client (producer, consumer, admin)."""
    kwargs: dict[str, Any] = {"security_protocol": settings.kafka_security_protocol}
    context = ssl_context(settings)
    if context is not None:
        kwargs["ssl_context"] = context
    if settings.kafka_security_protocol in _SASL:
        kwargs.update(sasl_mechanism=settings.kafka_sasl_mechanism,
                      sasl_plain_username=settings.kafka_sasl_username,
                      sasl_plain_password=settings.secret("kafka_sasl_password"))
    return kwargs


def faust_credentials(settings: Settings) -> CredentialsT | None:
    """Return Faust's `broker_credentials` for `settings` (None for PLAINTEXT)."""
    import faust

    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = ssl_context(settings)
    if protocol == "SSL":
        return faust.SSLCredentials(context)
    # SASLCredentials picks SASL_SSL when given a context and SASL_PLAINTEXT otherwise.
    return faust.SASLCredentials(username=settings.kafka_sasl_username,
                                 password=settings.secret("kafka_sasl_password"),
                                 ssl_context=context, mechanism=settings.kafka_sasl_mechanism)


def _readable(var: str, path: Any) -> str | None:
    try:
        with open(path, "rb"):
            return None
    except OSError as exc:
        return f"{var}: cannot read {path} ({exc.strerror or exc})"


def kafka_problems(settings: Settings) -> list[str]:
    """Return what is wrong with the Kafka security settings, each line naming its variable."""
    from streams.settings import env_name

    protocol = settings.kafka_security_protocol
    problems: list[str] = []
    if protocol != "PLAINTEXT" and not settings.kafka_broker_url:
        problems.append(f"KAFKA_SECURITY_PROTOCOL={protocol} needs KAFKA_BROKER_URL: the embedded broker "
                        "speaks PLAINTEXT only")
    has_password = bool(settings.kafka_sasl_password.get_secret_value()) or settings.kafka_sasl_password_file
    if protocol in _SASL:
        if not settings.kafka_sasl_username:
            problems.append(f"KAFKA_SASL_USERNAME: required with KAFKA_SECURITY_PROTOCOL={protocol}")
        if not has_password:
            problems.append(f"KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE: required with "
                            f"KAFKA_SECURITY_PROTOCOL={protocol}")
    elif settings.kafka_sasl_username or has_password:
        problems.append(f"KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD: set, but KAFKA_SECURITY_PROTOCOL={protocol} "
                        "sends no credentials (use SASL_SSL or SASL_PLAINTEXT)")
    files = {name: getattr(settings, name) for name in ("kafka_ssl_cafile", "kafka_ssl_certfile", "kafka_ssl_keyfile")}
    if protocol not in _TLS:
        for name, path in files.items():
            if path is not None:
                problems.append(f"{env_name(name)}: set, but KAFKA_SECURITY_PROTOCOL={protocol} does not use TLS "
                                "(use SSL or SASL_SSL)")
        return problems
    if settings.kafka_ssl_keyfile is not None and settings.kafka_ssl_certfile is None:
        problems.append("KAFKA_SSL_KEYFILE: set without KAFKA_SSL_CERTFILE (the client certificate)")
    if settings.kafka_ssl_key_password.get_secret_value() and settings.kafka_ssl_keyfile is None:
        problems.append("KAFKA_SSL_KEY_PASSWORD: set without KAFKA_SSL_KEYFILE")
    unreadable = [p for p in (_readable(env_name(n), f) for n, f in files.items() if f is not None) if p]
    if problems or unreadable:
        return problems + unreadable
    try:
        ssl.create_default_context(cafile=str(files["kafka_ssl_cafile"]) if files["kafka_ssl_cafile"] else None)
    except ssl.SSLError as exc:
        return [f"KAFKA_SSL_CAFILE: {files['kafka_ssl_cafile']} holds no usable PEM certificate ({exc.reason})"]
    try:
        ssl_context(settings)
    except ssl.SSLError as exc:
        hint = ("holds no private key: set KAFKA_SSL_KEYFILE" if settings.kafka_ssl_keyfile is None else
                "certificate and key do not match, or the key is encrypted and KAFKA_SSL_KEY_PASSWORD is "
                "missing or wrong")
        problems.append(f"KAFKA_SSL_CERTFILE/KAFKA_SSL_KEYFILE: {hint} ({exc.reason or exc})")
    return problems


def _explain(exc: BaseException, host: str, port: int, settings: Settings) -> str | None:
    """Return why a connection attempt failed for good, or None when it is worth another try."""
    from aiokafka.errors import KafkaConnectionError, UnsupportedSaslMechanismError

    where = f"Kafka at {host}:{port}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (f"{where}: TLS certificate not trusted ({exc.verify_message}); check KAFKA_SSL_CAFILE="
                f"{settings.kafka_ssl_cafile or '(system CAs)'} and KAFKA_SSL_CHECK_HOSTNAME")
    if isinstance(exc, ssl.SSLError):
        return (f"{where}: TLS handshake failed ({exc.reason or exc}); is it a TLS listener, and does it need a "
                "client certificate (KAFKA_SSL_CERTFILE)?")
    if isinstance(exc, UnsupportedSaslMechanismError):
        return f"{where}: KAFKA_SASL_MECHANISM={settings.kafka_sasl_mechanism} is not offered by the broker ({exc})"
    if isinstance(exc, (OSError, asyncio.TimeoutError, KafkaConnectionError)):
        return None  # not up yet, or the connection dropped: try again until the deadline
    if settings.kafka_security_protocol in _SASL:
        # aiokafka reports a rejected SCRAM exchange as whatever broke while parsing the answer.
        return (f"{where}: SASL authentication as {settings.kafka_sasl_username!r} with "
                f"{settings.kafka_sasl_mechanism} failed ({type(exc).__name__}: {exc}); check "
                "KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD and KAFKA_SASL_MECHANISM")
    return f"{where}: {type(exc).__name__}: {exc}"


def _closed_hint(last: BaseException | None, settings: Settings) -> str:
    from aiokafka.errors import KafkaConnectionError

    if not isinstance(last, KafkaConnectionError) or settings.kafka_security_protocol == "PLAINTEXT":
        return ""
    if settings.kafka_security_protocol in _SASL:
        # A broker may answer an unknown mechanism by closing the connection before its error arrives.
        return (f"; the broker closed the connection: does it offer KAFKA_SASL_MECHANISM="
                f"{settings.kafka_sasl_mechanism} and accept these credentials? (or, with SASL_SSL, a client "
                "certificate may be required)")
    # TLS 1.3 servers refuse a client certificate after the handshake: the client only sees the close.
    if settings.kafka_ssl_certfile is None:
        return ("; the TLS handshake passed but the broker closed the connection: does it require a client "
                "certificate (KAFKA_SSL_CERTFILE, KAFKA_SSL_KEYFILE)?")
    return ("; the TLS handshake passed but the broker closed the connection: does it accept the client "
            f"certificate KAFKA_SSL_CERTFILE={settings.kafka_ssl_certfile}?")


async def check_kafka(bootstrap: str, settings: Settings, timeout_s: float = 15.0) -> None:
    """Connect to the first bootstrap broker with the TLS/SASL settings; raise `KafkaSecurityError` if refused.

    Connection refusals are retried until `timeout_s` (the broker may be starting); a TLS or SASL
    refusal is final and explained at once, instead of the clients' silent reconnect loop.
    """
    from aiokafka.conn import create_conn

    host, _, port = bootstrap.split(",")[0].rpartition(":")
    deadline = time.monotonic() + timeout_s
    last: BaseException | None = None
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise KafkaSecurityError(f"Kafka at {host}:{port} did not answer within {timeout_s:.0f} s "
                                     f"({type(last).__name__}: {last}){_closed_hint(last, settings)}")
        try:
            conn = await asyncio.wait_for(create_conn(host, int(port), request_timeout_ms=int(remaining * 1000),
                                                      **aiokafka_kwargs(settings)), min(remaining, 10.0))
        except Exception as exc:  # noqa: BLE001 - every failure is either explained or retried
            reason = _explain(exc, host, int(port), settings)
            if reason is not None:
                raise KafkaSecurityError(reason) from None
            last = exc
            await asyncio.sleep(0.2)
            continue
        conn.close()
        return
