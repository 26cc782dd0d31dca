"""The `healthmon` command line: worker, generate, demo, tail, alertmanager, policy, inputs, backtest, digest, bench."""

from __future__ import annotations

import logging

# Each module adds its commands to the group.
from healthmon.cli import bench, digest, inputs, policy, run, traffic, view  # noqa: F401
from healthmon.cli.base import cli

__all__ = ["cli", "main"]


def main() -> None:
    """Run the CLI."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cli()
