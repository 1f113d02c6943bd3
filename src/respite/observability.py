"""Logs, request ids, the edge of every request, and metrics.

Each log line is one JSON object (or a readable line with ``RESPITE_LOG_FORMAT=text``) that
carries the id of the request it belongs to; the same id is returned in ``X-Request-ID``.
Request headers and bodies are never logged: they carry bearer tokens and personal identifiers.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import sys
import time
from contextvars import ContextVar
from typing import Any, cast

import msgspec
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from respite.errors import RequestTimeoutError

__all__ = ["EdgeMiddleware", "configure_logging", "current_request_id", "edge_headers"]

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
access_log = logging.getLogger("respite.access")

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "strict-transport-security": "max-age=31536000; includeSubDomains",
}


REQUEST_ID_KEY = "respite.request_id"


def edge_headers(message: Message, scope: Scope) -> None:
    """Security headers and the request id on every answer (Litestar's ``before_send`` hook).

    ``EdgeMiddleware`` cannot do it alone: an error raised outside the route's own stack (the
    authentication middleware's 401, the time limit's 503, a path no route matches) is answered
    by Litestar's outermost exception handler, with the ``send`` that no middleware wrapped.
    """
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    request_id = cast("dict[str, Any]", scope).get(REQUEST_ID_KEY)
    if isinstance(request_id, str):
        headers.setdefault("x-request-id", request_id)
    for name, value in SECURITY_HEADERS.items():
        headers.setdefault(name, value)


def current_request_id() -> str | None:
    return _request_id.get()


class JsonFormatter(logging.Formatter):
    _STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": _request_id.get(),
        }
        for key, value in vars(record).items():
            if key not in self._STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return msgspec.json.encode(entry, enc_hook=str).decode()


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = _request_id.get()
        return f"{line} [{request_id}]" if request_id else line


def configure_logging(level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class EdgeMiddleware:
    """Outermost layer: request id, security headers, access log, and a time limit."""

    def __init__(self, app: ASGIApp, timeout: float) -> None:
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _VALID_ID.match(incoming) else secrets.token_hex(8)
        token = _request_id.set(request_id)
        cast("dict[str, Any]", scope)[REQUEST_ID_KEY] = request_id
        started = time.perf_counter()
        status = 500
        started_response = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status, started_response = message["status"], True
                headers = MutableScopeHeaders.from_message(message)
                headers["x-request-id"] = request_id
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        deadline = asyncio.timeout(self.timeout)
        try:
            async with deadline:
                await self.app(scope, receive, send_with_headers)
        except TimeoutError:
            # Only our own deadline becomes "took too long"; other timeouts (a pool that has no
            # connection to give) pass on to their own handlers. Once the answer has begun,
            # nothing can replace it.
            if not deadline.expired() or started_response:
                raise
            raise RequestTimeoutError(self.timeout) from None
        finally:
            access_log.info(
                "%s %s %s",
                method,
                scope["path"],
                status,
                extra={"status": status, "ms": round((time.perf_counter() - started) * 1000, 2)},
            )
            _request_id.reset(token)
