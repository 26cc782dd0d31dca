"""A SASL-terminating Kafka proxy (PLAIN, SCRAM-SHA-256/512): logs each connection in as a broker does, then relays it.

The embedded Tansu 0.6 can require SCRAM but cannot be given a user with its memory engine, so the
tests put this in front of it (optionally behind TLS, for SASL_SSL) and advertise the proxy's port:
every client connection then passes a real SaslHandshake v1 and SaslAuthenticate exchange before any
other request reaches the broker, exactly as with a managed cluster.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import ssl
import struct
import threading

from healthmon.kafka.broker import free_port

__all__ = ["SaslProxy"]

API_VERSIONS, SASL_HANDSHAKE, SASL_AUTHENTICATE = 18, 17, 36
UNSUPPORTED_SASL_MECHANISM, SASL_AUTHENTICATION_FAILED = 33, 58
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


def _string(value: str | None) -> bytes:
    if value is None:
        return struct.pack(">h", -1)
    data = value.encode()
    return struct.pack(">h", len(data)) + data


def _frame(correlation_id: int, body: bytes) -> bytes:
    payload = struct.pack(">i", correlation_id) + body
    return struct.pack(">i", len(payload)) + payload


class SaslProxy:
    """Accept Kafka connections on a free loopback port; only SASL logins of `users` reach `target_port`."""

    def __init__(self, target_port: int, users: dict[str, str], context: ssl.SSLContext | None = None,
                 port: int = 0) -> None:
        self.target_port, self.users, self.context = target_port, users, context
        self.port = port or free_port()
        self.logins: list[str] = []  # "user/mechanism" of each login
        self.refusals = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="sasl-proxy", daemon=True)
        self._server: asyncio.AbstractServer | None = None

    def start(self) -> SaslProxy:
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

    def _step(self, state: dict, token: bytes) -> tuple[bytes | None, bool]:
        """Answer one SASL token: (server bytes, or None to refuse; whether the login is complete)."""
        if state["mechanism"] == "PLAIN":
            _authzid, state["user"], password = token.decode().split("\0")
            return (b"" if self.users.get(state["user"]) == password else None), True
        digest = "sha256" if state["mechanism"] == "SCRAM-SHA-256" else "sha512"
        if "auth" not in state:  # client-first: "n,,n=<user>,r=<client nonce>"
            bare = token.decode().split(",", 2)[2]
            fields = dict(item.split("=", 1) for item in bare.split(","))
            state["user"] = fields["n"]
            if state["user"] not in self.users:
                return None, True
            salt, nonce = os.urandom(16), fields["r"] + base64.b64encode(os.urandom(18)).decode()
            server_first = f"r={nonce},s={base64.b64encode(salt).decode()},i=4096"
            state.update(auth=f"{bare},{server_first}", salt=salt, nonce=nonce)
            return server_first.encode(), False
        # client-final: "c=biws,r=<nonce>,p=<proof>"
        final = token.decode()
        without_proof, _, proof = final.rpartition(",p=")
        if f"r={state['nonce']}" not in without_proof.split(","):
            return None, True
        auth = f"{state['auth']},{without_proof}".encode()
        salted = hashlib.pbkdf2_hmac(digest, self.users[state["user"]].encode(), state["salt"], 4096)
        client_key = hmac.digest(salted, b"Client Key", digest)
        signature = hmac.digest(hashlib.new(digest, client_key).digest(), auth, digest)
        given = bytes(a ^ b for a, b in zip(base64.b64decode(proof), signature))
        if not hmac.compare_digest(given, client_key):
            return None, True
        server_signature = hmac.digest(hmac.digest(salted, b"Server Key", digest), auth, digest)
        return b"v=" + base64.b64encode(server_signature), True

    async def _authenticate(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                            up_reader: asyncio.StreamReader, up_writer: asyncio.StreamWriter) -> bool:
        """Run the pre-authentication requests; return True once a login succeeded."""
        state: dict = {}
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
                known = mechanism in MECHANISMS
                body = struct.pack(">hi", 0 if known else UNSUPPORTED_SASL_MECHANISM, len(MECHANISMS))
                writer.write(_frame(correlation_id, body + b"".join(_string(m) for m in MECHANISMS)))
                state = {"mechanism": mechanism} if known else {}
            elif api_key == SASL_AUTHENTICATE and state:
                offset = _body_offset(request)
                length = struct.unpack(">i", request[offset:offset + 4])[0]
                reply, done = self._step(state, request[offset + 4:offset + 4 + length])
                ok = reply is not None
                body = struct.pack(">h", 0 if ok else SASL_AUTHENTICATION_FAILED)
                refusal = f"Authentication failed: invalid credentials for user {state.get('user')}"
                body += _string(None if ok else refusal)
                body += struct.pack(">i", len(reply or b"")) + (reply or b"")
                if version >= 1:
                    body += struct.pack(">q", 0)  # session lifetime: unlimited
                writer.write(_frame(correlation_id, body))
                await writer.drain()
                if not ok:
                    self.refusals += 1
                    return False
                if done:
                    self.logins.append(f"{state['user']}/{state['mechanism']}")
                    return True
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
