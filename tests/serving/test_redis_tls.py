"""The Redis view over TLS (`rediss://`) with a password or an ACL user, on a private redis-server."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from healthmon.config import RedisSettings, Settings
from healthmon.kafka.broker import free_port
from healthmon.serving.metrics import Metrics
from healthmon.serving.redis_clients import RedisRefused, check_redis, redis_kwargs
from healthmon.serving.redis_view import RedisView
from tests.conftest import settings_env
from tests.deploy.promstack import REPO
from tests.fixtures import WorkerProcess, isolated_settings, unique_id
from tests.serving.conftest import make_snapshot
from tests.tls import Pki, make_pki

pytestmark = pytest.mark.integration

PASSWORD = "default-user-pass"
ACL_USER, ACL_PASSWORD = "healthmon", "acl-user-pass"


class TlsRedis:
    """A redis-server listening only on a TLS port, with `requirepass` and one ACL user."""

    def __init__(self, workdir: Path, pki: Pki) -> None:
        self.workdir, self.pki, self.port = workdir, pki, free_port()
        self.proc: subprocess.Popen | None = None

    def url(self, credentials: str = "") -> str:
        return f"rediss://{credentials}127.0.0.1:{self.port}/0"

    def client(self, **kwargs: Any) -> redis.Redis:
        """Return a trusted, authenticated synchronous client."""
        return redis.Redis.from_url(self.url(), ssl_ca_certs=str(self.pki.ca), password=PASSWORD, socket_timeout=5,
                                    **kwargs)

    def start(self) -> TlsRedis:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (make test installs it)"
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = open(self.workdir / "redis.log", "ab")  # noqa: SIM115 - the child keeps it open
        self.proc = subprocess.Popen(
            [binary, "--port", "0", "--tls-port", str(self.port), "--bind", "127.0.0.1",
             "--tls-cert-file", str(self.pki.server_cert), "--tls-key-file", str(self.pki.server_key),
             "--tls-ca-cert-file", str(self.pki.ca), "--tls-auth-clients", "no", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir), "--requirepass", PASSWORD,
             "--user", ACL_USER, "on", f">{ACL_PASSWORD}", "~*", "&*", "+@all"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, (self.workdir / "redis.log").read_text(errors="replace")[-2000:]
            try:
                if self.client().ping():
                    return self
            except (redis.RedisError, OSError):
                time.sleep(0.1)
        raise AssertionError(f"TLS redis-server on {self.port} did not answer")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def tls_redis(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsRedis]:
    server = TlsRedis(tmp_path_factory.mktemp("tls-redis"), pki).start()
    yield server
    server.stop()


async def _round_trip(redis_settings: RedisSettings) -> dict[str, Any] | None:
    view = RedisView(redis_settings.url, f"hm-{unique_id()}:", Metrics(), client_kwargs=redis_kwargs(redis_settings))
    try:
        view.put_snapshot("acme", make_snapshot("acme"))
        assert await view.flush()
        return await view.get_account("acme")
    finally:
        await view.close()


def _password_file(tmp_path: Path, secret: str) -> Path:
    path = tmp_path / "redis-password"
    path.write_text(secret + "\n")
    return path


@pytest.mark.parametrize("how", ["password", "password_file", "url_password", "acl_user", "acl_user_in_url"])
async def test_view_writes_and_reads_over_tls(tls_redis: TlsRedis, pki: Pki, tmp_path: Path, how: str) -> None:
    values: dict[str, Any] = {"url": tls_redis.url(), "ssl_ca_file": pki.ca}
    if how == "password":
        values["password"] = PASSWORD
    elif how == "password_file":
        values["password_file"] = _password_file(tmp_path, PASSWORD)
    elif how == "url_password":
        values["url"] = tls_redis.url(f":{PASSWORD}@")
    elif how == "acl_user":
        values.update(username=ACL_USER, password_file=_password_file(tmp_path, ACL_PASSWORD))
    else:
        values["url"] = tls_redis.url(f"{ACL_USER}:{ACL_PASSWORD}@")
    assert await check_redis(RedisSettings(**values)) is None
    found = await _round_trip(RedisSettings(**values))
    assert found is not None and found["account"]["account_id"] == "acme"


#: (change to good settings, what the client library says, what the start-up check says)
REFUSALS = [
    ({"ssl_ca_file": "other_ca"}, "certificate verify failed",
     "refused by TLS: its certificate is not trusted ("),
    ({"password": None}, "authenticated",  # redis-py 8 says it in HELLO's words
     "refused authentication as 'default' ("),
    ({"password": "wrong"}, "invalid username-password pair",
     "refused authentication as 'default' ("),
    ({"username": ACL_USER, "password": "wrong"}, "invalid username-password pair",
     f"refused authentication as '{ACL_USER}' ("),
]


def _refused_settings(tls_redis: TlsRedis, pki: Pki, change: dict[str, Any]) -> RedisSettings:
    values: dict[str, Any] = {"url": tls_redis.url(), "ssl_ca_file": pki.ca, "password": PASSWORD}
    for key, value in change.items():
        values[key] = getattr(pki, value) if value == "other_ca" else value
    return RedisSettings(**{k: v for k, v in values.items() if v is not None})


@pytest.mark.parametrize("change, error, _refusal", REFUSALS)
async def test_view_refuses_a_wrong_ca_or_password(tls_redis: TlsRedis, pki: Pki, change: dict[str, Any],
                                                   error: str, _refusal: str) -> None:
    loaded = _refused_settings(tls_redis, pki, change)
    view = RedisView(loaded.url, f"hm-{unique_id()}:", Metrics(), client_kwargs=redis_kwargs(loaded))
    try:
        with pytest.raises((redis.RedisError, OSError)) as caught:
            await view.client.ping()  # type: ignore[union-attr]
        assert error in str(caught.value)
    finally:
        await view.close()


@pytest.mark.parametrize("change, _error, refusal", REFUSALS)
async def test_the_start_up_check_reports_a_refusal_naming_the_settings(tls_redis: TlsRedis, pki: Pki,
                                                                        change: dict[str, Any], _error: str,
                                                                        refusal: str) -> None:
    with pytest.raises(RedisRefused) as caught:
        await check_redis(_refused_settings(tls_redis, pki, change))
    message = str(caught.value)
    assert message.startswith(f"Redis at 127.0.0.1:{tls_redis.port} ") and refusal.split(" (")[0] in message, message
    if "ssl_ca_file" in change:
        assert f"check REDIS_SSL_CA_FILE={pki.other_ca}" in message, message
    else:
        assert "check REDIS_USERNAME and REDIS_PASSWORD" in message and PASSWORD not in message, message


async def test_an_unreachable_redis_is_reported_not_refused() -> None:
    found = await check_redis(RedisSettings(url=f"redis://127.0.0.1:{free_port()}/0"), timeout_s=2)
    assert found is not None and "cannot be reached" in found and "refused" not in found.split("(")[0], found


def test_a_worker_refused_by_redis_stops_at_start_naming_the_settings(tls_redis: TlsRedis, pki: Pki,
                                                                      tmp_path: Path) -> None:
    settings = isolated_settings("kafka://127.0.0.1:9", tls_redis.url(), tmp_path / "data", prefix="rr",
                                 redis={"ssl_ca_file": pki.ca, "password": "not-the-password-1234"})
    done = subprocess.run([sys.executable, "-m", "healthmon", "worker"], env=settings_env(settings), cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert f"Redis at 127.0.0.1:{tls_redis.port} refused authentication as 'default'" in done.stderr, done.stderr
    assert "check REDIS_USERNAME and REDIS_PASSWORD" in done.stderr, done.stderr
    assert "not-the-password-1234" not in done.stderr + done.stdout


def test_worker_keeps_its_view_in_tls_redis(tls_redis: TlsRedis, pki: Pki, tmp_path: Path,
                                            settings_factory: Callable[..., Settings],
                                            worker_factory: Callable[..., WorkerProcess]) -> None:
    settings = settings_factory(redis={"url": tls_redis.url(), "ssl_ca_file": pki.ca,
                                       "password_file": _password_file(tmp_path, PASSWORD)})
    worker = worker_factory(settings=settings)
    worker.wait_ready(120)
    client = tls_redis.client()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not list(client.scan_iter(match=settings.redis.prefix + "view:writer:*")):
        time.sleep(0.5)
    assert list(client.scan_iter(match=settings.redis.prefix + "view:writer:*")), worker.log_tail()
    assert worker.get("/readyz")[1]["redis"] is True
