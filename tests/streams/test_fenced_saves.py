"""A worker put out of its group saves nothing: its older states must not follow the new owner's."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from healthmon.config import Settings
from streams.consumer_probes import membership_lost
from streams.hooks import SaveStatesBeforeCommit
from tests.pipeline.test_processor import _messages, _processor


def _worked(tmp_path) -> tuple:
    settings = Settings(kafka={"broker_url": "kafka://127.0.0.1:9"}, redis={"url": ""}, topics={"partitions": 4},
                        store={"data_dir": tmp_path})
    table: dict[bytes, bytes] = {}
    processor = _processor(settings, table)

    async def run() -> None:
        for message, _ in _messages(settings, accounts=4, days=3)[:200]:
            await processor.on_message(*message)

    asyncio.run(run())
    assert processor.states.unsaved
    return processor, table


def test_a_member_of_the_group_saves_its_states_at_a_commit(tmp_path):
    processor, table = _worked(tmp_path)
    SaveStatesBeforeCommit(processor, fenced=lambda: False).on_commit_initiated(None)
    assert table and not processor.states.unsaved


def test_a_fenced_worker_saves_nothing_and_drops_its_live_states(tmp_path):
    processor, table = _worked(tmp_path)
    SaveStatesBeforeCommit(processor, fenced=lambda: True).on_commit_initiated(None)
    assert table == {} and not processor.states.live and not processor.states.unsaved


def _app(member_id: str, generation: int) -> SimpleNamespace:
    coordinator = SimpleNamespace(member_id=member_id, generation=generation)
    return SimpleNamespace(consumer=SimpleNamespace(_thread=SimpleNamespace(_consumer=SimpleNamespace(
        _coordinator=coordinator))))


def test_membership_is_lost_when_the_client_reset_its_member_id_or_generation():
    assert not membership_lost(_app("faust-1", 6))()  # type: ignore[arg-type]
    assert membership_lost(_app("", -1))()  # type: ignore[arg-type]
    assert membership_lost(_app("faust-1", -1))()  # type: ignore[arg-type]
    assert not membership_lost(SimpleNamespace(consumer=None))()  # type: ignore[arg-type]
