"""A real SMS gateway on loopback for the notification tests: an HTTP server that checks every
request's signature the way an SMS gateway integrating with respite must (HMAC-SHA256 of
"<timestamp>." + body under the shared secret, in ``X-Respite-Signature: v1=<hex>``), keeps
what it was sent, and answers as its script says (a status), 200 when the script is empty."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import msgspec

__all__ = ["Sms", "SmsGateway", "verify"]

SECRET = "sms-gateway-test-secret"


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    timestamp = headers.get("x-respite-timestamp", "")
    signature = headers.get("x-respite-signature", "")
    if not timestamp.isdigit() or not signature.startswith("v1="):
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(signature.removeprefix("v1="), expected.hexdigest())


class Sms(msgspec.Struct):
    headers: dict[str, str]
    body: bytes
    valid: bool
    status: int

    @property
    def message(self) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(self.body)
        return message


class SmsGateway:
    """``async with SmsGateway() as gateway``: listens on 127.0.0.1 at ``gateway.url``."""

    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret
        self.script: list[int] = []
        self.received: list[Sms] = []
        self._changed = asyncio.Condition()
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sms"

    def accepted(self) -> list[Sms]:
        return [sms for sms in self.received if 200 <= sms.status < 300]

    async def __aenter__(self) -> SmsGateway:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            headers = {}
            for line in head.decode("latin-1").split("\r\n")[1:]:
                if ":" in line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            status = self.script.pop(0) if self.script else 200
            valid = verify(self.secret, headers, body)
            async with self._changed:
                self.received.append(Sms(headers, body, valid, status))
                self._changed.notify_all()
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
            )
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def wait_for(self, done: Callable[[list[Sms]], bool], seconds: float = 10.0) -> list[Sms]:
        async with asyncio.timeout(seconds), self._changed:
            await self._changed.wait_for(lambda: done(self.received))
        return self.received
