"""A SASL/PLAIN-terminating Kafka proxy: authenticates each connection as a broker does, then relays it.

The embedded Tansu 0.6 can require SCRAM but cannot be given a user with its memory engine, so the
tests put this in front of it (optionally behind TLS, for SASL_SSL) and advertise the proxy's port:
every client connection then passes a real SaslHandshake v1 and SaslAuthenticate exchange before any
other request reaches the broker, exactly as with a managed cluster.
"""

from __future__ import annotations

import asyncio
import ssl
import struct
import threading

from healthmon.broker import free_port

__all__ = ["SaslPlainProxy"]

API_VERSIONS, SASL_HANDSHAKE, SASL_AUTHENTICATE = 18, 17, 36
UNSUPPORTED_SASL_MECHANISM, SASL_AUTHENTICATION_FAILED, ILLEGAL_SASL_STATE = 33, 58, 34


def _string(value: str | None) -> bytes:
    if value is None:
        return struct.pack(">h", -1)
    data = value.encode()
    return struct.pack(">h", len(data)) + data


def _frame(correlation_id: int, body: bytes) -> bytes:
    payload = struct.pack(">i", correlation_id) + body
    return struct.pack(">i", len(payload)) + payload


class SaslPlainProxy:
    """Accept Kafka connections on a free loopback port; only PLAIN logins from `users` reach `target_port`."""

    def __init__(self, target_port: int, users: dict[str, str], context: ssl.SSLContext | None = None,
                 port: int = 0) -> None:
        self.target_port, self.users, self.context = target_port, users, context
        self.port = port or free_port()
        self.logins: list[str] = []  # user names that authenticated
        self.refusals = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="sasl-proxy", daemon=True)
        self._server: asyncio.AbstractServer | None = None

    def start(self) -> "SaslPlainProxy":
        """Listen and return once the port accepts connections."""
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", self.port, ssl=self.context), self._loop).result(10)
        return self

    def stop(self) -> None:
        """Close the listener and stop the thread."""
        if self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        try:
            if await self._authenticate(reader, writer, up_reader, up_writer):
                await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except (asyncio.IncompleteReadError, OSError, ssl.SSLError):
            pass
        finally:
            writer.close()
            up_writer.close()

    async def _authenticate(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                            up_reader: asyncio.StreamReader, up_writer: asyncio.StreamWriter) -> bool:
        """Run the pre-authentication requests; return True once a login succeeded."""
        mechanism_ok = False
        while True:
            size = struct.unpack(">i", await reader.readexactly(4))[0]
            request = await reader.readexactly(size)
            api_key, version, correlation_id = struct.unpack(">hhi", request[:8])
            if api_key == API_VERSIONS:  # the broker's own answer, so clients pick its versions
                up_writer.write(struct.pack(">i", size) + request)
                await up_writer.drain()
                answer_size = await up_reader.readexactly(4)
                writer.write(answer_size + await up_reader.readexactly(struct.unpack(">i", answer_size)[0]))
            elif api_key == SASL_HANDSHAKE:
                mechanism = _read_string(request, _body_offset(request))
                mechanism_ok = mechanism == "PLAIN"
                error = 0 if mechanism_ok else UNSUPPORTED_SASL_MECHANISM
                writer.write(_frame(correlation_id, struct.pack(">h", error) + struct.pack(">i", 1) + _string("PLAIN")))
            elif api_key == SASL_AUTHENTICATE and mechanism_ok:
                offset = _body_offset(request)
                length = struct.unpack(">i", request[offset:offset + 4])[0]
                _authzid, user, password = request[offset + 4:offset + 4 + length].decode().split("\0")
                ok = self.users.get(user) == password
                body = struct.pack(">h", 0 if ok else SASL_AUTHENTICATION_FAILED)
                body += _string(None if ok else f"Authentication failed: invalid credentials for user {user}")
                body += struct.pack(">i", 0)  # no server bytes for PLAIN
                if version >= 1:
                    body += struct.pack(">q", 0)  # session lifetime: unlimited
                writer.write(_frame(correlation_id, body))
                await writer.drain()
                if ok:
                    self.logins.append(user)
                    return True
                self.refusals += 1
                return False
            else:  # anything else before a login: a broker drops the connection
                self.refusals += 1
                return False
            await writer.drain()


def _body_offset(request: bytes) -> int:
    """Return where a request's body starts: after key, version, correlation id and client id (header v1)."""
    return 10 + max(struct.unpack(">h", request[8:10])[0], 0)


def _read_string(data: bytes, offset: int) -> str:
    length = struct.unpack(">h", data[offset:offset + 2])[0]
    return data[offset + 2:offset + 2 + length].decode()


async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    try:
        while data := await src.read(65536):
            dst.write(data)
            await dst.drain()
    except (OSError, ssl.SSLError):
        pass
    finally:
        dst.close()
