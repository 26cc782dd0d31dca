"""The settings as environment variables: the README's configuration tables and a child process's environment."""

from __future__ import annotations

from pydantic import SecretStr

from healthmon.config.pipeline import DEFAULT_POLICY_FILE
from healthmon.config.settings import Settings

__all__ = ["config_table", "env_value", "settings_env"]


def env_value(value: object) -> str:
    """Return the environment variable value that reproduces one field's `value` (secrets in clear)."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def settings_env(settings: Settings) -> dict[str, str]:
    """Return the environment variables that reproduce `settings` in a child process (every field)."""
    env: dict[str, str] = {}
    for name, section in settings.sections():
        values = getattr(settings, name)
        for field in section.model_fields:
            env[section.env_name(field)] = env_value(getattr(values, field))
    return env


def config_table() -> str:
    """Render the README's configuration tables from the settings object: one per section."""
    parts: list[str] = []
    for name, section in Settings.sections():
        rows = [f"#### {section.TITLE} (`settings.{name}`)", "",
                "| Environment variable | Default | Meaning |", "|---|---|---|"]
        for field_name, field in section.model_fields.items():
            default = field.default
            if default == DEFAULT_POLICY_FILE:
                default = "healthmon/policy/default.yaml"
            if isinstance(default, SecretStr):
                default = default.get_secret_value()
            shown = f"`{default}`" if default not in ("", None) else "(empty)"
            rows.append(f"| `{section.env_name(field_name)}` | {shown} | {field.description} |")
        parts.append("\n".join(rows))
    return "\n\n".join(parts)
