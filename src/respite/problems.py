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

from respite.auth.errors import AccountExistsError
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
from respite.recipients.errors import DuplicateNationalIdError, OwnerOnlyFieldsError
from respite.referral.errors import (
    DeliveryInFlightError,
    EndpointLimitReachedError,
    ReferralStepNotAllowedError,
)

__all__ = [
    "PROBLEMS",
    "PROBLEM_MEDIA_TYPE",
    "TYPE_BASE",
    "ProblemKind",
    "documented_kinds",
    "exception_handlers",
    "field_errors",
    "problem_kind",
]

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "/problems/"
log = logging.getLogger("respite.problems")


class ProblemKind(msgspec.Struct, frozen=True, kw_only=True):
    """One kind of problem: its answer, and its documentation at ``/problems/<slug>``."""

    status: int
    slug: str
    title: str
    about: str
    """When a client meets it and what to do."""
    members: dict[str, str] = {}
    """Extension members the answer carries, each with what it means."""


RETRY_AFTER = {"retry_after": "seconds to wait before retrying (also the Retry-After header)"}

# One row per error class (exactly: a subclass needs its own row; tests/unit/test_problems.py
# walks every class and fails on one without). Grouped by the domain that raises them.
PROBLEMS: dict[type[RespiteError], ProblemKind] = {
    # -- any request ---------------------------------------------------------------------
    InvalidInputError: ProblemKind(
        status=422,
        slug="invalid-input",
        title="The request has invalid fields",
        about="One or more fields are wrong; nothing was changed. Correct them and send again.",
        members={"errors": "every wrong field: `field` (its path) and `message` (why)"},
    ),
    MalformedBodyError: ProblemKind(
        status=400,
        slug="malformed-body",
        title="The request body cannot be read",
        about="The body is not JSON, or not of the media type the route reads.",
    ),
    NotFoundError: ProblemKind(
        status=404,
        slug="not-found",
        title="Not found",
        about="No such object, or it is not the caller's: another tenant's ids answer the same.",
        members={"entity": "what was looked for: `booking`, `bed`, `hold`, ..."},
    ),
    AuthenticationError: ProblemKind(
        status=401,
        slug="unauthenticated",
        title="Authentication required",
        about="No token, or one that is unknown, expired or revoked. Sign in again.",
    ),
    PermissionDeniedError: ProblemKind(
        status=403,
        slug="forbidden",
        title="Not allowed for this role",
        about="The token is valid but its role may not do this.",
        members={"allowed_roles": "the roles that may"},
    ),
    RateLimitedError: ProblemKind(
        status=429,
        slug="rate-limited",
        title="Too many requests",
        about="Too many attempts in a short time; wait before trying again.",
        members=RETRY_AFTER,
    ),
    UnavailableError: ProblemKind(
        status=503,
        slug="unavailable",
        title="Service temporarily unavailable",
        about="PostgreSQL or Redis does not answer right now; nothing was changed.",
        members={"service": "`database` or `redis`", **RETRY_AFTER},
    ),
    BusyError: ProblemKind(
        status=503,
        slug="busy",
        title="Busy: retry shortly",
        about=(
            "Another request is changing the same data (a lock was not granted in time, a "
            "deadlock was broken, or a statement ran too long); nothing was changed. Retry "
            "with the same Idempotency-Key."
        ),
        members=RETRY_AFTER,
    ),
    RequestTimeoutError: ProblemKind(
        status=503,
        slug="timeout",
        title="The request took too long",
        about="The request ran past the service's time limit; retry with the same key.",
        members=RETRY_AFTER,
    ),
    ConflictError: ProblemKind(
        status=409,
        slug="conflict",
        title="The request conflicts with the current state",
        about="A base class; every conflict a client can meet has its own type below.",
    ),
    # -- inventory -----------------------------------------------------------------------
    ImportRejectedError: ProblemKind(
        status=422,
        slug="invalid-file",
        title="The file has invalid rows",
        about="A bed file with any bad row imports nothing; every bad row is listed.",
        members={
            "errors": "each bad row: `line` (1 is the header), `column`, `message`",
            "error_count": "how many problems there were in all",
        },
    ),
    LabelTakenError: ProblemKind(
        status=409,
        slug="label-taken",
        title="Another bed of the facility has this label",
        about="Labels name beds within a facility. Choose another label, or change that bed.",
        members={
            "label": "the label asked for",
            "conflicting_bed": "the bed that has it (null if it appeared while writing)",
        },
    ),
    BedRetiredError: ProblemKind(
        status=409,
        slug="bed-retired",
        title="The bed is retired",
        about="A retired bed is kept for its history but no longer changes nor takes blocks.",
        members={"bed": "the retired bed"},
    ),
    BedStillBookedError: ProblemKind(
        status=409,
        slug="bed-still-booked",
        title="A booking still claims a night of the bed",
        about=(
            "A bed is retired only when no booking claims a night of it from the facility's "
            "today on. Cancel or move that booking, then retire the bed."
        ),
        members={
            "conflicting_booking": "the booking with the first such night",
            "night": "that night (ISO date)",
        },
    ),
    NightBookedError: ProblemKind(
        status=409,
        slug="night-booked",
        title="A night of the block is booked",
        about="A block cannot cover a booked night: move or cancel the booking, or block others.",
        members={
            "conflicting_booking": "the booking that claims the night",
            "night": "the first such night (ISO date)",
        },
    ),
    NightAlreadyBlockedError: ProblemKind(
        status=409,
        slug="night-already-blocked",
        title="A night of the block is blocked already",
        about="Another block covers the night: change that block instead of adding one.",
        members={
            "conflicting_block": "the block that claims the night",
            "night": "the first such night (ISO date)",
        },
    ),
    BlockLiftedError: ProblemKind(
        status=409,
        slug="block-lifted",
        title="The block was lifted",
        about="A lifted block no longer changes; create a new block for the nights wanted.",
        members={"block": "the lifted block"},
    ),
    BedsChangedDuringImportError: ProblemKind(
        status=409,
        slug="beds-changed-during-import",
        title="Beds changed while the file was imported",
        about=(
            "A bed with one of the file's labels was created meanwhile; nothing was imported. "
            "Import the same file again: labels that exist now update their beds."
        ),
        members={"facility_id": "the facility the file was for"},
    ),
    # -- eligibility and recipients ------------------------------------------------------
    NoPolicyInForceError: ProblemKind(
        status=409,
        slug="no-policy-in-force",
        title="No version of the facility's policy is in force",
        about=(
            "The facility names a policy of which no version applies on that date (none "
            "published, or only later ones). An admin publishes one or links another policy."
        ),
        members={
            "policy_code": "the facility's policy code",
            "on": "the date a version was needed for (check-in, ISO date)",
        },
    ),
    DuplicateNationalIdError: ProblemKind(
        status=409,
        slug="duplicate-national-id",
        title="An elder with this national ID is registered already",
        about="The same owner registers an elder once: use that care recipient.",
        members={"care_recipient_id": "the care recipient who has the national ID"},
    ),
    OwnerOnlyFieldsError: ProblemKind(
        status=403,
        slug="owner-only-fields",
        title="Only the elder's owner may change these fields",
        about=(
            "Staff see an elder a family, a hospital or another facility owns while a stay at "
            "their facility is live or recent, and may change only the care fields (needs, "
            "pressure_injury_stage) and record assessments; identity (name, sex, birth_date, "
            "national_id), home and emergency-contact fields are the owner's. Nothing was "
            "changed: send the care fields alone, or ask the owner."
        ),
        members={
            "fields": "every field of the request only the owner may change",
            "owner": "who owns the elder: `family`, `hospital` or `facility` (another one)",
        },
    ),
    # -- holds ---------------------------------------------------------------------------
    BedHeldError: ProblemKind(
        status=409,
        slug="bed-held",
        title="The bed is held by someone else",
        about=(
            "Another live hold covers some of these nights on this bed; nothing was held. Try "
            "another bed or other nights, or wait: a hold lasts minutes unless it is confirmed."
        ),
        members={
            "bed_id": "the bed asked for",
            "reason": "the same refusal as a short code, as older clients read it",
        },
    ),
    HeldByAnotherError: ProblemKind(
        status=409,
        slug="held-by-another",
        title="The hold expired and the bed is held by someone else",
        about=(
            "This hold ran out and another requester now holds the bed for some of its nights; "
            "nothing was booked. Search again or place a new hold."
        ),
        members={
            "hold_id": "the expired hold",
            "bed_id": "its bed",
            "reason": "the same refusal as a short code, as older clients read it",
        },
    ),
    ExtensionsUsedUpError: ProblemKind(
        status=409,
        slug="extensions-used-up",
        title="The hold cannot be extended again",
        about="The hold was extended as often as it may be; confirm it before it expires.",
        members={
            "hold_id": "the hold",
            "max_extensions": "how many extensions a hold may have",
            "expires_at": "when the hold ends (unix seconds)",
            "reason": "the same refusal as a short code, as older clients read it",
        },
    ),
    HoldAtMaximumAgeError: ProblemKind(
        status=409,
        slug="hold-at-maximum-age",
        title="The hold has reached its maximum age",
        about="No extension may keep a hold past its maximum age; confirm it or hold again.",
        members={
            "hold_id": "the hold",
            "expires_at": "when the hold ends (unix seconds)",
            "reason": "the same refusal as a short code, as older clients read it",
        },
    ),
    HoldEndedError: ProblemKind(
        status=409,
        slug="hold-ended",
        title="The hold has ended",
        about=(
            "The hold's holder released it, or it is past its maximum age "
            "(`RESPITE_HOLD_MAX_AGE_SECONDS` after it was placed): its token confirms nothing "
            "any more, even while the bed is free. Nothing was booked; place a new hold."
        ),
        members={
            "hold_id": "the hold",
            "reason": "`released` or `past_max_age`",
        },
    ),
    NoFreeBedError: ProblemKind(
        status=409,
        slug="no-free-bed",
        title="No free bed in this facility",
        about=(
            "No bed of the kind asked for is free (and not held) for all of these nights in "
            "this facility. Search availability for other facilities or nights."
        ),
        members={
            "facility_id": "the facility",
            "kind": "`respite` or `home`",
            "reason": "the same refusal as a short code, as older clients read it",
        },
    ),
    HoldCapReachedError: ProblemKind(
        status=429,
        slug="hold-cap-reached",
        title="Too many live holds",
        about="A principal keeps a bounded number of live holds: confirm or release one first.",
        members={"cap": "how many live holds this principal may keep", **RETRY_AFTER},
    ),
    HoldsUnavailable: ProblemKind(
        status=503,
        slug="holds-unavailable",
        title="Holds are unavailable",
        about="Redis, which keeps the holds, does not answer; nothing was held. Retry shortly.",
        members={"service": "`redis`", **RETRY_AFTER},
    ),
    # -- booking -------------------------------------------------------------------------
    BedTakenError: ProblemKind(
        status=409,
        slug="bed-taken",
        title="The bed is taken on a night of the stay",
        about=(
            "A booking or a block of this bed already claims a night of the stay; nothing was "
            "written. Choose another bed or other nights."
        ),
        members={
            "bed_id": "the bed",
            "night": "the first night taken (YYYY-MM-DD)",
            "conflicting_booking": "the booking that claims it, or null",
            "conflicting_block": "the block that claims it, or null",
        },
    ),
    ElderAlreadyStayingError: ProblemKind(
        status=409,
        slug="elder-already-staying",
        title="The elder already has a stay on these nights",
        about=(
            "An elder takes one bed a night: another confirmed or checked-in stay of the same "
            "elder shares a night with this one. Cancel or change that stay first."
        ),
        members={
            "care_recipient_id": "the elder",
            "conflicting_stay": "the other stay: `check_in` and `check_out`",
        },
    ),
    PriceChangedError: ProblemKind(
        status=409,
        slug="price-changed",
        title="The bed's price changed since the hold",
        about=(
            "What a hold showed is what is charged: staff changed the bed's nightly price "
            "between the hold and its confirm, so nothing was booked. Place a new hold to see "
            "(and accept) the current price."
        ),
        members={
            "bed_id": "the bed",
            "hold_id": "the hold confirmed",
            "held_nightly_price": "the nightly price the hold showed (minor units)",
            "current_nightly_price": "the bed's nightly price now (minor units)",
        },
    ),
    StepNotAllowedError: ProblemKind(
        status=409,
        slug="step-not-allowed",
        title="This step is not allowed now",
        about=(
            "The life-cycle step does not apply to the booking in its current status or on "
            "today's date at the facility; nothing was changed. `detail` says why."
        ),
        members={
            "booking_id": "the booking",
            "current_status": "its status now",
            "action": "the step asked for: `check_in`, `check_out`, `no_show` or `cancel`",
        },
    ),
    IneligibleError: ProblemKind(
        status=422,
        slug="not-eligible",
        title="Not eligible for this bed",
        about=(
            "The eligibility decision refuses this elder for this bed and stay; nothing was "
            "written. At a facility's desk its staff (or an admin) may still book a walk-in by "
            "giving `override_reason` and naming in `overrides` every refused rule, each in "
            "the form `override_options` gives; a rule allowed `never` cannot be overridden."
        ),
        members={
            "policy_code": "the policy that decided",
            "refused": "the codes of the reasons that refused",
            "reasons": "every reason: `code`, `ok`, messages and `figures`",
            "override_options": (
                "for each refused code, in order: `code` and `allowed`, how the policy lets "
                "staff override it: `with_reason` (name it in `overrides`), "
                "`with_acknowledgement` (name it with `acknowledged: true`) or `never`; empty "
                "for a refused hold, which nobody overrides"
            ),
            "not_overridden": (
                "the refused codes that the request's overrides did not cover in an allowed "
                "form (all of `refused` when it named none)"
            ),
        },
    ),
    # -- referral ------------------------------------------------------------------------
    ReferralStepNotAllowedError: ProblemKind(
        status=409,
        slug="referral-step-not-allowed",
        title="The referral's status does not allow this step",
        about=(
            "The referral has moved on: it was cancelled or expired before a hold or booking "
            "for it, or it is booked and cannot be cancelled until its booking is. Nothing was "
            "changed, neither the referral nor the hold or booking. Read the referral again "
            "and take one of the allowed steps."
        ),
        members={
            "referral_id": "the referral",
            "current_status": "its status now: `open`, `held`, `booked`, `admitted`, ...",
            "step": "the step refused: `hold`, `confirm`, `cancel`, `check_in`, ...",
            "allowed_steps": "the steps its status allows now (none once it is final)",
        },
    ),
    EndpointLimitReachedError: ProblemKind(
        status=409,
        slug="endpoint-limit-reached",
        title="Too many active callback endpoints",
        about="The hospital has as many active endpoints as it may; disable one first.",
        members={"max_endpoints": "how many active endpoints a hospital may have"},
    ),
    DeliveryInFlightError: ProblemKind(
        status=409,
        slug="delivery-in-flight",
        title="The delivery is being attempted",
        about=(
            "A redelivery was asked for while the callback is being sent. Read the delivery "
            "again in a few seconds; ask for a redelivery once it has an outcome."
        ),
        members={"delivery_id": "the delivery"},
    ),
    # -- auth ----------------------------------------------------------------------------
    AccountExistsError: ProblemKind(
        status=409,
        slug="account-exists",
        title="An account with this login exists",
        about=(
            "The email address or phone number already belongs to an account (which of the "
            "two is not said). Sign in with it, or register with another."
        ),
    ),
}


def _http(status: int, slug: str, about: str) -> ProblemKind:
    return ProblemKind(status=status, slug=slug, title=HTTPStatus(status).phrase, about=about)


# What the framework itself answers (no route, no such method, a body too large ...).
HTTP_PROBLEMS: dict[int, ProblemKind] = {
    400: _http(400, "bad-request", "A header or query parameter cannot be read."),
    405: _http(405, "method-not-allowed", "The route exists but not with this method."),
    406: _http(406, "not-acceptable", "The route cannot answer in the media type asked for."),
    413: _http(413, "body-too-large", "The body is larger than the service accepts."),
    415: _http(415, "unsupported-media-type", "The body's media type is not one the route reads."),
}
INTERNAL = ProblemKind(
    status=500,
    slug="internal",
    title="Internal error",
    about="A bug: nothing internal is shown. Quote the `error_id` when reporting it.",
    members={"error_id": "the id under which the error was logged"},
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
    note_problem(request.scope, kind.slug, extensions)
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
    kind = _http_kind(status)
    return _problem(request, kind, exc.detail, headers=exc.headers)


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
    kind = INTERNAL
    detail = f"an unexpected error occurred; quote error id {error_id} when reporting it"
    return _problem(request, kind, detail, {"error_id": error_id})


def _http_kind(status: int) -> ProblemKind:
    """The kind of an HTTP exception: the documented one of its status, or the domain kind
    that shares the status (401, 403, 404, 429, 503 mean the same from either side)."""
    if status in HTTP_PROBLEMS:
        return HTTP_PROBLEMS[status]
    for kind in PROBLEMS.values():
        if kind.status == status and kind.slug not in {"busy", "timeout", "conflict"}:
            return kind
    return _http(status, "bad-request" if status < 500 else "unavailable", "")


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
