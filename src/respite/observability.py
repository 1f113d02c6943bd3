"""Logs, request ids, the edge of every request, and metrics.

Each log line is one JSON object on stderr (or a readable line with
``RESPITE_LOG_FORMAT=text``): ``time`` (ISO 8601, milliseconds, the zone's offset), ``level``,
``logger``, ``message``, the ``request_id`` of the request it belongs to (also returned in
``X-Request-ID``) and the line's own fields (``booking_id``, ``problem``, ...). No terminal
colours: uvicorn's coloured copy of its messages is dropped. Request headers and bodies are
never logged, they carry bearer tokens and personal identifiers; a line names things by id,
never by a person's name, phone, national ID or address.

Every answer has its access line (``respite.access``), with the problem ``type`` of a problem
answer; a route whose ``opt`` names a ``REFUSAL_OPT`` message also logs each problem it
answers under that message (``respite.refusals``), with its path's ids and those the problem
names.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import sys
import time
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import datetime
from types import TracebackType
from typing import Any, Final, cast

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import Counter, Gauge, Histogram

from respite.errors import RequestTimeoutError

__all__ = [
    "REFUSAL_OPT",
    "EdgeMiddleware",
    "JsonFormatter",
    "TextFormatter",
    "capture_stray_output",
    "configure_logging",
    "current_request_id",
    "edge_of_answer",
    "iso_time",
    "note_problem",
]

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
access_log = logging.getLogger("respite.access")
refusal_log = logging.getLogger("respite.refusals")

REFUSAL_OPT: Final = "log_refusal"
"""A route handler's ``opt`` key: the message of the line logged for each problem it answers."""

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
_PROBLEM_KEY = "respite.problem"

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
        seconds = None if started is None else time.perf_counter() - started
        _log_answer(state, seconds)
        template = state.get("path_template")
        # No route matched (no start time): not one of ours to count.
        if seconds is not None and template is not None and template != "/metrics":
            requests, duration = _metrics(state["method"], template, state[_STATUS_KEY])
            requests.inc()
            duration.observe(seconds)


def _log_answer(state: dict[str, Any], seconds: float | None) -> None:
    """The access line, and the refusal line of a route that asks for one. The request id
    is the scope's: an answer made by Litestar's outermost handler (a 401) is sent after the
    request's context has ended."""
    status, method, path = state.get(_STATUS_KEY), state["method"], state["path"]
    extra: dict[str, object] = {
        "request_id": state.get(REQUEST_ID_KEY),
        "method": method,
        "path": path,
        "status": status,
    }
    if seconds is not None:
        extra["ms"] = round(seconds * 1000, 2)
    problem: _Problem | None = state.get(_PROBLEM_KEY)
    if problem is not None:
        extra["problem"] = problem.slug
    access_log.info("%s %s %s", method, path, status, extra=extra)
    if problem is not None:
        _log_refusal(state, problem, extra)


class _Problem(msgspec.Struct, frozen=True):
    """The problem an answer carries: its type, and the ids it names."""

    slug: str
    ids: dict[str, int | str]


def _is_id(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return name.endswith("_id") or name.startswith("conflicting_")
    return isinstance(value, str) and name.endswith("_id")


def note_problem(scope: Mapping[str, Any], slug: str, members: Mapping[str, Any] | None) -> None:
    """Called for every problem answer: its type, and the ids among its members (never the
    other members, which may quote what a person typed), for the answer's log lines."""
    ids = {k: v for k, v in (members or {}).items() if _is_id(k, v)}
    cast("dict[str, Any]", scope)[_PROBLEM_KEY] = _Problem(slug, ids)


def _log_refusal(state: dict[str, Any], problem: _Problem, access: dict[str, object]) -> None:
    handler = state.get("route_handler")
    message = handler.opt.get(REFUSAL_OPT) if handler is not None else None
    if not isinstance(message, str):
        return
    path_ids = {k: v for k, v in state.get("path_params", {}).items() if _is_id(k, v)}
    keep = ("request_id", "status", "problem")
    extra = {**path_ids, **problem.ids, **{k: access[k] for k in keep}}
    refusal_log.info("%s: %s", message, problem.slug, extra=extra)


def current_request_id() -> str | None:
    return _request_id.get()


def iso_time(created: float) -> str:
    """ISO 8601 in the machine's zone, with milliseconds and the offset:
    ``2026-12-01T11:05:03.123+08:00``."""
    return datetime.fromtimestamp(created).astimezone().isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    # color_message: uvicorn's copy of its message with terminal colour codes.
    _STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
        "message",
        "color_message",
    }

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": iso_time(record.created),
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
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return iso_time(record.created)

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


def _log_uncaught(
    kind: type[BaseException], exc: BaseException, traceback: TracebackType | None
) -> None:
    logging.getLogger("respite").critical(
        "uncaught %s", kind.__name__, exc_info=(kind, exc, traceback)
    )


def capture_stray_output() -> None:
    """In a process of its own (``respite serve``, ``dev``): warnings and an uncaught error
    become log lines too, so that every line on stderr is one."""
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught


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
