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
    └── RequestTimeoutError    the request ran past the time limit
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = [
    "AuthenticationError",
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
    message: str


class RespiteError(Exception):
    """Base of every error the service answers on purpose."""

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class InvalidInputError(RespiteError):
    def __init__(self, errors: list[FieldError], detail: str | None = None) -> None:
        first = errors[0] if errors else FieldError("$", "invalid")
        super().__init__(detail or f"{first.field}: {first.message}")
        self.errors = errors

    @classmethod
    def one(cls, field: str, message: str) -> InvalidInputError:
        return cls([FieldError(field, message)])


class MalformedBodyError(RespiteError):
    pass


class NotFoundError(RespiteError):
    def __init__(self, what: str, ident: object) -> None:
        super().__init__(f"no {what} with id {ident}", entity=what)


class ConflictError(RespiteError):
    pass


class AuthenticationError(RespiteError):
    pass


class PermissionDeniedError(RespiteError):
    pass


class RateLimitedError(RespiteError):
    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after


class UnavailableError(RespiteError):
    def __init__(self, service: str, retry_after: int = 2) -> None:
        super().__init__(
            f"{service} is unavailable; retry shortly", service=service, retry_after=retry_after
        )
        self.retry_after = retry_after


class RequestTimeoutError(RespiteError):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"the request took longer than {seconds:g} s", retry_after=1)
