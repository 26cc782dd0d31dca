"""The event loop the benchmark's Faust processes run on (the same one the worker uses)."""

from __future__ import annotations

__all__ = ["use_fast_loop"]


def use_fast_loop() -> str:
    """Install the loop `healthmon worker` uses and return its name."""
    from streams.app import install_event_loop

    return install_event_loop()
