"""Round a float to a few decimals exactly as `round(x, n)` does, without its detour through decimal text."""

from __future__ import annotations

import math
from typing import Final

__all__ = ["round_to"]

#: below this the product `x * 10**n` is within 2**-22 of its exact value
_EXACT_BELOW: Final = 2147483648.0
#: a product this close to a half may round the other way than its exact value: `round` decides there
_NEAR_HALF: Final = 1e-6


def round_to(x: float, ndigits: int) -> float:
    """Return `round(x, ndigits)`: the same float, bit for bit, sign of zero included.

    `round` takes the decimal of `ndigits` places nearest to the exact value of `x` (ties to even) and
    reads it back as the float nearest to `r / 10**ndigits`, `r` an integer. The float product
    `x * 10**ndigits` is off its exact value by half a unit in the last place at most, so the integer
    nearest to it is `r` unless it lies that close to a half; the division by an exact power of ten is
    correctly rounded. Near a half, for large or non-finite values, and for `ndigits` beyond 0 to 4,
    `round` itself answers.
    """
    if ndigits == 1:
        scale = 10.0
    elif ndigits == 2:
        scale = 100.0
    elif ndigits == 4:
        scale = 10000.0
    elif ndigits == 3:
        scale = 1000.0
    elif ndigits == 0:
        scale = 1.0
    else:
        return round(x, ndigits)
    y = x * scale
    if -_EXACT_BELOW < y < _EXACT_BELOW:
        whole = float(math.floor(y))
        fraction = y - whole
        if abs(fraction - 0.5) > _NEAR_HALF:
            r = whole + 1.0 if fraction > 0.5 else whole
            if r != 0.0:
                return r / scale
            return math.copysign(0.0, x)
    return round(x, ndigits)
