"""`python -m healthmon` runs the CLI."""

from healthmon.cli import main

main()
