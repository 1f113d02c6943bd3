"""Every error answer is RFC 9457 problem details; this module is the one table that says how.

Domain errors (``errors.py``) and the few foreign exceptions that reach the edge (msgspec's
decoding errors, Litestar's HTTP exceptions, a lost PostgreSQL or Redis) become a JSON body
with a stable ``type``, a fixed ``title``, a human ``detail`` and, for validation, ``errors``:
a list of ``{field, message}``. Anything else is a bug: 500 with an ``error_id`` that is logged
with the traceback, and nothing internal in the body.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

import asyncpg
import msgspec
import redis.exceptions
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from respite.booking.errors import IneligibleError
from respite.errors import (
    AuthenticationError,
    ConflictError,
    FieldError,
    InvalidInputError,
    MalformedBodyError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RequestTimeoutError,
    RespiteError,
    UnavailableError,
)
from respite.inventory.errors import ImportRejectedError

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "ProblemKind",
    "exception_handlers",
    "field_errors",
    "problem_kind",
]

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "/problems/"
log = logging.getLogger("respite.problems")


class ProblemKind(msgspec.Struct, frozen=True):
    status: int
    slug: str
    title: str


PROBLEMS: dict[type[RespiteError], ProblemKind] = {
    InvalidInputError: ProblemKind(422, "invalid-input", "The request has invalid fields"),
    MalformedBodyError: ProblemKind(400, "malformed-body", "The request body cannot be read"),
    NotFoundError: ProblemKind(404, "not-found", "Not found"),
    ConflictError: ProblemKind(409, "conflict", "The request conflicts with the current state"),
    IneligibleError: ProblemKind(422, "not-eligible", "Not eligible for this bed"),
    ImportRejectedError: ProblemKind(422, "invalid-file", "The file has invalid rows"),
    AuthenticationError: ProblemKind(401, "unauthenticated", "Authentication required"),
    PermissionDeniedError: ProblemKind(403, "forbidden", "Not allowed for this role"),
    RateLimitedError: ProblemKind(429, "rate-limited", "Too many requests"),
    UnavailableError: ProblemKind(503, "unavailable", "Service temporarily unavailable"),
    RequestTimeoutError: ProblemKind(503, "timeout", "The request took too long"),
}

HTTP_SLUGS: dict[int, str] = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    413: "body-too-large",
    415: "unsupported-media-type",
    429: "rate-limited",
    503: "unavailable",
}


def problem_kind(exc: RespiteError) -> ProblemKind:
    for cls in type(exc).__mro__:
        kind = PROBLEMS.get(cls)
        if kind is not None:
            return kind
    raise LookupError(f"{type(exc).__name__} has no row in PROBLEMS")


def _problem(
    request: Request[Any, Any, Any],
    kind: ProblemKind,
    detail: str,
    extensions: Mapping[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": TYPE_BASE + kind.slug,
        "title": kind.title,
        "status": kind.status,
        "detail": detail,
        "instance": request.url.path,
    }
    if extensions:
        body.update(extensions)
    return Response(
        content=body, status_code=kind.status, media_type=PROBLEM_MEDIA_TYPE, headers=headers
    )


def _retry_headers(exc: RespiteError) -> dict[str, str] | None:
    retry_after = exc.extensions.get("retry_after")
    return {"Retry-After": str(retry_after)} if retry_after is not None else None


def on_respite_error(request: Request[Any, Any, Any], exc: RespiteError) -> Response[Any]:
    extensions = dict(exc.extensions)
    if isinstance(exc, InvalidInputError):
        extensions["errors"] = [msgspec.structs.asdict(e) for e in exc.errors]
    headers = _retry_headers(exc)
    if isinstance(exc, AuthenticationError):
        headers = {"WWW-Authenticate": 'Bearer realm="respite"'}
    return _problem(request, problem_kind(exc), exc.detail, extensions, headers)


# msgspec says where: "Expected `int`, got `str` - at `$.stay.nights`".
_AT = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_NAMED = re.compile(r"^Object (?:contains unknown|missing required) field `(?P<name>[^`]+)`$")
# Our own __post_init__ checks name their field by convention: "check_out: must be after ...".
_OWN = re.compile(r"^(?P<name>[a-z_][a-z0-9_]*): (?P<msg>.+)$", re.DOTALL)


def field_errors(message: str) -> list[FieldError]:
    """Turn one msgspec validation message into a field error with a readable path."""
    match = _AT.match(message)
    assert match is not None  # the pattern matches any string
    text, path = match.group("msg"), (match.group("path") or "").lstrip(".")
    named = _NAMED.match(text) or _OWN.match(text)
    if named is not None:
        name = named.group("name")
        path = f"{path}.{name}" if path else name
        if named.re is _OWN:
            text = named.group("msg")
    return [FieldError(path or "$", text)]


def on_msgspec_validation(
    request: Request[Any, Any, Any], exc: msgspec.ValidationError
) -> Response[Any]:
    return on_respite_error(request, InvalidInputError(field_errors(str(exc))))


def on_decode_error(request: Request[Any, Any, Any], exc: msgspec.DecodeError) -> Response[Any]:
    return on_respite_error(request, MalformedBodyError(f"the body is not valid JSON: {exc}"))


_MISSING_PARAMETER = re.compile(r"^Missing required (?P<kind>\w+) parameter '(?P<name>[^']+)'")


def on_litestar_validation(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[Any]:
    errors = [
        FieldError(str(item.get("key") or "$"), str(item.get("message", "invalid")))
        for item in (exc.extra if isinstance(exc.extra, list) else [])
        if isinstance(item, dict)
    ]
    missing = _MISSING_PARAMETER.match(exc.detail)
    if missing is not None:
        errors = [FieldError(missing["name"], f"required {missing['kind']} parameter")]
    if not errors:
        return on_respite_error(request, MalformedBodyError(exc.detail))
    return on_respite_error(request, InvalidInputError(errors))


def on_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status >= 500 and status != 503:
        return on_unexpected(request, exc)
    kind = ProblemKind(status, HTTP_SLUGS.get(status, f"http-{status}"), _reason(status))
    return _problem(request, kind, exc.detail, headers=exc.headers)


def on_backend_down(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    service = "redis" if isinstance(exc, redis.exceptions.RedisError) else "database"
    log.warning("%s unavailable: %s", service, type(exc).__name__)
    return on_respite_error(request, UnavailableError(service))


def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    error_id = secrets.token_hex(8)
    log.error("unhandled error %s", error_id, exc_info=exc, extra={"error_id": error_id})
    kind = ProblemKind(500, "internal", "Internal error")
    detail = f"an unexpected error occurred; quote error id {error_id} when reporting it"
    return _problem(request, kind, detail, {"error_id": error_id})


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


Handler = Callable[[Request[Any, Any, Any], Any], Response[Any]]


def exception_handlers() -> dict[type[Exception] | int, Handler]:
    return {
        RespiteError: on_respite_error,
        msgspec.ValidationError: on_msgspec_validation,
        msgspec.DecodeError: on_decode_error,
        ValidationException: on_litestar_validation,
        HTTPException: on_http_exception,
        asyncpg.PostgresConnectionError: on_backend_down,
        asyncpg.CannotConnectNowError: on_backend_down,
        asyncpg.exceptions.QueryCanceledError: on_backend_down,
        ConnectionError: on_backend_down,
        TimeoutError: on_backend_down,
        redis.exceptions.ConnectionError: on_backend_down,
        redis.exceptions.TimeoutError: on_backend_down,
        Exception: on_unexpected,
    }
