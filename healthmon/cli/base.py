"""The `healthmon` command group and what its commands share: the settings and a policy, or a clear error."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from pydantic import ValidationError

from healthmon import __version__

if TYPE_CHECKING:
    from healthmon.config import Settings

__all__ = ["cli", "policy_or_exit", "settings_from_env"]


def settings_from_env() -> Settings:
    """Return the settings from the environment, or exit naming each bad variable."""
    from pydantic import SecretStr

    from healthmon.config import Settings

    sections = dict(Settings.sections())
    try:
        return Settings()
    except ValidationError as exc:
        lines: list[str] = []
        for err in exc.errors(include_url=False):
            loc = [str(part) for part in err["loc"]]
            if len(loc) < 2 or loc[0] not in sections or loc[1] not in sections[loc[0]].model_fields:
                # a bad combination in a section: each line of the message names its variable
                lines.extend(f"  {line}" for line in err["msg"].splitlines())
                continue
            section, field = sections[loc[0]], loc[1]
            secret = section.model_fields[field].annotation is SecretStr
            shown = "" if secret else f" (got {err.get('input')!r})"
            lines.append(f"  {section.env_name(field)}: {err['msg']}{shown}")
        raise click.ClickException("invalid configuration:\n" + "\n".join(lines)) from None


def policy_or_exit(path: Path) -> Any:
    """Return the policy in `path`, or exit listing every error with its path."""
    from healthmon.core import PolicyError, load_policy

    try:
        return load_policy(path)
    except PolicyError as exc:
        raise click.ClickException(f"invalid policy {path}:\n" + "\n".join(f"  {e}" for e in exc.errors)) from None


def inputs_or_exit(settings: Any) -> Any:
    """Return the inputs `HEALTHMON_INPUTS_FILE` lists (or today's four topics), or exit listing every error."""
    from healthmon.ingest.inputs import InputsError, inputs_or_default

    try:
        return inputs_or_default(settings.ingest.inputs_file, settings.topics.input_names)
    except InputsError as exc:
        raise click.ClickException(f"invalid inputs file (HEALTHMON_INPUTS_FILE) {exc}") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="healthmon")
def cli() -> None:
    """healthmon: score every account continuously from Kafka events and alert like a pager."""
