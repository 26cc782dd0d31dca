"""The one settings object: sections grouped by what uses them, every field bound to an environment variable.

`Settings()` reads the environment (and a `.env` file, which the environment overrides) once, by the
variable names the sections declare: `settings.kafka.broker_url` is `KAFKA_BROKER_URL`. A section given
as a dict changes only the fields it names (`Settings(topics={"partitions": 8})`); `replace` does the
same on settings already read.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from pydantic import Field, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from healthmon.config.alerts import AlertSettings
from healthmon.config.kafka import KafkaSettings
from healthmon.config.pipeline import AlignmentSettings, EngineSettings, IngestSettings
from healthmon.config.redis import RedisSettings
from healthmon.config.section import Section
from healthmon.config.topics import REMOVED_ENV, TopicSettings
from healthmon.config.worker import HttpSettings, StoreSettings, WorkerSettings

__all__ = ["Settings"]

log = logging.getLogger(__name__)


class Settings(BaseSettings):
    """healthmon configuration, read from the environment (and a `.env` file if present)."""

    model_config = SettingsConfigDict(env_file=".env", extra="forbid", frozen=True)

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    topics: TopicSettings = Field(default_factory=TopicSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    engine: EngineSettings = Field(default_factory=EngineSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    alignment: AlignmentSettings = Field(default_factory=AlignmentSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)

    @model_validator(mode="after")
    def _pace_under_lateness(self) -> Settings:
        drift, lateness = self.alignment.pace_drift_seconds, self.engine.lateness_seconds
        if drift and drift >= lateness:
            # A drift at or past the lateness lets a moved event arrive too late: the pace would bound nothing.
            raise PydanticCustomError("invalid_combination", (
                f"HEALTHMON_PACE_DRIFT_SECONDS: {drift} must be under HEALTHMON_LATENESS_SECONDS ({lateness}), "
                "or an account can get one partition's events too late to count (0 turns the pace off; empty: "
                "half of the lateness)"))
        return self

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Read the arguments first, then the sections' variables from the environment and `.env`."""
        return init_settings, SectionEnvSource(settings_cls, getattr(dotenv_settings, "env_file", None))

    @classmethod
    def sections(cls) -> Iterator[tuple[str, type[Section]]]:
        """Yield each section's attribute name and class, in the README's order."""
        for name, field in cls.model_fields.items():
            assert isinstance(field.annotation, type) and issubclass(field.annotation, Section)
            yield name, field.annotation

    @classmethod
    def env_name(cls, section: str, field: str) -> str:
        """Return the environment variable bound to `field` of `section` (`("kafka", "broker_url")`)."""
        return dict(cls.sections())[section].env_name(field)

    @classmethod
    def field_info(cls, section: str, field: str) -> FieldInfo:
        """Return the pydantic field of `section` named `field`."""
        return dict(cls.sections())[section].model_fields[field]

    @property
    def repartition_topic(self) -> str:
        """Return the name in Kafka of this application's repartition topic (`<app_id>-events-by-account`)."""
        return self.topics.repartition_name(self.worker.app_id)

    def replace(self, **changes: Mapping[str, Any]) -> Settings:
        """Return these settings with some fields of some sections changed, validated again.

        `settings.replace(topics={"prefix": "demo-"}, http={"port": 0})`
        """
        data = {name: getattr(self, name).model_dump() for name, _ in self.sections()}
        for section, fields in changes.items():
            data[section].update(fields)
        return type(self).model_validate(data)


class SectionEnvSource(PydanticBaseSettingsSource):
    """The sections' fields from their environment variables (case-insensitive), `.env` beneath the environment."""

    def __init__(self, settings_cls: type[BaseSettings], env_file: Any) -> None:
        super().__init__(settings_cls)
        self.env_file = env_file

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """Unused: `__call__` reads whole sections at once."""
        return None, field_name, False

    def _environment(self) -> dict[str, str]:
        files: Sequence[Any]
        if self.env_file is None:
            files = ()
        elif isinstance(self.env_file, (str, os.PathLike)):
            files = (self.env_file,)
        else:
            files = tuple(self.env_file)
        found: dict[str, str] = {}
        for path in files:
            if Path(path).expanduser().is_file():
                found.update({k.lower(): v for k, v in dotenv_values(Path(path).expanduser()).items() if v is not None})
        found.update({k.lower(): v for k, v in os.environ.items()})
        return found

    def __call__(self) -> dict[str, Any]:
        """Return {section: {field: raw value}} for every variable that is set."""
        env = self._environment()
        for var, instead in REMOVED_ENV.items():
            if var.lower() in env:
                log.warning("healthmon: %s is no longer read: %s", var, instead)
        data: dict[str, Any] = {}
        for name, section in Settings.sections():
            values: dict[str, str] = {}
            for field in section.model_fields:
                var = section.env_name(field)
                if var.lower() in env:
                    values[field] = env[var.lower()]
                    continue
                old = section.DEPRECATED_ENV.get(field)
                if old is not None and old.lower() in env:
                    log.warning("healthmon: %s is deprecated and will be removed in the next release; set %s "
                                "instead (read as %s=%s)", old, var, var, env[old.lower()])
                    values[field] = env[old.lower()]
            if values:
                data[name] = values
        return data
