"""Turn the CDNOW sample into backtest input: real purchase history to tune silence lines on.

`CDNOW_sample.txt` (shipped in the `lifetimes` wheel) holds the purchases of 2,357 customers of the CDNOW
music store from January 1997 to June 1998, one line each: customer id, sample id, date (YYYYMMDD),
quantity, amount. Every customer becomes one single-seat account (`cdnow-<id>`), every purchase one
product-usage event (feature `purchase`, at noon UTC). The dates move forward by whole weeks, 1,461 by
default (28 years: 1997-01-01 becomes 2025-01-01, a Wednesday both times), because `occurred_at` may not
be before 2000-01-01.

    make cdnow     # installs lifetimes without its dependencies (only the data file is used), then:
    python -m healthmon.backtest.cdnow --to-dir cdnow/
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import NamedTuple

import orjson

__all__ = ["SHIFT_WEEKS", "CdnowError", "Purchase", "find_sample", "main", "read_purchases", "write_input"]

#: 28 years of weeks: weekdays stay as they were, and 1997 lands in 2025
SHIFT_WEEKS = 1461
SAMPLE = "lifetimes/datasets/CDNOW_sample.txt"


class CdnowError(ValueError):
    """The sample is missing or a line of it is malformed; the message says which."""


class Purchase(NamedTuple):
    """One line of the sample."""

    customer: str
    day: date
    quantity: int
    amount: float


def find_sample() -> Path:
    """Return the path of `CDNOW_sample.txt` in the installed `lifetimes` distribution (without importing it)."""
    try:
        files = metadata.files("lifetimes") or []
    except metadata.PackageNotFoundError:
        raise CdnowError("the lifetimes package is not installed: `make cdnow` installs it (pip install --no-deps "
                         "lifetimes==0.11.3), or give --sample PATH") from None
    for item in files:
        if str(item).replace("\\", "/") == SAMPLE:
            return Path(str(item.locate()))
    raise CdnowError(f"lifetimes is installed but has no {SAMPLE}")


def read_purchases(path: Path) -> Iterator[Purchase]:
    """Yield the purchases of a sample file, in file order."""
    with open(path, encoding="ascii") as handle:
        for n, line in enumerate(handle, 1):
            if not line.strip():
                continue
            parts = line.split()
            try:
                customer, _, day, quantity, amount = parts
                yield Purchase(customer, datetime.strptime(day, "%Y%m%d").date(), int(quantity), float(amount))
            except ValueError as exc:
                raise CdnowError(f"{path}:{n}: expected customer, sample id, YYYYMMDD, quantity, amount "
                                 f"({exc}): {line.strip()!r}") from None


def _ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp() * 1000)


def write_input(purchases: Iterator[Purchase], directory: Path, names: dict[str, str],
                shift_weeks: int = SHIFT_WEEKS) -> tuple[int, int]:
    """Write `accounts.jsonl` and `product-usage.jsonl` (named by `names`); return (accounts, purchases)."""
    shift = timedelta(weeks=shift_weeks)
    directory.mkdir(parents=True, exist_ok=True)
    first: dict[str, date] = {}
    with open(directory / f"{names['usage']}.jsonl", "wb") as usage:
        n = 0
        for n, p in enumerate(purchases, 1):
            day = p.day + shift
            account = f"cdnow-{p.customer}"
            first.setdefault(account, day)
            usage.write(orjson.dumps({"event_id": f"cdnow-{n}", "account_id": account, "user_id": account,
                                      "feature": "purchase", "occurred_at": _ms(day),
                                      "properties": {"quantity": p.quantity, "amount": p.amount}}) + b"\n")
    with open(directory / f"{names['account']}.jsonl", "wb") as profiles:
        for account, start in sorted(first.items()):
            profiles.write(orjson.dumps({"account_id": account, "name": f"CDNOW customer {account[6:]}",
                                         "tier": "standard", "seats": 1, "arr": 0.0, "csm": "",
                                         "contract_start": start.isoformat(),
                                         "renewal_date": (start + timedelta(days=365)).isoformat()}) + b"\n")
    return len(first), n


def main(argv: list[str] | None = None) -> int:
    """Write the backtest input directory; print what was written."""
    from healthmon.backtest.inputs import file_names
    from healthmon.config import Settings

    parser = argparse.ArgumentParser(prog="python -m healthmon.backtest.cdnow", description=__doc__.split("\n")[0])
    parser.add_argument("--to-dir", type=Path, required=True, help="backtest input directory to write")
    parser.add_argument("--sample", type=Path, default=None,
                        help="CDNOW_sample.txt (default: the one in the installed lifetimes package)")
    parser.add_argument("--shift-weeks", type=int, default=SHIFT_WEEKS,
                        help=f"move every date this many weeks forward (default {SHIFT_WEEKS}: 28 years)")
    args = parser.parse_args(argv)
    try:
        sample = args.sample or find_sample()
        accounts, purchases = write_input(read_purchases(sample), args.to_dir, file_names(Settings(redis={"url": ""})),
                                          args.shift_weeks)
    except (CdnowError, OSError) as exc:
        print(f"cdnow: {exc}", file=sys.stderr)
        return 1
    print(f"cdnow: {purchases:,} purchases of {accounts:,} customers from {sample} written to {args.to_dir} "
          f"(dates moved {args.shift_weeks} weeks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
