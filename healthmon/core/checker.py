"""Check a raw document's values one by one, collecting every error with its path instead of stopping."""

from __future__ import annotations

from typing import Any

__all__ = ["MISSING", "Checker"]

#: The default of a check's `default`: a missing key gives None.
MISSING = object()


class Checker:
    """Walks the document; every check appends `path: message` to `errors` and returns a usable value."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def mapping(self, value: Any, path: str, allowed: tuple[str, ...],
                required: tuple[str, ...] = ()) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.error(path, "must be a mapping")
            return {}
        prefix = "" if path == "<root>" else f"{path}."
        for key in value:
            if key not in allowed:
                self.error(f"{prefix}{key}", "unknown key")
        for key in required:
            if key not in value:
                self.error(f"{prefix}{key}", "required")
        return value

    def number(self, data: dict[str, Any], key: str, path: str, default: Any = MISSING, *, low: float | None = None,
               high: float | None = None, integer: bool = False, strict_low: bool = False) -> Any:
        full = f"{path}.{key}" if path else key
        if key not in data:
            return None if default is MISSING else default
        value = data[key]
        if integer and (isinstance(value, bool) or not isinstance(value, int)):
            self.error(full, "must be an integer")
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.error(full, "must be a number")
            return None
        if low is not None and high is not None and not low <= value <= high:
            self.error(full, f"must be between {low:g} and {high:g}")
            return None
        if low is not None and high is None and (value <= low if strict_low else value < low):
            self.error(full, f"must be {'>' if strict_low else '>='} {low:g}")
            return None
        return value

    def keyed(self, value: Any, path: str, allowed: tuple[str, ...], message: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.error(path, "must be a mapping")
            return {}
        for key in value:
            if key not in allowed:
                self.error(f"{path}.{key}", message)
        return {k: v for k, v in value.items() if k in allowed}

    def choice(self, data: dict[str, Any], key: str, path: str, options: tuple[str, ...],
               default: Any = MISSING) -> Any:
        if key not in data:
            return None if default is MISSING else default
        value = data[key]
        if value not in options:
            self.error(f"{path}.{key}", f"must be one of {', '.join(options)}")
            return None
        return value
