"""Real parts for the bridge tests: an Alertmanager process, a webhook receiver, and bridge processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from healthmon.kafka.broker import free_port
from tests.conftest import settings_env
from tests.deploy.promstack import tool


class Receiver:
    """A webhook receiver on loopback that keeps every notification Alertmanager sends."""

    def __init__(self) -> None:
        self.notifications: list[dict[str, Any]] = []
        received = self.notifications

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def alerts(self, account: str, status: str | None = None) -> list[dict[str, Any]]:
        """Return every alert of `account` in the notifications so far (with that status, if given)."""
        return [a for n in list(self.notifications) for a in n["alerts"]
                if a["labels"].get("account_id") == account and (status is None or a["status"] == status)]

    def wait_for(self, account: str, status: str, timeout_s: float = 20.0) -> dict[str, Any]:
        """Wait for a notification carrying `account`'s alert with `status`; return that alert."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = self.alerts(account, status)
            if found:
                return found[-1]
            time.sleep(0.1)
        seen = [(a["labels"].get("account_id"), a["status"], a["endsAt"])
                for n in self.notifications for a in n["alerts"]]
        raise AssertionError(f"no {status} notification for {account}; got {seen}")


@dataclass
class AlertmanagerProcess:
    """A real `alertmanager` on a free loopback port, clustering off, its own storage."""

    workdir: Path
    receiver_url: str
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AlertmanagerProcess:
        """Start (or restart) it with the same port and storage, and wait until it is ready."""
        config = {
            "route": {"receiver": "hook", "group_by": ["alertname", "account_id"], "group_wait": "1s",
                      "group_interval": "1s", "repeat_interval": "1h"},
            "receivers": [{"name": "hook", "webhook_configs": [{"url": self.receiver_url, "send_resolved": True}]}],
        }
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "alertmanager.yml").write_text(yaml.safe_dump(config))
        log = open(self.workdir / "alertmanager.log", "ab")
        self.proc = subprocess.Popen(
            [tool("alertmanager"), f"--config.file={self.workdir / 'alertmanager.yml'}",
             f"--storage.path={self.workdir / 'data'}", f"--web.listen-address=127.0.0.1:{self.port}",
             "--cluster.listen-address=", "--log.level=warn"], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError("alertmanager not ready:\n" + (self.workdir / "alertmanager.log").read_text())

    def stop(self) -> None:
        """SIGTERM it and wait."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(15)

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """Call Alertmanager's API v2 and return the decoded answer."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.url}/api/v2{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.loads(resp.read() or b"null")


@dataclass
class BridgeProcess:
    """A real `healthmon alertmanager` child process."""

    env: dict[str, str]
    args: list[str]
    log_path: Path
    port: int
    proc: subprocess.Popen | None = None

    def start(self) -> BridgeProcess:
        """Spawn the bridge and wait until it has rebuilt its firing set."""
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "healthmon", "alertmanager", *self.args], env=self.env,
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"bridge exited:\n{self.log_tail()}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1) as resp:
                    if json.loads(resp.read())["ready"]:
                        return self
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"bridge not ready:\n{self.log_tail()}")

    def metrics(self) -> str:
        """Return the bridge's /metrics text."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as resp:
            return resp.read().decode()

    def log_tail(self) -> str:
        """Return the end of the bridge's log."""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-40:]) if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL the bridge (a crash)."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, timeout_s: float = 15.0) -> float:
        """SIGTERM the bridge; return how long it took to exit (SIGKILL if it overruns)."""
        if self.proc is None or self.proc.poll() is not None:
            return 0.0
        started = time.monotonic()
        self.proc.terminate()
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        return time.monotonic() - started


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver for this test."""
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture
def alertmanager(tmp_path: Path, receiver: Receiver) -> Iterator[AlertmanagerProcess]:
    """A real Alertmanager that notifies `receiver`, grouped by alertname and account_id, 1 s waits."""
    am = AlertmanagerProcess(tmp_path / "am", receiver.url).start()
    yield am
    am.stop()


@pytest.fixture
def bridge_factory(tmp_path: Path) -> Iterator[Callable[..., BridgeProcess]]:
    """Build bridge processes for `settings` (not started); all are stopped at the end of the test."""
    bridges: list[BridgeProcess] = []

    def make(settings: Any, urls: list[str], resend_s: float = 1.0) -> BridgeProcess:
        env = settings_env(settings)
        args = [a for url in urls for a in ("--url", url)] + ["--resend-seconds", str(resend_s)]
        b = BridgeProcess(env, args, tmp_path / f"bridge-{len(bridges)}.log", settings.alerts.bridge_port)
        bridges.append(b)
        return b

    yield make
    for b in bridges:
        b.stop()
