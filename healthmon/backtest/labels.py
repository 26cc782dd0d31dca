"""Churn labels for a backtest: a CSV or JSON Lines file of `account_id`, `churned_at`."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson

from schemas.events import parse_epoch_ms

__all__ = ["LabelsError", "load_labels", "parse_churned_at", "write_labels"]


class LabelsError(ValueError):
    """The labels file is unreadable or has bad rows; the message names each one."""


def parse_churned_at(value: Any) -> int:
    """Return epoch ms of an RFC 3339 time, epoch milliseconds or a plain YYYY-MM-DD date (midnight UTC)."""
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            day = date.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"not a date: {exc}") from None
        return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return parse_epoch_ms(value)


def _rows(path: Path, text: str) -> list[tuple[int, dict[str, Any]]]:
    if path.suffix in (".jsonl", ".json", ".ndjson"):
        out = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                doc = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise LabelsError(f"{path}:{n}: not JSON: {exc}") from None
            if not isinstance(doc, dict):
                raise LabelsError(f"{path}:{n}: must be a JSON object with account_id and churned_at")
            out.append((n, doc))
        return out
    reader = csv.DictReader(io.StringIO(text))
    missing = {"account_id", "churned_at"} - set(reader.fieldnames or ())
    if missing:
        raise LabelsError(f"{path}:1: header must name account_id and churned_at "
                          f"(missing {', '.join(sorted(missing))})")
    return [(n, row) for n, row in enumerate(reader, 2)]


def load_labels(path: Path) -> dict[str, int]:
    """Read a labels file: account -> churned_at (epoch ms); a repeated account keeps its earliest churn."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LabelsError(f"{path}: cannot read: {exc}") from None
    out: dict[str, int] = {}
    errors = []
    for n, row in _rows(path, text):
        account = row.get("account_id")
        if not isinstance(account, str) or not account.strip():
            errors.append(f"{path}:{n}: account_id: required")
            continue
        try:
            churned = parse_churned_at(row.get("churned_at"))
        except ValueError as exc:
            errors.append(f"{path}:{n}: churned_at: {exc} (got {row.get('churned_at')!r})")
            continue
        account = account.strip()
        out[account] = min(churned, out.get(account, churned))
    if errors:
        raise LabelsError("\n".join(errors[:20]) + (f"\n... and {len(errors) - 20} more" if len(errors) > 20 else ""))
    return out


def write_labels(labels: dict[str, int], path: Path) -> None:
    """Write account -> churned_at (epoch ms) as a labels CSV that `load_labels` reads (RFC 3339 times)."""
    rows = [f"{account},{datetime.fromtimestamp(at / 1000, tz=UTC).strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3]}Z"
            for account, at in sorted(labels.items())]
    path.write_text("\n".join(["account_id,churned_at", *rows]) + "\n", encoding="utf-8")
