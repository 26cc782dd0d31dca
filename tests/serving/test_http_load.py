"""The HTTP API under load, over a real worker and a real Redis: requests queue, they do not fail."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest
import redis

from healthmon.serving.metrics import Metrics
from healthmon.serving.redis_view import RedisView
from tests.serving.conftest import make_snapshot

pytestmark = pytest.mark.integration

ACCOUNTS = [f"acc-load-{n}" for n in range(20)]


async def _seed(url: str, prefix: str) -> None:
    view = RedisView(url, prefix, Metrics())
    for account_id in ACCOUNTS:
        view.put_snapshot(account_id, make_snapshot(account_id))
    assert await view.flush()
    await view.close()


def _clean(url: str, prefix: str) -> None:
    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


async def _fire(base: str, paths: list[str]) -> list[tuple[int, dict, str | None]]:
    """GET every path at once (no client-side connection limit); return (status, body, Retry-After)."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                     timeout=aiohttp.ClientTimeout(total=120)) as session:
        async def get(path: str) -> tuple[int, dict, str | None]:
            async with session.get(base + path) as resp:
                return resp.status, await resp.json(content_type=None), resp.headers.get("Retry-After")

        return await asyncio.gather(*(get(p) for p in paths))


async def test_500_concurrent_account_reads_on_a_small_pool_all_answer_200(worker_factory):
    # Eight connections for 500 requests: without queueing, most of them would find the pool full.
    worker = worker_factory(redis={"max_connections": 8, "pool_timeout_seconds": 60.0})
    settings = worker.settings
    worker.wait_ready()
    try:
        await _seed(settings.redis.url, settings.redis.prefix)
        paths = [f"/accounts/{ACCOUNTS[n % len(ACCOUNTS)]}" for n in range(500)]
        answers = await _fire(worker.url(""), paths)
    finally:
        _clean(settings.redis.url, settings.redis.prefix)
    statuses = [status for status, _, _ in answers]
    assert statuses.count(503) == 0, [b for s, b, _ in answers if s == 503][:3]
    assert statuses == [200] * 500
    assert {body["account"]["account_id"] for _, body, _ in answers} == set(ACCOUNTS)
    assert all(body["source"] == "redis" for _, body, _ in answers)


async def test_requests_that_wait_longer_than_the_pool_timeout_get_429_with_retry_after_never_503(
        worker_factory, redis_server_factory):
    server = redis_server_factory()
    worker = worker_factory(redis={"url": server.url, "max_connections": 1, "pool_timeout_seconds": 0.2})
    settings = worker.settings
    worker.wait_ready()
    await _seed(settings.redis.url, settings.redis.prefix)
    # Redis answers nothing for 1.5 s (less than the 2 s socket timeout): whoever holds the one connection
    # waits it out, everyone else waits for that connection past the pool timeout.
    admin = server.client()
    admin.execute_command("CLIENT", "PAUSE", 1500, "ALL")
    answers = await _fire(worker.url(""), [f"/accounts/{ACCOUNTS[n % len(ACCOUNTS)]}" for n in range(50)])
    admin.close()
    statuses = [status for status, _, _ in answers]
    assert statuses.count(503) == 0, [b for s, b, _ in answers if s == 503][:3]
    assert set(statuses) <= {200, 429}
    busy = [(body, retry) for status, body, retry in answers if status == 429]
    assert busy, "the pause must have made requests wait past the pool timeout"
    for body, retry in busy:
        assert retry == "1"
        assert body["status"] == 429 and "too many concurrent requests" in body["error"]


def test_a_100kb_request_line_is_logged_as_one_line_without_a_traceback(worker_factory):
    worker = worker_factory()
    worker.wait_ready()
    with socket.create_connection(("127.0.0.1", worker.port), timeout=10) as sock:
        sock.sendall(b"GET /accounts/" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        reply = b""
        while chunk := sock.recv(65_536):
            reply += chunk
    assert reply.split(b"\r\n", 1)[0].endswith(b" 400 Bad Request"), reply[:200]
    assert worker.get("/healthz")[0] == 200  # the server goes on serving
    lines = worker.log_path.read_text(errors="replace").splitlines()
    bad = [line for line in lines if "bad HTTP request" in line]
    assert len(bad) == 1, worker.log_tail()
    assert "LineTooLong" in bad[0] and len(bad[0]) < 500
    assert not any("Traceback" in line or "Error handling request" in line for line in lines), worker.log_tail()
