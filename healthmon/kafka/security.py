"""Kafka TLS and SASL: the one mapping from the settings to every Kafka client, and the start-up check.

Every client takes its security from here, so a managed cluster (SASL_SSL with SCRAM, mutual TLS, ...)
needs one set of `KAFKA_*` variables, not one per tool:

- an aiokafka client (producer, consumer, admin): `AIOKafkaProducer(bootstrap_servers=..., **aiokafka_kwargs(kafka))`
- the Faust app: `faust.App(..., broker_credentials=faust_credentials(kafka))` (`streams.app`)
- before the first client, `await check_kafka(bootstrap, kafka)` turns a wrong CA, a missing client
  certificate or rejected credentials into one `KafkaSecurityError` that says the brokers refused and
  names the settings to check, instead of the clients' silent retry loop.

The check connects in steps (TCP and TLS, the first request, the SASL handshake, the credentials), and
knows which step failed: a broker that answered up to the credentials and then failed the exchange in
any way (an error, a close, no answer) has refused them, whatever the client library raised.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from typing import Any

from healthmon.config.kafka import SASL_PROTOCOLS, TLS_PROTOCOLS, KafkaSettings

__all__ = ["KafkaSecurityError", "aiokafka_kwargs", "check_kafka"]

#: How far a connection attempt got (`_ProbeConnection.step`).
CONNECTING, FIRST_REQUEST, SASL_HANDSHAKE, CREDENTIALS = "connecting", "first request", "SASL handshake", "credentials"


class KafkaSecurityError(RuntimeError):
    """The brokers refused the TLS handshake or the SASL credentials (not worth a retry)."""


def aiokafka_kwargs(kafka: KafkaSettings) -> dict[str, Any]:
    """Return the security keyword arguments of any aiokafka client (producer, consumer, admin)."""
    kwargs: dict[str, Any] = {"security_protocol": kafka.security_protocol}
    context = kafka.tls_context()
    if context is not None:
        kwargs["ssl_context"] = context
    if kafka.security_protocol in SASL_PROTOCOLS:
        kwargs.update(sasl_mechanism=kafka.sasl_mechanism, sasl_plain_username=kafka.sasl_username,
                      sasl_plain_password=kafka.secret("sasl_password"))
    return kwargs


def _probe_class() -> type:
    from aiokafka.conn import AIOKafkaConnection

    class _ProbeConnection(AIOKafkaConnection):  # type: ignore[misc]
        """An aiokafka connection that records how far it got before it failed."""

        step = CONNECTING

        async def _do_version_lookup(self) -> None:
            self.step = FIRST_REQUEST
            await super()._do_version_lookup()

        async def _do_sasl_handshake(self) -> None:
            self.step = SASL_HANDSHAKE
            await super()._do_sasl_handshake()

        # aiokafka asks for an authenticator only once the broker has offered the mechanism.
        def authenticator_plain(self) -> Any:
            self.step = CREDENTIALS
            return super().authenticator_plain()

        def authenticator_scram(self) -> Any:
            self.step = CREDENTIALS
            return super().authenticator_scram()

    return _ProbeConnection


def _cause(exc: BaseException) -> str:
    text = str(exc).strip()
    if "closed" in text or isinstance(exc, (ConnectionError, EOFError)):
        return "the broker closed the connection"
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return "no answer"
    if text.startswith("[Error "):  # the broker's own error code and name
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _tls_alert(exc: BaseException) -> ssl.SSLError | None:
    """Return the TLS alert behind a closed connection (a TLS 1.3 server refuses a client certificate late)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError) and not isinstance(
                seen, (ssl.SSLCertVerificationError, ssl.SSLEOFError, ssl.SSLZeroReturnError)):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _explain(exc: BaseException, step: str, where: str, kafka: KafkaSettings) -> str | None:
    """Return why a connection attempt was refused for good, or None when it is worth another try."""
    from aiokafka.errors import UnsupportedSaslMechanismError

    if isinstance(exc, ssl.SSLCertVerificationError):
        return (f"{where} refused by TLS: its certificate is not trusted ({exc.verify_message}): check "
                f"KAFKA_SSL_CAFILE={kafka.ssl_cafile or '(system CAs)'} and KAFKA_SSL_CHECK_HOSTNAME")
    alert = _tls_alert(exc)
    if alert is not None:
        certificate = ("no client certificate was sent: check KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE"
                       if kafka.ssl_certfile is None else
                       f"check the client certificate KAFKA_SSL_CERTFILE={kafka.ssl_certfile} and KAFKA_SSL_KEYFILE")
        return (f"{where} refused the TLS connection ({alert.reason or alert}): is it a TLS listener? If it "
                f"requires a client certificate, {certificate}")
    if isinstance(exc, UnsupportedSaslMechanismError) or step == SASL_HANDSHAKE:
        # A broker that answered the first request and then fails the handshake, by an error or by closing
        # the connection, does not take this mechanism on this listener.
        return (f"{where} refused SASL {kafka.sasl_mechanism} at the handshake ({_cause(exc)}): check "
                "KAFKA_SASL_MECHANISM (the broker may not offer it) and KAFKA_SECURITY_PROTOCOL")
    if step == CREDENTIALS:
        return (f"{where} refused SASL {kafka.sasl_mechanism} authentication as {kafka.sasl_username!r} "
                f"({_cause(exc)}): check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
                + (" (or KAFKA_SASL_PASSWORD_FILE)" if kafka.sasl_password_file is not None else ""))
    return None  # not up yet, or the connection dropped before any judgement: try again until the deadline


def _closed_hint(step: str, kafka: KafkaSettings) -> str:
    if kafka.security_protocol not in TLS_PROTOCOLS or step != FIRST_REQUEST:
        return ""
    # TLS 1.3 servers refuse a client certificate after the handshake: the client may only see the close.
    if kafka.ssl_certfile is None:
        return ("; the TLS handshake passed but the broker closed the connection: does it require a client "
                "certificate (KAFKA_SSL_CERTFILE, KAFKA_SSL_KEYFILE)?")
    return ("; the TLS handshake passed but the broker closed the connection: does it accept the client "
            f"certificate KAFKA_SSL_CERTFILE={kafka.ssl_certfile}?")


async def check_kafka(bootstrap: str, kafka: KafkaSettings, timeout_s: float = 15.0) -> None:
    """Connect to the first bootstrap broker with the TLS/SASL settings; raise `KafkaSecurityError` if refused.

    A broker that cannot be reached is tried again until `timeout_s` (it may be starting); a refusal of
    the TLS handshake or of the credentials is final and explained at once.
    """
    probe = _probe_class()
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    where = f"Kafka at {host}:{port}"
    deadline = time.monotonic() + timeout_s
    last: BaseException | None = None
    last_step = CONNECTING
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise KafkaSecurityError(f"{where} did not answer within {timeout_s:.0f} s "
                                     f"({type(last).__name__}: {last}){_closed_hint(last_step, kafka)}")
        conn = probe(host, int(port), request_timeout_ms=int(min(remaining, 10.0) * 1000), **aiokafka_kwargs(kafka))
        try:
            await asyncio.wait_for(conn.connect(), min(remaining, 10.0))
        except Exception as exc:  # noqa: BLE001 - every failure is either explained or retried
            conn.close()
            reason = _explain(exc, conn.step, where, kafka)
            if reason is not None:
                raise KafkaSecurityError(reason) from None
            last, last_step = exc, conn.step
            await asyncio.sleep(0.2)
            continue
        conn.close()
        return
