"""A processor reading an inputs file, with stand-in output topics (shared by the mapped-input tests)."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

from healthmon.config import Settings
from healthmon.core import Engine, EngineConfig, PipelineClock, load_policy
from healthmon.ingest.formats.spec import InputsFile
from healthmon.pipeline.processor import Processor
from healthmon.serving.metrics import Metrics
from healthmon.serving.redis_view import RedisView
from tests.pipeline.test_processor import Outbox


def mapped_processor(inputs: InputsFile, partitions: int, wall_ms: Callable[[], int], *,
                     table: dict[bytes, bytes] | None = None, links: dict[bytes, bytes] | None = None,
                     traits: dict[bytes, bytes] | None = None, wait_s: float = 30.0,
                     view: RedisView | None = None) -> Processor:
    """Return a processor of `inputs` over `table`, `links` and `traits` (new dicts when not given), its outputs
    kept; `view` is its Redis view (none by default)."""
    settings = Settings(redis={"url": ""}, topics={"partitions": partitions}, ingest={"link_wait_seconds": wait_s})
    policy = load_policy(settings.engine.policy_file)
    config = EngineConfig.from_settings(settings.engine)
    engine = Engine(policy, config)
    kind_by_name = {spec.topic: spec.kind for spec in inputs.inputs} | {"repartition": "repartition"}
    topics = SimpleNamespace(repartition=Outbox(), alerts=Outbox(), deadletter=Outbox(), scores=None,
                             kind_by_name=kind_by_name)
    metrics = Metrics()
    return Processor(settings, engine, {} if table is None else table, topics, metrics,
                     view or RedisView("", "test:", metrics), PipelineClock(policy, config, clock=lambda: 0),
                     tick_interval_ms=engine.tick_interval_ms, wall_ms=wall_ms, inputs=inputs,
                     links={} if links is None else links, traits={} if traits is None else traits)
