"""Whether an input topic itself still grows, and how far our consumer group lags it.

`ingest_stalled` means that a source went quiet. From inside one worker a quiet source and a consumer
of ours that lags or froze look alike: its events stop arriving either way. The broker tells them
apart: a source that went quiet stops growing (the end offsets of its topic stand still), while a
lagging consumer leaves a topic that grows past its committed offsets. `InputGrowth` keeps what a
poll of the broker saw: when each input topic last grew, and the group's lag (end offsets minus
committed offsets, over every partition, whichever worker owns it, so that the other workers report
the lag of a frozen one).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition

__all__ = ["InputGrowth", "InputPoller"]

log = logging.getLogger(__name__)


@dataclass
class InputGrowth:
    """What the polls saw of each input topic (by name): its size, when it last grew, the group's lag."""

    #: how long a topic that did not grow counts as still growing (`HEALTHMON_STALL_IDLE_SECONDS`)
    idle_ms: int
    wall_ms: Callable[[], int]
    #: topic -> (sum of its end offsets, wall clock when that last changed)
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: topic -> messages past the group's committed offsets
    lag: dict[str, int] = field(default_factory=dict)
    #: wall clock of the last successful poll (0: none yet)
    polled_ms: int = 0

    def record(self, ends: Mapping[str, int], committed: Mapping[str, int]) -> None:
        """Note a poll: each topic's summed end offsets, and the group's summed committed offsets."""
        now = self.wall_ms()
        for topic, size in ends.items():
            before = self.sizes.get(topic)
            if before is None or before[0] != size:
                self.sizes[topic] = (size, now)
            self.lag[topic] = max(0, size - committed.get(topic, 0))
        self.polled_ms = now

    def stopped(self, topic: str) -> bool:
        """Return whether the topic is known to have stopped growing (not grown for `idle_ms`, polled since).

        Unknown (never polled, or no poll lately: the broker is unreachable) is not stopped: a stall is
        announced only on the broker's word.
        """
        now = self.wall_ms()
        seen = self.sizes.get(topic)
        if seen is None or now - self.polled_ms > max(self.idle_ms, 1) // 2 + 5_000:
            return False
        return now - seen[1] >= self.idle_ms


class InputPoller:
    """Poll the broker for the input topics' end offsets and the group's committed offsets."""

    def __init__(self, bootstrap: str, group_id: str, topics: list[str], partitions: int, growth: InputGrowth,
                 client_kwargs: dict[str, Any]) -> None:
        self.bootstrap, self.group_id, self.topics, self.growth = bootstrap, group_id, topics, growth
        self.partitions = partitions
        self._kwargs = client_kwargs
        self._consumer: AIOKafkaConsumer | None = None
        self._admin: AIOKafkaAdminClient | None = None

    async def poll(self) -> bool:
        """Poll once; return False (and keep the last figures) if the broker did not answer."""
        try:
            if self._consumer is None:
                self._consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False,
                                                  **self._kwargs)
                await self._consumer.start()
                self._admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, **self._kwargs)
                await self._admin.start()
            assert self._admin is not None
            tps = [TopicPartition(t, p) for t in self.topics for p in range(self.partitions)]
            ends = await self._consumer.end_offsets(tps)
            committed = await self._admin.list_consumer_group_offsets(self.group_id, partitions=tps)
        except Exception as exc:  # noqa: BLE001 - unknown is not stopped; the broker watch reports outages
            log.debug("input offsets poll failed: %s", exc)
            await self.close()
            return False
        by_topic: dict[str, int] = {t: 0 for t in self.topics}
        done: dict[str, int] = {t: 0 for t in self.topics}
        for tp, end in ends.items():
            by_topic[tp.topic] += int(end or 0)
        for tp, meta in committed.items():
            if meta is not None and meta.offset > 0:
                done[tp.topic] += meta.offset
        self.growth.record(by_topic, done)
        return True

    async def close(self) -> None:
        """Close the clients (a later poll opens them again)."""
        consumer, admin, self._consumer, self._admin = self._consumer, self._admin, None, None
        for client in (consumer, admin):
            if client is not None:
                try:
                    await client.close() if isinstance(client, AIOKafkaAdminClient) else await client.stop()
                except Exception:  # noqa: BLE001
                    pass
