"""Child processes of the benchmark: spawn, sample memory, read a worker's counters, stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil

from healthmon.config import Settings
from healthmon.config import settings_env as environment
from healthmon.core.compiled import PURE_ENV

__all__ = ["Child", "settings_env", "worker_command"]


def settings_env(settings: Settings) -> dict[str, str]:
    """Return the environment that reproduces `settings` in a child process."""
    # Settings come from `settings` only; the core's run-time switch is not a setting and is passed on.
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEALTHMON_") or k == PURE_ENV}
    env.update(environment(settings))
    return env


def worker_command(profile_path: Path | None = None) -> list[str]:
    """Return the command of a `healthmon worker`, under pyinstrument when `profile_path` is given."""
    if profile_path is None:
        return [sys.executable, "-m", "healthmon", "worker"]
    return [sys.executable, "-m", "pyinstrument", "--renderer", "text", "--show-all", "-o", str(profile_path),
            "-m", "healthmon", "worker"]


class Child:
    """A child process with its log in a file and its peak resident memory sampled."""

    def __init__(self, argv: list[str], env: dict[str, str], log_path: Path, port: int | None = None) -> None:
        self.argv = argv
        self.log_path = log_path
        self.port = port
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT)
        self._ps = psutil.Process(self.proc.pid)
        self.peak_rss_bytes = 0
        self._events_total = 0.0

    def sample(self) -> None:
        """Record the current resident memory if it is a new peak."""
        try:
            self.peak_rss_bytes = max(self.peak_rss_bytes, self._ps.memory_info().rss)
        except psutil.Error:
            pass

    def cpu_seconds(self) -> float:
        """Return the user and system CPU seconds the process has used (0 once it is gone)."""
        try:
            times = self._ps.cpu_times()
        except psutil.Error:
            return 0.0
        return times.user + times.system

    def alive(self) -> bool:
        """Return whether the process still runs."""
        return self.proc.poll() is None

    def get(self, path: str, timeout_s: float = 5.0) -> tuple[int, bytes]:
        """GET `path` on the child's HTTP port; (0, b"") when nothing answers."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=timeout_s) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except OSError:
            return 0, b""

    def events_total(self) -> float:
        """Return the sum of `healthmon_events_total` over every topic and outcome.

        A busy worker may not answer within the timeout: its last answer stands (0 before any), so a
        sum over several workers never drops and the measured span does not start late.
        """
        status, body = self.get("/metrics?name[]=healthmon_events_total")
        if status != 200:
            return self._events_total
        total = 0.0
        for line in body.split(b"\n"):
            if line.startswith(b"healthmon_events_total{"):
                total += float(line.rsplit(b" ", 1)[1])
        self._events_total = total
        return total

    def wait_ready(self, timeout_s: float = 120.0) -> None:
        """Block until the worker's /readyz answers 200."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.argv[-1]} exited with {self.proc.returncode}:\n{self.log_tail()}")
            if self.get("/readyz", timeout_s=2.0)[0] == 200:
                return
            time.sleep(0.2)
        raise RuntimeError(f"worker not ready in {timeout_s:.0f} s:\n{self.log_tail()}")

    def wait(self, timeout_s: float) -> int | None:
        """Wait for the process to exit by itself; return its exit code (None on timeout)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.sample()
            if not self.alive():
                return self.proc.returncode
            time.sleep(0.1)
        return None

    def stop(self, timeout_s: float = 60.0) -> int | None:
        """SIGTERM the process and wait (SIGKILL if it hangs); return its exit code."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode

    def log_tail(self, lines: int = 40) -> str:
        """Return the end of the child's log."""
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
