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
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import Counter, Gauge, Histogram

from respite.errors import RequestTimeoutError

__all__ = ["EdgeMiddleware", "configure_logging", "current_request_id", "edge_of_answer"]

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


_SECURITY_HEADERS = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

REQUEST_ID_KEY = "respite.request_id"
_STARTED_KEY = "respite.started"
_STATUS_KEY = "respite.status"

# Request metrics, kept here rather than by Litestar's Prometheus middleware: that one builds a
# Request and looks its label set up four times per request, a tenth of a search's CPU.
_REQUESTS = Counter("respite_requests", "HTTP requests answered", ["method", "path", "status_code"])
_DURATION = Histogram(
    "respite_request_duration_seconds",
    "Time from routing to the last byte of the answer",
    ["method", "path", "status_code"],
)
_IN_PROGRESS = Gauge("respite_requests_in_progress", "HTTP requests being answered")
_Series = tuple[Counter, Histogram]
_series: dict[tuple[str, str, int], _Series] = {}


def _metrics(method: str, path: str, status: int) -> _Series:
    key = (method, path, status)
    found = _series.get(key)
    if found is None:
        labels = (method, path, str(status))
        found = _series[key] = (_REQUESTS.labels(*labels), _DURATION.labels(*labels))
    return found


async def edge_of_answer(message: Message, scope: Scope) -> None:
    """Every answer's edge (Litestar's ``before_send`` hook; a coroutine, since Litestar runs
    a plain function hook in a worker thread): security headers and the request id on the
    way out, then the access log line and the metrics once the last byte is sent.

    ``EdgeMiddleware`` cannot do it alone: an error raised outside the route's own stack (the
    authentication middleware's 401, the time limit's 503, a path no route matches) is answered
    by Litestar's outermost exception handler, with the ``send`` that no middleware wrapped.
    """
    state = cast("dict[str, Any]", scope)
    if message["type"] == "http.response.start":
        state[_STATUS_KEY] = message["status"]
        headers = list(message.get("headers", ()))
        present = {name.lower() for name, _ in headers}
        request_id = state.get(REQUEST_ID_KEY)
        if isinstance(request_id, str) and b"x-request-id" not in present:
            headers.append((b"x-request-id", request_id.encode()))
        headers += [h for h in _SECURITY_HEADERS if h[0] not in present]
        message["headers"] = headers
    elif message["type"] == "http.response.body" and not message.get("more_body", False):
        started = state.get(_STARTED_KEY)
        if started is None:  # no route matched: not one of ours to count
            return
        seconds = time.perf_counter() - started
        status, method = state[_STATUS_KEY], state["method"]
        access_log.info(
            "%s %s %s",
            method,
            state["path"],
            status,
            extra={"status": status, "ms": round(seconds * 1000, 2)},
        )
        template = state.get("path_template")
        if template is not None and template != "/metrics":
            requests, duration = _metrics(method, template, status)
            requests.inc()
            duration.observe(seconds)


def current_request_id() -> str | None:
    return _request_id.get()


class JsonFormatter(logging.Formatter):
    _STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
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
    """Outermost layer: request id, start time and a time limit (``edge_of_answer`` finishes
    the job on the way out)."""

    def __init__(self, app: ASGIApp, timeout: float) -> None:
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        state = cast("dict[str, Any]", scope)
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _VALID_ID.match(incoming) else secrets.token_hex(8)
        token = _request_id.set(request_id)
        state[REQUEST_ID_KEY], state[_STARTED_KEY] = request_id, time.perf_counter()
        deadline = asyncio.timeout(self.timeout)
        _IN_PROGRESS.inc()
        try:
            async with deadline:
                await self.app(scope, receive, send)
        except TimeoutError:
            # Only our own deadline becomes "took too long"; other timeouts (a pool that has no
            # connection to give) pass on to their own handlers. Once the answer has begun,
            # nothing can replace it.
            if not deadline.expired() or _STATUS_KEY in state:
                raise
            raise RequestTimeoutError(self.timeout) from None
        finally:
            _IN_PROGRESS.dec()
            _request_id.reset(token)
