"""The settings as environment variables: the README's configuration table and a child process's environment."""

from __future__ import annotations

from pydantic import SecretStr

from streams.settings import Settings, env_name

__all__ = ["config_table", "env_value"]


def env_value(settings: Settings, field: str) -> str:
    """Return the environment variable value that reproduces one field of `settings` (secrets in clear)."""
    value = getattr(settings, field)
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def config_table() -> str:
    """Render the README's configuration table from the settings object."""
    rows = ["| Environment variable | Default | Meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        if name == "policy_file":
            default = "healthmon/policy/default.yaml"
        if isinstance(default, SecretStr):
            default = default.get_secret_value()
        shown = f"`{default}`" if default not in ("", None) else "(empty)"
        rows.append(f"| `{env_name(name)}` | {shown} | {field.description} |")
    return "\n".join(rows)
