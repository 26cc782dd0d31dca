"""Turn the values a field expression found into contract values: ids, times, dates, numbers, words.

Each function returns the contract value or raises `ValueError` whose text says what was found and why
it does not fit; the caller names the field and its expression (`unmapped`). Range checks that the
contract itself makes (a score of 11, an unknown tier) are left to the contract models, which report them
as today (`schema_violation`, `unknown_enum`).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from healthmon.ingest.fastdecode import epoch_ms
from schemas.events import MAX_OCCURRED_AT_MS, MIN_OCCURRED_AT_MS, check_floor, parse_epoch_ms

__all__ = ["TIME_UNITS", "describe", "to_date", "to_float", "to_id", "to_int", "to_text", "to_time_ms"]

#: Units of numeric times in the inputs file (`time_unit`), in milliseconds.
TIME_UNITS = {"ms": 1, "s": 1000}
_EPOCH = date(1970, 1, 1)
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}\Z")
_BASE64_HINT = (" (a base64 Debezium NUMERIC? Its scale is only in the schema: turn the converter's schemas on, "
                "or set decimal.handling.mode=string)")


def describe(value: Any) -> str:
    """Return a short description of a found value for an error message (`a list`, `'2015-2-02'`)."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def to_id(value: Any) -> str:
    """Return an id: a string as it is, an integer (or a whole number) as its decimal text."""
    if type(value) is str:
        return value
    if isinstance(value, bool):
        raise ValueError(f"found {describe(value)}, not an id")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (float, Decimal)) and value == value and value == int(value):
        return str(int(value))
    raise ValueError(f"found {describe(value)}, not an id (a string or an integer)")


def to_text(value: Any) -> str:
    """Return a text field (a feature name, a CSM): a string, or a number as its text."""
    if type(value) is str:
        return value
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return to_id(value) if value == value and value == int(value) else str(value)
    raise ValueError(f"found {describe(value)}, not a string")


def to_time_ms(value: Any, unit_ms: int = 1, min_ms: int = MIN_OCCURRED_AT_MS) -> int:
    """Return epoch milliseconds from RFC 3339 text, or a number of `unit_ms` milliseconds since the epoch.

    A time before `min_ms` (`HEALTHMON_MIN_OCCURRED_AT`) is refused.
    """
    if type(value) is str:
        ms = epoch_ms(value)
        if ms is None:
            try:
                ms = parse_epoch_ms(value)
            except ValueError as exc:
                raise ValueError(f"found {describe(value)}: {exc}") from None
        if ms < min_ms:
            raise ValueError(f"found {describe(value)}: {check_floor(ms, min_ms, seconds_hint='')}")
        return ms
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValueError(f"found {describe(value)}, not a time (RFC 3339 text or a number since the epoch)")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"found {describe(value)}, not a time")
    ms = int(value) * unit_ms if isinstance(value, int) else int(round(value * unit_ms))
    if ms < min_ms:
        hint = " (epoch seconds? set time_unit: s)" if unit_ms == 1 else ""
        raise ValueError(f"found {describe(value)}: {check_floor(ms, min_ms, seconds_hint=hint)}")
    if ms > MAX_OCCURRED_AT_MS:
        hint = " (epoch milliseconds? set time_unit: ms)" if unit_ms == 1000 else ""
        raise ValueError(f"found {describe(value)}: after 5138-11-16, the latest time representable{hint}")
    return ms


def to_date(value: Any) -> date:
    """Return a calendar date: `YYYY-MM-DD`, an RFC 3339 date-time (its UTC date), or days since 1970-01-01."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if type(value) is str:
        text = value.strip()
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            return datetime.fromtimestamp(parse_epoch_ms(text) / 1000, tz=UTC).date()
        except ValueError:
            raise ValueError(f"found {describe(value)}, not a date (YYYY-MM-DD)") from None
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return _EPOCH + timedelta(days=value)  # Debezium's io.debezium.time.Date: days since the epoch
        except OverflowError:
            raise ValueError(f"found {describe(value)}, too far from 1970 to be days since the epoch") from None
    raise ValueError(f"found {describe(value)}, not a date (YYYY-MM-DD or days since 1970-01-01)")


def _number(value: Any) -> Decimal | int | float:
    if isinstance(value, bool):
        raise ValueError(f"found {describe(value)}, not a number")
    if isinstance(value, (int, float, Decimal)):
        return value
    if type(value) is str:
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            hint = _BASE64_HINT if _BASE64.match(value) and len(value) % 4 == 0 else ""
            raise ValueError(f"found {describe(value)}, not a number{hint}") from None
        if number.is_finite():
            return number
    raise ValueError(f"found {describe(value)}, not a number")


def to_int(value: Any) -> int:
    """Return a whole number: an integer, or a whole float, decimal or numeric text."""
    number = _number(value)
    if isinstance(number, int):
        return number
    if number != number or number != int(number):
        raise ValueError(f"found {describe(value)}, not a whole number")
    return int(number)


def to_float(value: Any) -> float:
    """Return a number: an integer, a float, a decimal or numeric text (`"1234.56"`)."""
    number = float(_number(value))
    if not math.isfinite(number):
        raise ValueError(f"found {describe(value)}, not a finite number")
    return number
