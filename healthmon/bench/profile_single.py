"""Profile one worker on dense single-event messages: where a message's time goes (issue #25 item 1).

It produces the dense workload as single-event messages, then runs one worker over them under
pyinstrument (run 3 of `healthmon bench`, alone) and prints where the profile is. BENCHMARKS.md's
"The single-event path" table reads it.

    python -m healthmon.bench.profile_single [--events 60000] [--workdir DIR] [--no-profile]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import uuid
from pathlib import Path

from healthmon.bench.options import LATENESS_S, PARTITIONS
from healthmon.bench.pipeline import PipelineRun, run_pipeline
from healthmon.bench.workload import dense_accounts, produce_messages, single_messages, workload_records
from healthmon.config import Settings
from healthmon.kafka.admin import ensure_topics
from healthmon.kafka.broker import EmbeddedBroker, free_port
from healthmon.kafka.connect import bootstrap_of

__all__ = ["profile_single"]


def profile_single(events: int, workdir: Path, broker_url: str = "", profile: bool = True) -> tuple[PipelineRun, int]:
    """Run one worker over `events` dense single-event messages; return the run and the messages sent."""
    broker = None if broker_url else EmbeddedBroker(Settings().kafka.tansu_bin, log_path=workdir / "tansu.log").start()
    url = broker_url or broker.url  # type: ignore[union-attr]
    try:
        run_id = uuid.uuid4().hex[:6]
        settings = Settings(kafka={"broker_url": url}, worker={"app_id": f"prof-{run_id}", "log_level": "warning"},
                            topics={"prefix": f"prof-{run_id}-", "partitions": PARTITIONS},
                            redis={"url": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
                                   "prefix": f"prof-{run_id}:"},
                            http={"port": free_port()}, store={"data_dir": workdir / "data"},
                            engine={"lateness_seconds": LATENESS_S})
        bootstrap = bootstrap_of(url)
        asyncio.run(ensure_topics(bootstrap, settings.topics, settings.kafka, app_id=settings.worker.app_id))
        accounts = dense_accounts(events)
        sent = asyncio.run(produce_messages(bootstrap, settings.topics.input_names,
                                            single_messages(workload_records(events, accounts, 42, "dense"))))
        return run_pipeline([settings], events + accounts, workdir, "single", profile=profile), sent.messages
    finally:
        if broker is not None:
            broker.stop()


def main() -> None:
    """Profile the single-event path and say where the profile is."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=60_000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--no-profile", action="store_true", help="time the run without the profiler")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="healthmon-profile-"))
    workdir.mkdir(parents=True, exist_ok=True)
    run, messages = profile_single(args.events, workdir, Settings().kafka.broker_url, profile=not args.no_profile)
    print(f"{messages:,} single-event messages; measured {run.events:,} events in {run.seconds:.1f} s, "
          f"{run.events_per_s:,.0f} events/s")
    if not args.no_profile:
        print(f"profile: {workdir / 'single-0.profile.txt'}")


if __name__ == "__main__":
    main()
