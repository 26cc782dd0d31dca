"""The score history's size in Redis: `history_bytes_per_account` (`MEMORY USAGE` of each account's key).

Generated traffic (the `mixed` scenario, a few more days than `HEALTHMON_HISTORY_DAYS`) is replayed through
the worker's own processor, as a backtest does; each account's history is then written to Redis by the
view's own writer, under a prefix of its own, measured and deleted. A byte count: machine load cannot move it.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import redis

from healthmon.backtest.files import write_input_files
from healthmon.backtest.inputs import file_names, merged
from healthmon.backtest.run import load_sorted
from healthmon.backtest.runner import Replay, replay
from healthmon.config import Settings
from healthmon.core import load_policy
from healthmon.core.history import decode
from healthmon.generator import generate
from healthmon.serving.metrics import Metrics
from healthmon.serving.redis_clients import redis_kwargs
from healthmon.serving.redis_view import RedisView

__all__ = ["HISTORY_TARGET_BYTES", "history_bytes_per_account"]

#: issue #23: an account's 180 days of history take at most this much Redis memory
HISTORY_TARGET_BYTES = 1024


async def _histories(settings: Settings, accounts: int, days: int, seed: int) -> dict[str, bytes]:
    """Replay generated traffic; return each account's encoded history."""
    traffic = generate(accounts=accounts, scenario="mixed", seed=seed, days=days)
    with tempfile.TemporaryDirectory(prefix="healthmon-history-bench-") as tmp:
        write_input_files(traffic.records(), Path(tmp), file_names(settings))
        sorters = await load_sorted(settings, Path(tmp), None)
        run = Replay(settings, load_policy(settings.engine.policy_file), processing_ms=int(time.time() * 1000),
                     on_alert=lambda a: None)
        try:
            await replay(merged(dict(sorters)), [run], settings.topics.input_names)
        finally:
            for sorter in sorters.values():
                sorter.close()
    return {account: state.history for account, state in run.processor.states.live.items() if state.history}


async def _measure(settings: Settings, histories: dict[str, bytes]) -> list[int]:
    """Write the histories with the view's writer; return each key's `MEMORY USAGE`; delete them."""
    prefix = f"healthmon-bench-{uuid.uuid4().hex[:12]}:"
    url, kwargs = settings.redis.url, redis_kwargs(settings.redis)
    view = RedisView(url, prefix, Metrics(), client_kwargs=kwargs)
    client = redis.Redis.from_url(url, **kwargs)
    try:
        for account, blob in histories.items():
            view.put_history(account, blob)
        if not await view.flush():
            raise RuntimeError(f"cannot write the score histories to Redis at {url}")
        return [int(client.memory_usage(view.history_key(a), samples=0) or 0) for a in histories]
    finally:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
        await view.close()


def history_bytes_per_account(settings: Settings, accounts: int = 50, seed: int = 42) -> dict[str, Any]:
    """Return the mean and largest Redis memory of an account's full score history, and what was measured."""
    days = settings.engine.history_days + 10
    histories = asyncio.run(_histories(settings, accounts, days, seed))
    if not histories:
        raise RuntimeError("the replay left no score history to measure")
    sizes = asyncio.run(_measure(settings, histories))
    kept = [len(decode(h)) for h in histories.values()]
    return {"history_bytes_per_account": round(sum(sizes) / len(sizes), 1), "history_bytes_max": max(sizes),
            "history_accounts": len(sizes), "history_days": max(kept),
            "history_encoded_bytes_per_account": round(sum(map(len, histories.values())) / len(histories), 1)}
