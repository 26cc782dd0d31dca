"""`round_to` gives what `round` gives, bit for bit: near halves, signed zeros, large and non-finite values."""

from __future__ import annotations

import math
import random

import pytest

from healthmon.core.rounding import round_to

SPECIAL = [0.0, -0.0, 1e-300, -1e-300, 0.05, -0.05, 0.04, -0.04, 0.15, 0.25, 0.35, 2.675, 1.005, 0.125, 0.375,
           99.95, 100.0, 57.25, -57.25, 2.0**31, -(2.0**31), 2.0**53, 1e16, 1e308, math.inf, -math.inf, math.nan]


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1.0, a) == math.copysign(1.0, b))


def _near_halves(ndigits: int, rnd: random.Random) -> list[float]:
    out = []
    for _ in range(2_000):
        half = (rnd.randint(-1_000_000, 1_000_000) + 0.5) / 10**ndigits
        for step in (-3, -2, -1, 0, 1, 2, 3):
            x = half
            for _ in range(abs(step)):
                x = math.nextafter(x, math.inf if step > 0 else -math.inf)
            out.append(x)
    return out


@pytest.mark.parametrize("ndigits", [0, 1, 2, 3, 4])
def test_round_to_is_round(ndigits: int) -> None:
    rnd = random.Random(ndigits)
    values = SPECIAL + _near_halves(ndigits, rnd) + [
        rnd.choice((rnd.uniform(-200, 200), rnd.uniform(-1, 1), rnd.uniform(-1e7, 1e7), rnd.expovariate(1.0),
                    rnd.randint(-10**6, 10**6) / 10**rnd.randint(0, 6), rnd.uniform(-1e12, 1e12)))
        for _ in range(50_000)]
    wrong = [(x, round_to(x, ndigits), round(x, ndigits)) for x in values
             if not _same(round_to(x, ndigits), round(x, ndigits))]
    assert not wrong, wrong[:5]
