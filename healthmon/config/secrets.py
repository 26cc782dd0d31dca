"""Secrets that may come from mounted files: which ones, and what is wrong with their files."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from streams.settings import Settings

__all__ = ["SECRET_FILES", "secret_file_problems"]

#: Secrets that can also come from a file named by the `<name>_file` setting (mounted secrets).
SECRET_FILES = ("kafka_sasl_password", "redis_password", "api_token")


def secret_file_problems(settings: Settings) -> list[str]:
    """Return what is wrong with the secrets that may come from files (one line each, naming the variable)."""
    from streams.settings import env_name  # the settings module imports this one when it validates

    problems: list[str] = []
    for name in SECRET_FILES:
        value, path = getattr(settings, name), getattr(settings, name + "_file")
        if path is None:
            continue
        if value.get_secret_value():
            problems.append(f"{env_name(name)} and {env_name(name + '_file')}: set one of them, not both")
            continue
        try:
            if not path.read_text().strip():
                problems.append(f"{env_name(name + '_file')}: {path} is empty")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{env_name(name + '_file')}: cannot read {path} ({exc})")
    return problems
