"""Round a float to a few decimals exactly as `round(x, n)` does, without its detour through decimal text."""

from __future__ import annotations

import math

__all__ = ["round_to"]

_SCALES = (1.0, 10.0, 100.0, 1000.0, 10000.0)
#: below this the product `x * 10**n` is within 2**-22 of its exact value
_EXACT_BELOW = 2.0**31
#: a product this close to a half may round the other way than its exact value: `round` decides there
_NEAR_HALF = 1e-6


def round_to(x: float, ndigits: int) -> float:
    """Return `round(x, ndigits)` for 0 <= ndigits <= 4: the same float, bit for bit, sign of zero included.

    `round` takes the decimal of `ndigits` places nearest to the exact value of `x` (ties to even) and
    reads it back as the float nearest to `r / 10**ndigits`, `r` an integer. The float product
    `x * 10**ndigits` is off its exact value by half a unit in the last place at most, so the integer
    nearest to it is `r` unless it lies that close to a half; the division by an exact power of ten is
    correctly rounded. Near a half, and for large or non-finite values, `round` itself answers.
    """
    scale = _SCALES[ndigits]
    y = x * scale
    if -_EXACT_BELOW < y < _EXACT_BELOW:
        whole = math.floor(y)
        fraction = y - whole
        if abs(fraction - 0.5) > _NEAR_HALF:
            r = whole + 1 if fraction > 0.5 else whole
            if r:
                return r / scale
            return math.copysign(0.0, x)
    return round(x, ndigits)
