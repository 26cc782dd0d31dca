"""A private `redis-server` on a free loopback port, for tests that count commands or stop Redis."""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from healthmon.kafka.broker import free_port

__all__ = ["RedisServer"]


@dataclass
class RedisServer:
    """One redis-server child process that keeps its port across stop() and start()."""

    workdir: Path
    port: int = 0
    proc: subprocess.Popen | None = None

    def __post_init__(self) -> None:
        self.port = self.port or free_port()
        self.workdir.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        """Return the redis:// URL of this server (database 0)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        """Return a synchronous client."""
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def start(self, timeout_s: float = 20.0) -> RedisServer:
        """Start the server (no persistence) and wait until it answers PING."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise AssertionError("redis-server is not installed (make test installs it)")
        log = open(self.workdir / "redis.log", "ab")  # noqa: SIM115 - the child keeps it open
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir), "--protected-mode", "no"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"redis-server exited with {self.proc.returncode}: "
                                     f"{(self.workdir / 'redis.log').read_text(errors='replace')[-2000:]}")
            try:
                if self.client().ping():
                    return self
            except redis.RedisError:
                time.sleep(0.05)
        raise AssertionError(f"redis-server on port {self.port} did not answer in {timeout_s} s")

    def stop(self) -> None:
        """Kill the server (an outage: no save, connections dropped) and wait for it to exit."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None
