"""A local stand-in for Slack's Socket Mode WebSocket: handshake, `hello`, envelopes, and their acks.

Just enough of RFC 6455 for one client: the upgrade handshake, unmasked text frames from us, masked
frames from the client (text, ping, close). `send_envelope()` pushes an interaction the way Slack
does; `acks` collects the `envelope_id`s the app acknowledged.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import struct
import threading
from typing import Any

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class FakeSocketMode:
    def __init__(self) -> None:
        self.acks: list[str] = []
        self.connected = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._client: socket.socket | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, daemon=True, name="FakeSocketMode")

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._server.getsockname()[1]}/link/?ticket=fake"

    def start(self) -> FakeSocketMode:
        self._thread.start()
        return self

    def stop(self) -> None:
        for sock in (self._client, self._server):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()

    def send_envelope(self, envelope_id: str, kind: str, payload: dict[str, Any]) -> None:
        self._send(
            json.dumps(
                {
                    "envelope_id": envelope_id,
                    "type": kind,
                    "payload": payload,
                    "accepts_response_payload": kind != "events_api",
                    "retry_attempt": 0,
                    "retry_reason": "",
                }
            )
        )

    # -- the connection --------------------------------------------------------------------
    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            try:
                shook = self._handshake(client)
            except OSError:  # the client went away mid-handshake (e.g. the bot is shutting down)
                shook = False
            if not shook:
                client.close()
                continue
            with self._lock:
                self._client = client
            self._send(
                json.dumps(
                    {
                        "type": "hello",
                        "num_connections": 1,
                        "connection_info": {"app_id": "A0PERCH"},
                        "debug_info": {"host": "fake", "approximate_connection_time": 3600},
                    }
                )
            )
            self.connected.set()
            self._read(client)

    def _handshake(self, client: socket.socket) -> bool:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = client.recv(4096)
            if not chunk:
                return False
            request += chunk
        headers = {}
        for line in request.decode("latin-1").split("\r\n")[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        key = headers.get("sec-websocket-key")
        if not key:
            return False
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        client.sendall(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
            ).encode()
        )
        return True

    def _read(self, client: socket.socket) -> None:
        buffer = b""
        while True:
            try:
                chunk = client.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            while True:
                frame = _parse_frame(buffer)
                if frame is None:
                    break
                opcode, data, used = frame
                buffer = buffer[used:]
                if opcode == 0x1:
                    message = json.loads(data)
                    if "envelope_id" in message:
                        self.acks.append(message["envelope_id"])
                elif opcode == 0x9:
                    self._send_frame(0xA, data)
                elif opcode == 0x8:
                    return

    def _send(self, text: str) -> None:
        self._send_frame(0x1, text.encode())

    def _send_frame(self, opcode: int, data: bytes) -> None:
        header = bytes([0x80 | opcode])
        if len(data) < 126:
            header += bytes([len(data)])
        elif len(data) < 65536:
            header += bytes([126]) + struct.pack(">H", len(data))
        else:
            header += bytes([127]) + struct.pack(">Q", len(data))
        with self._lock, contextlib.suppress(OSError):  # a closed connection just ends the conversation
            if self._client is not None:
                self._client.sendall(header + data)


def _parse_frame(buffer: bytes) -> tuple[int, bytes, int] | None:
    """(opcode, unmasked payload, bytes used) of the first complete frame, or None."""
    if len(buffer) < 2:
        return None
    opcode, length, offset = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
    if length == 126:
        if len(buffer) < 4:
            return None
        length, offset = struct.unpack(">H", buffer[2:4])[0], 4
    elif length == 127:
        if len(buffer) < 10:
            return None
        length, offset = struct.unpack(">Q", buffer[2:10])[0], 10
    masked = buffer[1] & 0x80
    mask = buffer[offset : offset + 4] if masked else b""
    offset += 4 if masked else 0
    if len(buffer) < offset + length:
        return None
    data = buffer[offset : offset + length]
    if masked:
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    return opcode, data, offset + length
