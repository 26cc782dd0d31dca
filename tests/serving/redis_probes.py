"""Look at what a Redis view did, from a plain client of the same Redis."""

from __future__ import annotations

import redis

from healthmon.serving.redis_view import RedisView


def sync_client(view: RedisView) -> redis.Redis:
    kwargs = view.client.connection_pool.connection_kwargs
    return redis.Redis(host=kwargs["host"], port=kwargs["port"], db=kwargs.get("db", 0))


def command_calls(client: redis.Redis) -> dict[str, int]:
    """Return calls per command since the last CONFIG RESETSTAT (a private server: no one else counts)."""
    return {name.removeprefix("cmdstat_"): stats["calls"] for name, stats in client.info("commandstats").items()
            if name != "cmdstat_config|resetstat"}


def members(client: redis.Redis, key: str) -> list[tuple[str, float]]:
    return [(m.decode(), s) for m, s in client.zrange(key, 0, -1, withscores=True)]


def count_pipelines(view: RedisView) -> list[int]:
    """Count the pipelines the view executes (each is one round trip to Redis)."""
    executed: list[int] = []
    make_pipeline = view.client.pipeline

    def pipeline(*args, **kwargs):
        pipe = make_pipeline(*args, **kwargs)
        execute = pipe.execute

        async def counted(*a, **k):
            executed.append(len(pipe.command_stack))
            return await execute(*a, **k)

        pipe.execute = counted
        return pipe

    view.client.pipeline = pipeline
    return executed
