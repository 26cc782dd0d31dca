"""A real local HTTP server standing in for an incoming webhook: answers a scripted status per request."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson

__all__ = ["Receiver", "receiver"]


class Receiver:
    """What the server answers (status, headers) in turn, and what it received."""

    def __init__(self, answers: list[tuple[int, dict[str, str]]]) -> None:
        self.answers = answers
        self.received: list[dict] = []
        self.url = ""


@contextmanager
def receiver(*answers: int | tuple[int, dict[str, str]]) -> Iterator[Receiver]:
    """Serve on a free loopback port; after the scripted answers, every request gets 200."""
    state = Receiver([a if isinstance(a, tuple) else (a, {}) for a in answers])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.received.append({"content_type": self.headers.get("Content-Type"), "body": orjson.loads(body)})
            status, headers = state.answers.pop(0) if state.answers else (200, {})
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            reply = b"ok" if status == 200 else b"no_service" if status == 404 else b"busy"
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/services/T000/B000/XXXX"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
