"""The dormant workload: purchase-like history, where nearly every account is quiet nearly every day.

Shaped like the CDNOW purchase history (`healthmon.backtest.cdnow`): many single-seat accounts that each buy
a few times over 18 months. Each account makes its first purchase in the first 90 days and its others at
uniformly drawn days after it; the single user is the account, the feature `purchase`. Profiles come first,
then the purchases in time order. Deterministic for a seed, like every generator.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from .records import DAY_MS, HOUR_MS, Record
from .rng import derive_rng
from .traffic import DEFAULT_START_MS

__all__ = ["DORMANT_DAYS", "DORMANT_EVENTS_PER_ACCOUNT", "dormant_records"]

#: 18 months of history, as CDNOW's
DORMANT_DAYS = 548
DORMANT_EVENTS_PER_ACCOUNT = 3
#: the first purchase falls in the first this many days (CDNOW's customers were all acquired in one quarter)
_ACQUISITION_DAYS = 90
_PURCHASES = 0


def dormant_records(accounts: int, seed: int = 42, events_per_account: int = DORMANT_EVENTS_PER_ACCOUNT,
                    days: int = DORMANT_DAYS, start_ms: int = DEFAULT_START_MS) -> Iterator[Record]:
    """Yield one profile per account, then `events_per_account` purchases of each, in occurred_at order."""
    if accounts < 1 or events_per_account < 1 or days <= _ACQUISITION_DAYS:
        raise ValueError(f"need accounts >= 1, events_per_account >= 1 and days > {_ACQUISITION_DAYS}")
    rng = derive_rng(seed, _PURCHASES)
    start = datetime.fromtimestamp(start_ms / 1000, UTC).date()
    purchases: list[tuple[int, str, int]] = []
    for index in range(accounts):
        account = f"dormant-{index + 1:06d}"
        first = rng.randrange(_ACQUISITION_DAYS)
        chosen = [first] + [rng.randrange(first, days) for _ in range(events_per_account - 1)]
        for n, day in enumerate(sorted(chosen)):
            at = start_ms + day * DAY_MS + rng.randrange(8 * HOUR_MS, 22 * HOUR_MS)
            purchases.append((at, account, n))
        contract = start + timedelta(days=first)
        yield Record("account", account, {
            "account_id": account, "name": f"Dormant customer {index + 1}", "tier": "standard", "seats": 1,
            "arr": 0.0, "csm": "", "contract_start": contract.isoformat(),
            "renewal_date": (contract + timedelta(days=365)).isoformat()}, start_ms)
    purchases.sort()
    for at, account, n in purchases:
        yield Record("usage", account, {"event_id": f"{account}-{n}", "account_id": account, "user_id": account,
                                        "feature": "purchase", "occurred_at": at}, at)
