"""Create the topics healthmon uses, with the configured partitions, before any client needs them."""

from __future__ import annotations

import asyncio
import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from healthmon.config import KafkaSettings, TopicSettings
from healthmon.kafka.security import aiokafka_kwargs

__all__ = ["ensure_topics"]

log = logging.getLogger(__name__)


async def ensure_topics(bootstrap: str, topics: TopicSettings, kafka: KafkaSettings, timeout_s: float = 15.0,
                        inputs: list[str] | None = None, app_id: str | None = None) -> None:
    """Create every topic healthmon uses with `topics.partitions` partitions, if missing.

    `inputs` are the inputs file's topics (the configured four without one): missing ones are created too.
    With `app_id`, that application's internal topics too (the worker's Faust app would create them
    with the same partitions; created here, they exist before the first message is repartitioned).
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000),
                                **aiokafka_kwargs(kafka))
    await asyncio.wait_for(admin.start(), timeout_s)
    try:
        existing = set(await admin.list_topics())
        wanted = [*topics.all_names, *(inputs or ()), *(topics.internal_names(app_id) if app_id is not None else [])]
        missing = [n for n in dict.fromkeys(wanted) if n not in existing]
        if missing:
            configs = {topics.input_names["account"]: {"cleanup.policy": "compact"}}
            try:
                await admin.create_topics([NewTopic(n, topics.partitions, 1, topic_configs=configs.get(n, {}))
                                           for n in missing])
            except TopicAlreadyExistsError:
                pass
            except KafkaError as exc:
                log.warning("creating topics %s: %s", missing, exc)
    finally:
        await admin.close()
