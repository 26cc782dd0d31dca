"""What every settings section shares: fields bound to one environment variable each, and secrets from files."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = ["Section", "empty_path_is_unset", "setting"]


def setting(default: Any, env: str, doc: str, **constraints: Any) -> Any:
    """Declare a section field bound to the environment variable `env`, documented by `doc`."""
    return Field(default, validation_alias=env, description=doc, **constraints)


class Section(BaseModel):
    """The settings that one part of healthmon uses; each field names its environment variable.

    A section is built from its fields' names (`KafkaSettings(broker_url=...)`) or from its variables'
    names, as the environment gives them. It never reads the environment itself: `Settings` does, once.
    """

    model_config = ConfigDict(frozen=True, validate_by_name=True, validate_by_alias=True, extra="forbid")

    #: heading of the section in the README's configuration table
    TITLE: ClassVar[str] = ""
    #: secrets that can also come from a file named by the `<name>_file` field (mounted secrets)
    SECRET_FILES: ClassVar[tuple[str, ...]] = ()
    #: field -> an older environment variable still read for it, with a warning, until it is removed
    DEPRECATED_ENV: ClassVar[dict[str, str]] = {}

    @classmethod
    def env_name(cls, field: str) -> str:
        """Return the environment variable bound to `field`."""
        return str(cls.model_fields[field].validation_alias)

    def secret(self, name: str) -> str:
        """Return the secret `name` from its variable or, when set, its `_FILE` variable (stripped)."""
        path = getattr(self, name + "_file", None)
        if path is not None:
            return str(Path(path).read_text()).strip()
        return str(getattr(self, name).get_secret_value())

    def secret_file_problems(self) -> list[str]:
        """Return what is wrong with the secrets that may come from files (one line each, naming the variable)."""
        problems: list[str] = []
        for name in self.SECRET_FILES:
            value: SecretStr = getattr(self, name)
            path: Path | None = getattr(self, name + "_file")
            if path is None:
                continue
            var, file_var = self.env_name(name), self.env_name(name + "_file")
            if value.get_secret_value():
                problems.append(f"{var} and {file_var}: set one of them, not both")
                continue
            try:
                if not path.read_text().strip():
                    problems.append(f"{file_var}: {path} is empty")
            except (OSError, UnicodeDecodeError) as exc:
                problems.append(f"{file_var}: cannot read {path} ({exc})")
        return problems


def empty_path_is_unset(value: object) -> object:
    """Read an empty path variable as unset (`KAFKA_SSL_CAFILE=`, as compose writes `${KAFKA_SSL_CAFILE:-}`)."""
    return None if isinstance(value, str) and not value.strip() else value
