"""The two floors, each run in its own child process: raw aiokafka, and a bare Faust agent.

    python -m healthmon.bench.floors raw BOOTSTRAP TOPICS GROUP EXPECT RESULT_PATH
    python -m healthmon.bench.floors faust EXPECT RESULT_PATH      (settings from the environment)

Each writes `{"events": n, "seconds": s}` to RESULT_PATH, timed from the first message consumed
to the last one decoded, so start-up and the group join are left out.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import orjson

__all__ = ["run_bare_faust", "run_raw"]


async def _raw(bootstrap: str, topics: list[str], group: str, expect: int) -> dict:
    from aiokafka import AIOKafkaConsumer

    from healthmon.config import Settings
    from healthmon.kafka.security import aiokafka_kwargs

    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, group_id=group,
                                auto_offset_reset="earliest", enable_auto_commit=False,
                                max_partition_fetch_bytes=4 * 1024 * 1024, **aiokafka_kwargs(Settings().kafka))
    await consumer.start()
    counts: dict[str | None, int] = {}
    n = 0
    first = 0.0
    try:
        while n < expect:
            batch = await consumer.getmany(timeout_ms=1000)
            for records in batch.values():
                if not first:
                    first = time.perf_counter()
                for record in records:
                    doc = orjson.loads(record.value)
                    account = doc.get("account_id") if isinstance(doc, dict) else None
                    counts[account] = counts.get(account, 0) + 1
                    n += 1
        seconds = time.perf_counter() - first
    finally:
        await consumer.stop()
    return {"events": n, "seconds": seconds, "accounts": len(counts)}


def run_raw(bootstrap: str, topics: list[str], group: str, expect: int, result: Path) -> None:
    """Consume `expect` messages of `topics` with aiokafka, decode each with orjson, count by account."""
    result.write_bytes(orjson.dumps(asyncio.run(_raw(bootstrap, topics, group, expect))))


def run_bare_faust(expect: int, result: Path) -> None:
    """Run a Faust worker (the pipeline's app settings) whose one agent only decodes each message."""
    import faust

    from healthmon.config import Settings
    from healthmon.kafka.offsets import verified_end_offsets
    from streams import faust_patches
    from streams.app import create_app

    faust_patches.install(verified_end_offsets)  # as the worker does, so the floor measures the same Faust
    settings = Settings()
    app = create_app(settings, settings.kafka.broker_url)
    channel = app.topic(*settings.topics.input_names.values(), key_type=bytes, value_type=bytes, key_serializer="raw",
                        value_serializer="raw")
    seen = {"n": 0, "first": 0.0}

    @app.agent(channel, name="bench.decode")
    async def decode(stream: faust.StreamT) -> None:
        async for event in stream.events():
            orjson.loads(event.message.value)
            n = seen["n"] = seen["n"] + 1
            if n == 1:
                seen["first"] = time.perf_counter()
            if n == expect:
                result.write_bytes(orjson.dumps({"events": n, "seconds": time.perf_counter() - seen["first"]}))
                os.kill(os.getpid(), signal.SIGTERM)

    faust.Worker(app, loglevel="WARNING", quiet=True, redirect_stdouts=False).execute_from_commandline()


def main(argv: list[str]) -> None:
    """Dispatch to a floor runner."""
    if argv[0] == "raw":
        run_raw(argv[1], argv[2].split(","), argv[3], int(argv[4]), Path(argv[5]))
    elif argv[0] == "faust":
        sys.argv = sys.argv[:1]  # Faust's worker parses the command line
        run_bare_faust(int(argv[1]), Path(argv[2]))
    else:
        raise SystemExit(f"unknown floor {argv[0]!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
