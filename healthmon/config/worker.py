"""The worker process's sections: its Faust app and timers, its state store, its HTTP API."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from healthmon.config.section import Section, empty_path_is_unset, setting

__all__ = ["HttpSettings", "StoreSettings", "WorkerSettings"]


class WorkerSettings(Section):
    """The worker's Faust app: its group, commits, stuck partitions, stop, view timer and log."""

    TITLE: ClassVar[str] = "Worker"
    DEPRECATED_ENV: ClassVar[dict[str, str]] = {"stuck_partition_seconds": "HEALTHMON_PARTITION_STALL_SECONDS"}

    app_id: str = setting("healthmon", "HEALTHMON_APP_ID",
                          "Faust application id: the consumer group and the prefix of table changelog topics.")
    commit_interval_seconds: float = setting(
        30.0, "HEALTHMON_COMMIT_INTERVAL_SECONDS",
        "How often offsets are committed; each changed account state is written to its table (one changelog "
        "message) once per commit. Longer: fewer changelog messages, more input replayed after a crash (Kafka "
        "Streams also defaults to 30 s).", gt=0)
    stuck_partition_seconds: float = setting(
        30.0, "HEALTHMON_STUCK_PARTITION_SECONDS",
        "An owned input partition whose committed offset has not moved for this long, with messages left on the "
        "broker, none of them on their way through the worker and none processed waiting for the next commit, is "
        "stuck: it is read again from its committed offset (logged, and counted by "
        "healthmon_partition_rereads_total). Not counted while the broker does not answer. Formerly "
        "`HEALTHMON_PARTITION_STALL_SECONDS`, still read (with a warning) when this one is unset.", gt=0)
    stop_timeout_seconds: float = setting(
        12.0, "HEALTHMON_STOP_TIMEOUT_SECONDS",
        "Longest the worker's graceful stop on SIGTERM/SIGINT may take; past it the worker logs what it waited "
        "for and exits with code 75, uncommitted input being consumed again later.", gt=0)
    view_accounts_per_second: int = setting(
        500, "HEALTHMON_VIEW_ACCOUNTS_PER_SECOND",
        "Most changed accounts scored into the Redis view and the gauges per second; when more change (a "
        "backfill), the rest wait their turn, longest-waiting first.", ge=1)
    log_level: Literal["debug", "info", "warning", "error"] = setting(
        "warning", "HEALTHMON_LOG_LEVEL", "Worker log level.")


class StoreSettings(Section):
    """Where the worker's Faust tables keep their local state."""

    TITLE: ClassVar[str] = "State store"

    url: str = setting("memory://", "HEALTHMON_STORE",
                       "Faust table store: `memory://` (recovers from changelog) or `rocksdb://`.")
    data_dir: Path = setting(Path(".healthmon-data"), "HEALTHMON_DATA_DIR", "Directory for Faust's local state.")


class HttpSettings(Section):
    """The worker's HTTP API and `/metrics`."""

    TITLE: ClassVar[str] = "HTTP API"
    SECRET_FILES: ClassVar[tuple[str, ...]] = ("api_token",)

    host: str = setting("127.0.0.1", "HEALTHMON_WEB_HOST", "Address the worker's HTTP API and `/metrics` bind to.")
    port: int = setting(6066, "HEALTHMON_WEB_PORT", "Port of the worker's HTTP API and `/metrics`.", ge=0, le=65535)
    api_token: SecretStr = setting(
        SecretStr(""), "HEALTHMON_API_TOKEN",
        "Bearer token required on `/accounts...` (`Authorization: Bearer <token>`); the `/ui/` pages ask for it "
        "once and keep it in a cookie. Empty: those routes are open. "
        "`/metrics`, `/healthz` and `/readyz` never need it.")
    api_token_file: Path | None = setting(
        None, "HEALTHMON_API_TOKEN_FILE",
        "File holding the API token (a mounted secret), instead of `HEALTHMON_API_TOKEN`.")

    @field_validator("api_token_file", mode="before")
    @classmethod
    def _empty_path_is_unset(cls, value: object) -> object:
        return empty_path_is_unset(value)

    @model_validator(mode="after")
    def _check_secret_file(self) -> HttpSettings:
        problems = self.secret_file_problems()
        if problems:
            raise PydanticCustomError("invalid_combination", "\n".join(problems))
        return self
