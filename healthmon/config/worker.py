"""The worker process's sections: its Faust app and timers, its state store, its HTTP API."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import ClassVar, Literal, get_args

from pydantic import SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from healthmon.config.section import Section, empty_path_is_unset, setting

__all__ = ["ACCOUNT_METRICS_MODES", "AccountMetricsMode", "HttpSettings", "StoreSettings", "WorkerSettings"]

#: Which accounts get per-account series on `/metrics`: none, those not green (and each for a day of event
#: time after it returns to green), or every scored account.
AccountMetricsMode = Literal["off", "at_risk", "all"]
ACCOUNT_METRICS_MODES: tuple[AccountMetricsMode, ...] = get_args(AccountMetricsMode)


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
        "for and exits: code 75 when processed input is left uncommitted (consumed again later), else 0.", gt=0)
    view_accounts_per_second: int = setting(
        500, "HEALTHMON_VIEW_ACCOUNTS_PER_SECOND",
        "Most changed accounts scored into the Redis view and the gauges per second; when more change (a "
        "backfill), the rest wait their turn, longest-waiting first.", ge=1)
    view_check_seconds: float = setting(
        300.0, "HEALTHMON_VIEW_CHECK_SECONDS",
        "How often a worker compares the Redis view of its accounts with their states, exports the count "
        "of stale ones (`healthmon_view_stale_accounts`) and pushes them again; 0: never.", ge=0)
    log_level: Literal["debug", "info", "warning", "error"] = setting(
        "warning", "HEALTHMON_LOG_LEVEL", "Worker log level.")


class StoreSettings(Section):
    """Where the worker's Faust tables keep their local state."""

    TITLE: ClassVar[str] = "State store"

    url: str = setting("memory://", "HEALTHMON_STORE",
                       "Faust table store: `memory://` (every start reads the whole changelog) or `rocksdb://` "
                       "(state kept on disk in `HEALTHMON_DATA_DIR`: a restart reads only the changelog written "
                       "since; with the `rocksdict` package healthmon installs).")
    data_dir: Path = setting(Path(".healthmon-data"), "HEALTHMON_DATA_DIR", "Directory for Faust's local state.")
    standby_replicas: int = setting(
        0, "HEALTHMON_STANDBY_REPLICAS",
        "Standby copies of each table partition kept warm by other workers of the group (Faust's "
        "`table_standby_replicas`): a worker that takes a partition over after a crash has its state already "
        "and skips reading that changelog partition. Costs each worker memory and changelog reads for the "
        "partitions it stands by for.", ge=0, le=8)

    @field_validator("url")
    @classmethod
    def _known_store(cls, value: str) -> str:
        scheme = value.partition("://")[0]
        if scheme not in ("memory", "rocksdb") or "://" not in value:
            raise PydanticCustomError("store", "unknown store: use memory:// or rocksdb://")
        if scheme == "rocksdb" and importlib.util.find_spec("rocksdict") is None:
            raise PydanticCustomError("store", "rocksdb:// needs the rocksdict package, which is not installed "
                                               "(healthmon depends on it: pip install 'rocksdict>=0.3.29,<0.4')")
        return value


class HttpSettings(Section):
    """The worker's HTTP API and what its `/metrics` exposes."""

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
    account_metrics: AccountMetricsMode = setting(
        "at_risk", "HEALTHMON_ACCOUNT_METRICS",
        "Per-account series on `/metrics` (`healthmon_account_*`, labelled `account_id`, `tier`, `csm`, `band`) for "
        "the \"Accounts at risk\" dashboard: `off`; `at_risk`, the accounts not green plus each account for a day "
        "of event time after it returns to green; or `all` scored accounts.")
    account_metrics_max: int = setting(
        5000, "HEALTHMON_ACCOUNT_METRICS_MAX",
        "Most per-account series one worker exposes (up to 5 per account: at most 1,000 accounts by default). Past "
        "it the lowest scores are kept, and `healthmon_account_series_capped_accounts` counts the accounts left out.",
        ge=5)

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
