"""Derive independent, reproducible random streams from one seed."""

from __future__ import annotations

import random

__all__ = ["derive_rng", "derive_seed"]

_MASK64 = (1 << 64) - 1


def _splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def derive_seed(seed: int, *parts: int) -> int:
    """Mix a seed and integer parts into a new 64-bit seed."""
    x = _splitmix64(seed & _MASK64)
    for part in parts:
        x = _splitmix64(x ^ (part & _MASK64))
    return x


def derive_rng(seed: int, *parts: int) -> random.Random:
    """Return a `random.Random` for one (seed, parts) stream.

    Streams for different parts do not depend on each other, so e.g. changing one account's
    scenario never changes another account's events.
    """
    return random.Random(derive_seed(seed, *parts))
