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
from typing import Any, cast

import asyncpg
import msgspec
import redis.exceptions
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from respite.auth.errors import (
    AccountExistsError,
    InvitationEndedError,
    ManagerOnlyError,
    UnknownInvitationError,
)
from respite.booking.errors import (
    BedTakenError,
    ElderAlreadyStayingError,
    IneligibleError,
    PriceChangedError,
    StepNotAllowedError,
)
from respite.eligibility.errors import NoPolicyInForceError
from respite.errors import (
    AuthenticationError,
    BusyError,
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
from respite.field_errors import field_error, from_msgspec
from respite.holds.errors import (
    BedHeldError,
    ExtensionsUsedUpError,
    HeldByAnotherError,
    HoldAtMaximumAgeError,
    HoldCapReachedError,
    HoldEndedError,
    HoldsUnavailable,
    NoFreeBedError,
)
from respite.i18n import DEFAULT_LANGUAGE, Lang, Text, render, t
from respite.i18n.language import request_language
from respite.inventory.errors import (
    BedRetiredError,
    BedsChangedDuringImportError,
    BedStillBookedError,
    BlockLiftedError,
    ImportRejectedError,
    LabelTakenError,
    NightAlreadyBlockedError,
    NightBookedError,
)
from respite.observability import note_problem
from respite.places.errors import AmbiguousPlaceError, GazetteerRejectedError, UnknownPlaceError
from respite.recipients.errors import DuplicateNationalIdError, OwnerOnlyFieldsError
from respite.referral.errors import (
    DeliveryInFlightError,
    EndpointLimitReachedError,
    ReferralStepNotAllowedError,
)
from respite.waitlist.errors import (
    EntryEndedError,
    OfferEndedError,
    OfferLostError,
    TooManyEntriesError,
)

__all__ = [
    "PROBLEMS",
    "PROBLEM_MEDIA_TYPE",
    "TYPE_BASE",
    "ProblemKind",
    "documented_kinds",
    "exception_handlers",
    "problem_kind",
]

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "/problems/"
log = logging.getLogger("respite.problems")


class ProblemKind(msgspec.Struct, frozen=True, kw_only=True):
    """One kind of problem: its answer, and its documentation at ``/problems/<slug>``.

    Its words are the catalog's ``problem.<slug>.title``, ``.about`` (when a client meets it
    and what to do) and ``.members.<name>`` (what each extension member means).
    """

    status: int
    slug: str
    members: tuple[str, ...] = ()

    @property
    def title(self) -> Text:
        return t(f"problem.{self.slug}.title")

    @property
    def about(self) -> Text:
        return t(f"problem.{self.slug}.about")

    def member(self, name: str) -> Text:
        return t(f"problem.{self.slug}.members.{name}")


# One row per error class (exactly: a subclass needs its own row; tests/unit/test_problems.py
# walks every class and fails on one without). Grouped by the domain that raises them.
PROBLEMS: dict[type[RespiteError], ProblemKind] = {
    # -- any request ---------------------------------------------------------------------
    InvalidInputError: ProblemKind(
        status=422,
        slug="invalid-input",
        members=("errors",),
    ),
    MalformedBodyError: ProblemKind(
        status=400,
        slug="malformed-body",
    ),
    NotFoundError: ProblemKind(
        status=404,
        slug="not-found",
        members=("entity",),
    ),
    AuthenticationError: ProblemKind(
        status=401,
        slug="unauthenticated",
    ),
    PermissionDeniedError: ProblemKind(
        status=403,
        slug="forbidden",
        members=("allowed_roles",),
    ),
    RateLimitedError: ProblemKind(
        status=429,
        slug="rate-limited",
        members=("retry_after",),
    ),
    UnavailableError: ProblemKind(
        status=503,
        slug="unavailable",
        members=("service", "retry_after"),
    ),
    BusyError: ProblemKind(
        status=503,
        slug="busy",
        members=("retry_after",),
    ),
    RequestTimeoutError: ProblemKind(
        status=503,
        slug="timeout",
        members=("retry_after",),
    ),
    ConflictError: ProblemKind(
        status=409,
        slug="conflict",
    ),
    # -- inventory -----------------------------------------------------------------------
    ImportRejectedError: ProblemKind(
        status=422,
        slug="invalid-file",
        members=("errors", "error_count"),
    ),
    LabelTakenError: ProblemKind(
        status=409,
        slug="label-taken",
        members=("label", "conflicting_bed"),
    ),
    BedRetiredError: ProblemKind(
        status=409,
        slug="bed-retired",
        members=("bed",),
    ),
    BedStillBookedError: ProblemKind(
        status=409,
        slug="bed-still-booked",
        members=("conflicting_booking", "night"),
    ),
    NightBookedError: ProblemKind(
        status=409,
        slug="night-booked",
        members=("conflicting_booking", "night"),
    ),
    NightAlreadyBlockedError: ProblemKind(
        status=409,
        slug="night-already-blocked",
        members=("conflicting_block", "night"),
    ),
    BlockLiftedError: ProblemKind(
        status=409,
        slug="block-lifted",
        members=("block",),
    ),
    BedsChangedDuringImportError: ProblemKind(
        status=409,
        slug="beds-changed-during-import",
        members=("facility_id",),
    ),
    # -- places --------------------------------------------------------------------------
    UnknownPlaceError: ProblemKind(
        status=422,
        slug="unknown-place",
        members=("errors", "near_matches"),
    ),
    AmbiguousPlaceError: ProblemKind(
        status=422,
        slug="ambiguous-place",
        members=("errors", "candidates"),
    ),
    GazetteerRejectedError: ProblemKind(
        status=422,
        slug="invalid-gazetteer",
        members=("problems",),
    ),
    # -- eligibility and recipients ------------------------------------------------------
    NoPolicyInForceError: ProblemKind(
        status=409,
        slug="no-policy-in-force",
        members=("policy_code", "on"),
    ),
    DuplicateNationalIdError: ProblemKind(
        status=409,
        slug="duplicate-national-id",
        members=("care_recipient_id",),
    ),
    OwnerOnlyFieldsError: ProblemKind(
        status=403,
        slug="owner-only-fields",
        members=("fields", "owner"),
    ),
    # -- holds ---------------------------------------------------------------------------
    BedHeldError: ProblemKind(
        status=409,
        slug="bed-held",
        members=("bed_id", "reason"),
    ),
    HeldByAnotherError: ProblemKind(
        status=409,
        slug="held-by-another",
        members=("hold_id", "bed_id", "reason"),
    ),
    ExtensionsUsedUpError: ProblemKind(
        status=409,
        slug="extensions-used-up",
        members=("hold_id", "max_extensions", "expires_at", "reason"),
    ),
    HoldAtMaximumAgeError: ProblemKind(
        status=409,
        slug="hold-at-maximum-age",
        members=("hold_id", "expires_at", "reason"),
    ),
    HoldEndedError: ProblemKind(
        status=409,
        slug="hold-ended",
        members=("hold_id", "reason"),
    ),
    NoFreeBedError: ProblemKind(
        status=409,
        slug="no-free-bed",
        members=("facility_id", "kind", "reason"),
    ),
    HoldCapReachedError: ProblemKind(
        status=429,
        slug="hold-cap-reached",
        members=("cap", "retry_after"),
    ),
    HoldsUnavailable: ProblemKind(
        status=503,
        slug="holds-unavailable",
        members=("service", "retry_after"),
    ),
    # -- booking -------------------------------------------------------------------------
    BedTakenError: ProblemKind(
        status=409,
        slug="bed-taken",
        members=("bed_id", "night", "conflicting_booking", "conflicting_block"),
    ),
    ElderAlreadyStayingError: ProblemKind(
        status=409,
        slug="elder-already-staying",
        members=("care_recipient_id", "conflicting_stay"),
    ),
    PriceChangedError: ProblemKind(
        status=409,
        slug="price-changed",
        members=("bed_id", "hold_id", "held_nightly_price", "current_nightly_price"),
    ),
    StepNotAllowedError: ProblemKind(
        status=409,
        slug="step-not-allowed",
        members=("booking_id", "current_status", "action"),
    ),
    IneligibleError: ProblemKind(
        status=422,
        slug="not-eligible",
        members=("policy_code", "refused", "reasons", "override_options", "not_overridden"),
    ),
    # -- referral ------------------------------------------------------------------------
    ReferralStepNotAllowedError: ProblemKind(
        status=409,
        slug="referral-step-not-allowed",
        members=("referral_id", "current_status", "step", "allowed_steps"),
    ),
    EndpointLimitReachedError: ProblemKind(
        status=409,
        slug="endpoint-limit-reached",
        members=("max_endpoints",),
    ),
    DeliveryInFlightError: ProblemKind(
        status=409,
        slug="delivery-in-flight",
        members=("delivery_id",),
    ),
    # -- waiting list --------------------------------------------------------------------
    OfferEndedError: ProblemKind(
        status=409,
        slug="offer-ended",
        members=("offer_id", "status"),
    ),
    OfferLostError: ProblemKind(
        status=409,
        slug="offer-lost",
        members=("offer_id", "reason"),
    ),
    EntryEndedError: ProblemKind(
        status=409,
        slug="entry-ended",
        members=("entry_id", "status"),
    ),
    TooManyEntriesError: ProblemKind(
        status=409,
        slug="too-many-entries",
        members=("care_recipient_id", "limit"),
    ),
    # -- auth ----------------------------------------------------------------------------
    AccountExistsError: ProblemKind(
        status=409,
        slug="account-exists",
    ),
    ManagerOnlyError: ProblemKind(
        status=403,
        slug="managers-only",
        members=("action", "allowed_staff_roles"),
    ),
    InvitationEndedError: ProblemKind(
        status=409,
        slug="invitation-ended",
        members=("state",),
    ),
    UnknownInvitationError: ProblemKind(
        status=404,
        slug="unknown-invitation",
    ),
}


def _http(status: int, slug: str) -> ProblemKind:
    return ProblemKind(status=status, slug=slug)


# What the framework itself answers (no route, no such method, a body too large ...).
HTTP_PROBLEMS: dict[int, ProblemKind] = {
    400: _http(400, "bad-request"),
    405: _http(405, "method-not-allowed"),
    406: _http(406, "not-acceptable"),
    413: _http(413, "body-too-large"),
    415: _http(415, "unsupported-media-type"),
}
INTERNAL = ProblemKind(
    status=500,
    slug="internal",
    members=("error_id",),
)


def documented_kinds() -> dict[str, ProblemKind]:
    """Every problem ``type`` the service can answer, by slug (the ``/problems/`` pages)."""
    kinds = [*PROBLEMS.values(), *HTTP_PROBLEMS.values(), INTERNAL]
    return {kind.slug: kind for kind in kinds}


def problem_kind(exc: RespiteError) -> ProblemKind:
    for cls in type(exc).__mro__:
        kind = PROBLEMS.get(cls)
        if kind is not None:
            return kind
    raise LookupError(f"{type(exc).__name__} has no row in PROBLEMS")


def _language(request: Request[Any, Any, Any]) -> Lang:
    default = cast("Lang", request.app.state.get("default_language", DEFAULT_LANGUAGE))
    return request_language(request.scope, default)


def _problem(
    request: Request[Any, Any, Any],
    kind: ProblemKind,
    detail: Text,
    extensions: Mapping[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[dict[str, Any]]:
    """The answer, every word in the request's language (this may run outside the language
    middleware: an error of the authentication middleware reaches Litestar's outermost
    handler, so the language is read from the request here)."""
    lang = _language(request)
    body: dict[str, Any] = {
        "type": TYPE_BASE + kind.slug,
        "title": render(kind.title, lang),
        "status": kind.status,
        "detail": render(detail, lang),
        "instance": request.url.path,
    }
    if extensions:
        body.update(msgspec.to_builtins(extensions, enc_hook=lambda value: _say(value, lang)))
    note_problem(request.scope, kind.slug, extensions)
    headers = {**(headers or {}), "Content-Language": lang, "Vary": "Accept-Language"}
    return Response(
        content=body, status_code=kind.status, media_type=PROBLEM_MEDIA_TYPE, headers=headers
    )


def _say(value: Any, lang: Lang) -> Any:
    if isinstance(value, Text):
        return render(value, lang)
    raise TypeError(f"cannot encode {type(value).__name__} in a problem")


def _retry_headers(exc: RespiteError) -> dict[str, str] | None:
    retry_after = exc.extensions.get("retry_after")
    return {"Retry-After": str(retry_after)} if retry_after is not None else None


def on_respite_error(request: Request[Any, Any, Any], exc: RespiteError) -> Response[Any]:
    extensions = dict(exc.extensions)
    if isinstance(exc, InvalidInputError):
        extensions["errors"] = exc.errors
    headers = _retry_headers(exc)
    if isinstance(exc, AuthenticationError):
        headers = {"WWW-Authenticate": 'Bearer realm="respite"'}
    return _problem(request, problem_kind(exc), exc.detail, extensions, headers)


def _parameters(request: Request[Any, Any, Any]) -> dict[str, Any]:
    handler = request.scope.get("route_handler")
    if handler is None:
        return {}
    return dict(handler.parsed_fn_signature.parameters)


def _body_type(request: Request[Any, Any, Any]) -> Any:
    """The type the route decodes its body into, to name allowed values in messages."""
    data = _parameters(request).get("data")
    return data.annotation if data is not None else None


def _parameter_type(request: Request[Any, Any, Any], name: str) -> Any:
    for parameter_name, field in _parameters(request).items():
        kwarg = field.kwarg_definition
        alias = getattr(kwarg, "query", None) or getattr(kwarg, "header", None)
        if name in (parameter_name, alias):
            return field.annotation
    return None


def on_msgspec_validation(
    request: Request[Any, Any, Any], exc: msgspec.ValidationError
) -> Response[Any]:
    return on_respite_error(request, InvalidInputError([from_msgspec(exc, _body_type(request))]))


def on_decode_error(request: Request[Any, Any, Any], exc: msgspec.DecodeError) -> Response[Any]:
    problem = str(exc).removeprefix("JSON is malformed: ")
    return on_respite_error(request, MalformedBodyError(t("input.body_not_json", problem=problem)))


_MISSING_PARAMETER = re.compile(r"^Missing required (?P<kind>\w+) parameter '(?P<name>[^']+)'")


def on_litestar_validation(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[Any]:
    errors = [
        field_error(
            str(item.get("key") or "$"),
            str(item.get("message", "")),
            _parameter_type(request, str(item.get("key") or "")),
        )
        for item in (exc.extra if isinstance(exc.extra, list) else [])
        if isinstance(item, dict)
    ]
    missing = _MISSING_PARAMETER.match(exc.detail)
    if missing is not None:
        errors = [FieldError(missing["name"], t("input.required"))]
    if not errors or (any(e.field == "data" for e in errors) and _without_body(request)):
        return on_respite_error(request, MalformedBodyError(t("input.body_missing")))
    return on_respite_error(request, InvalidInputError(errors))


def _without_body(request: Request[Any, Any, Any]) -> bool:
    """No body was sent: Litestar then reports its body parameter (``data``) as the field."""
    headers = request.headers
    return headers.get("content-length", "0") == "0" and "transfer-encoding" not in headers


def on_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status >= 500 and status != 503:
        return on_unexpected(request, exc)
    kind = _http_kind(status)
    return _problem(request, kind, _http_detail(request, status), headers=exc.headers)


_HTTP_DETAILS = frozenset({400, 401, 403, 404, 406, 413, 415, 429, 503})


def _http_detail(request: Request[Any, Any, Any], status: int) -> Text:
    """The framework's own sentence ("Not Found", "Method Not Allowed") said in ours."""
    if status == 405:
        return t("common.http.405", method=request.method)
    return t(f"common.http.{status}" if status in _HTTP_DETAILS else "common.http.other")


def on_backend_down(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    service = "redis" if isinstance(exc, redis.exceptions.RedisError) else "database"
    log.warning("%s unavailable: %s", service, type(exc).__name__)
    return on_respite_error(request, UnavailableError(service))


def on_busy(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.warning("busy: %s", type(exc).__name__)
    return on_respite_error(request, BusyError())


def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    error_id = secrets.token_hex(8)
    log.error("unhandled error %s", error_id, exc_info=exc, extra={"error_id": error_id})
    detail = t("problem.detail.internal", error_id=error_id)
    return _problem(request, INTERNAL, detail, {"error_id": error_id})


def _http_kind(status: int) -> ProblemKind:
    """The kind of an HTTP exception: the documented one of its status, or the domain kind
    that shares the status (401, 403, 404, 429, 503 mean the same from either side)."""
    if status in HTTP_PROBLEMS:
        return HTTP_PROBLEMS[status]
    for kind in PROBLEMS.values():
        if kind.status == status and kind.slug not in {"busy", "timeout", "conflict"}:
            return kind
    return _http(status, "bad-request" if status < 500 else "unavailable")


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
        # A lock wait past lock_timeout, a deadlock, a statement past statement_timeout.
        asyncpg.LockNotAvailableError: on_busy,
        asyncpg.DeadlockDetectedError: on_busy,
        asyncpg.QueryCanceledError: on_busy,
        ConnectionError: on_backend_down,
        TimeoutError: on_backend_down,
        redis.exceptions.ConnectionError: on_backend_down,
        redis.exceptions.TimeoutError: on_backend_down,
        Exception: on_unexpected,
    }
