"""Over the real broker: a worker reads the topics an inputs file lists, in their formats, and links accounts."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest
import yaml

from healthmon.kafka.broker import free_port
from tests.fixtures import metric_value

pytestmark = pytest.mark.integration


def _at(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


def _track(message_id: str, user: str, at_ms: int, group: str | None = None) -> bytes:
    call = {"type": "track", "messageId": message_id, "userId": user, "event": "reports", "timestamp": _at(at_ms)}
    if group:
        call["context"] = {"groupId": group}
    return orjson.dumps(call)


def _inputs(tmp_path: Path, prefix: str, doc: object) -> Path:
    path = tmp_path / "inputs.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _wait_metric(worker, name: str, want: float, timeout_s: float = 60, **labels: str) -> float:
    deadline = time.monotonic() + timeout_s
    value = 0.0
    while time.monotonic() < deadline:
        _, text = worker.get("/metrics")
        value = metric_value(text, name, **labels)
        if value >= want:
            return value
        time.sleep(0.3)
    return value


async def test_segment_tracks_resolve_through_group_links_before_after_and_never(worker_factory, settings_factory,
                                                                                 topic_io, tmp_path) -> None:
    base = settings_factory()
    prefix = base.topics.prefix
    tracks, groups = f"{prefix}segment-tracks", f"{prefix}segment-groups"
    path = _inputs(tmp_path, prefix, {"inputs": [{"topic": tracks, "kind": "usage", "format": "segment"},
                                                 {"topic": groups, "kind": "accounts", "format": "segment"}]})
    settings = base.replace(ingest={"inputs_file": str(path), "link_wait_seconds": 3})
    worker = worker_factory(settings)
    worker.wait_ready()
    now = int(time.time() * 1000) - 60_000
    group = {"type": "group", "userId": "u-before", "groupId": "acc-1", "messageId": "g1", "timestamp": _at(now)}
    await topic_io.send(groups, [orjson.dumps(group)], partition=0)
    # the link's way through the link table takes a moment: the tracks of u-before may wait for it too
    await topic_io.send(tracks, [_track("t-direct", "u-x", now + 1, "acc-1"), _track("t-before", "u-before", now + 2),
                                 _track("t-after", "u-after", now + 3), _track("t-never", "u-never", now + 4)],
                        partition=1)
    later = {"type": "group", "userId": "u-after", "groupId": "acc-2", "messageId": "g2", "timestamp": _at(now + 5)}
    await topic_io.send(groups, [orjson.dumps(later)], partition=2)
    ok = _wait_metric(worker, "healthmon_events_total", 3, topic="product-usage", outcome="ok")
    assert ok == 3, worker.log_tail()
    [record] = await topic_io.read(settings.topics.deadletter_name, min_count=1, timeout_s=60)
    letter = orjson.loads(record.value)
    assert letter["reason"] == "unknown_account" and "'u-never'" in letter["error"], letter
    assert letter["source_topic"] == tracks
    _, text = worker.get("/metrics")
    assert metric_value(text, "healthmon_link_waits_total", outcome="expired") == 1
    # once nothing waits, every input offset is committed
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if await topic_io.committed(settings.worker.app_id, [tracks], 4) == 4:
            break
        time.sleep(0.3)
    assert await topic_io.committed(settings.worker.app_id, [tracks], 4) == 4, worker.log_tail()
    assert worker.proc.poll() is None


def test_a_broken_inputs_file_stops_the_worker_naming_each_error(worker_factory, settings_factory, tmp_path) -> None:
    path = _inputs(tmp_path, "", {"inputs": [{"topic": "t", "kind": "usage", "format": "segmnt"},
                                             {"topic": "z", "kind": "tickets", "format": "zendesk",
                                              "account_link": "org"}]})
    worker = worker_factory(settings_factory(ingest={"inputs_file": str(path)}))
    assert worker.proc.wait(60) != 0
    log = worker.log_tail()
    assert "invalid inputs file (HEALTHMON_INPUTS_FILE)" in log and str(path) in log
    assert "inputs[0].format: unknown format 'segmnt'" in log
    assert "inputs[1].account_link: no input declares link 'org'" in log


async def test_a_link_written_by_one_worker_releases_an_event_another_worker_holds(worker_factory, settings_factory,
                                                                                   topic_io, tmp_path) -> None:
    base = settings_factory()
    prefix = base.topics.prefix
    tracks, groups = f"{prefix}segment-tracks", f"{prefix}segment-groups"
    path = _inputs(tmp_path, prefix, {"inputs": [{"topic": tracks, "kind": "usage", "format": "segment"},
                                                 {"topic": groups, "kind": "accounts", "format": "segment"}]})
    settings = base.replace(ingest={"inputs_file": str(path), "link_wait_seconds": 60})
    other = settings.replace(http={"port": free_port()}, store={"data_dir": str(tmp_path / "data-2")})
    first, second = worker_factory(settings), worker_factory(other)
    first.wait_ready()
    second.wait_ready()
    # both workers own partitions before anything is sent
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all("partitions" in w.log_path.read_text(errors="replace")
                                                  for w in (first, second)):
        time.sleep(0.3)
    now = int(time.time() * 1000) - 60_000
    # each user's track on partition p, its group call on partition p + 1: with two workers of four
    # partitions, at least two of these pairs have the event and its link on different workers
    for n in range(4):
        await topic_io.send(tracks, [_track(f"t{n}", f"u{n}", now + n)], partition=n)
    for n in range(4):
        group = {"type": "group", "userId": f"u{n}", "groupId": f"acc-{n}", "messageId": f"g{n}",
                 "timestamp": _at(now)}
        await topic_io.send(groups, [orjson.dumps(group)], partition=(n + 1) % 4)
    deadline = time.monotonic() + 50
    total = 0.0
    while time.monotonic() < deadline:
        texts = [w.get("/metrics")[1] for w in (first, second)]
        total = sum(metric_value(t, "healthmon_events_total", topic="product-usage", outcome="ok") for t in texts)
        if total >= 4:
            break
        time.sleep(0.5)
    diag = [(metric_value(t, "healthmon_messages_total", topic="accounts"),
             metric_value(t, "healthmon_messages_total", topic="product-usage"),
             metric_value(t, "healthmon_link_wait_events")) for t in texts]
    assert total == 4, f"(accounts messages, usage messages, waiting) per worker: {diag}"
    assert sum(metric_value(t, "healthmon_link_waits_total", outcome="expired") for t in texts) == 0
