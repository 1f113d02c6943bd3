"""Domain errors shared by every part of respite.

They carry data, not HTTP: ``problems.py`` maps each class to a problem-details answer.

    RespiteError
    ├── InvalidInputError      a field (or several) is wrong; lists them with their paths
    ├── MalformedBodyError     the body is not JSON at all, or not the expected media type
    ├── NotFoundError          no such object, or not the caller's (ids cannot be probed)
    ├── ConflictError          the request clashes with the current state
    ├── AuthenticationError    no valid credential
    ├── PermissionDeniedError  a valid credential whose role may not do this
    ├── RateLimitedError       too many attempts; retry after a while
    ├── UnavailableError       a backing service is down; retry after a while
    ├── BusyError              a lock wait, a deadlock or a statement timeout: retry shortly
    └── RequestTimeoutError    the request ran past the time limit

``ConflictError`` is only a base: every conflict a client can meet is a subclass of its own
in its domain's ``errors.py``, with its own problem ``type`` and typed extension members.
"""

from __future__ import annotations

from typing import Any

import msgspec

from respite.i18n import Text, render, t

__all__ = [
    "AuthenticationError",
    "BusyError",
    "ConflictError",
    "FieldError",
    "InvalidInputError",
    "MalformedBodyError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "RequestTimeoutError",
    "RespiteError",
    "UnavailableError",
]


class FieldError(msgspec.Struct, frozen=True):
    field: str
    message: Text


class RespiteError(Exception):
    """Base of every error the service answers on purpose.

    ``detail`` is a catalog message (``Text``), said in the caller's language at the edge;
    ``str(error)`` is its English, for logs.
    """

    def __init__(self, detail: Text, **extensions: Any) -> None:
        super().__init__(render(detail, "en"))
        self.detail = detail
        self.extensions = extensions


class InvalidInputError(RespiteError):
    def __init__(self, errors: list[FieldError], detail: Text | None = None) -> None:
        first = errors[0] if errors else FieldError("$", t("input.invalid"))
        super().__init__(
            detail or t("problem.detail.invalid_field", field=first.field, message=first.message)
        )
        self.errors = errors

    @classmethod
    def one(cls, field: str, message: Text) -> InvalidInputError:
        return cls([FieldError(field, message)])


class MalformedBodyError(RespiteError):
    pass


class NotFoundError(RespiteError):
    def __init__(self, what: str, ident: object) -> None:
        entity = t(f"entity.{what.replace(' ', '_')}")
        super().__init__(t("problem.detail.not_found", entity=entity, ident=ident), entity=what)


class ConflictError(RespiteError):
    pass


class AuthenticationError(RespiteError):
    pass


class PermissionDeniedError(RespiteError):
    pass


class RateLimitedError(RespiteError):
    def __init__(self, detail: Text, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after


class UnavailableError(RespiteError):
    def __init__(self, service: str, retry_after: int = 2) -> None:
        super().__init__(
            t("problem.detail.unavailable", service=t(f"service.{service}")),
            service=service,
            retry_after=retry_after,
        )
        self.retry_after = retry_after


class BusyError(RespiteError):
    """PostgreSQL did not grant a lock in time, broke a deadlock, or cancelled a statement
    that ran past ``statement_timeout``: nothing was changed, and a retry will likely pass."""

    def __init__(self, retry_after: int = 1) -> None:
        super().__init__(t("problem.detail.busy"), retry_after=retry_after)
        self.retry_after = retry_after


class RequestTimeoutError(RespiteError):
    def __init__(self, seconds: float) -> None:
        super().__init__(t("problem.detail.timeout", seconds=f"{seconds:g}"), retry_after=1)
