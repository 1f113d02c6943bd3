"""Parameters shared by the routes of every domain: the id type, path ids, idempotency keys."""

from __future__ import annotations

from typing import Annotated

from litestar.params import HeaderParameter, PathParameter, QueryParameter
from msgspec import Meta

__all__ = [
    "MAX_ID",
    "Id",
    "IdempotencyHeader",
    "PathId",
    "QueryId",
    "RequiredIdempotencyHeader",
]

# Ids are PostgreSQL bigints: a larger number is refused as input rather than overflowing.
MAX_ID = 2**63 - 1
Id = Annotated[int, Meta(ge=1, le=MAX_ID)]
"""The one id type of every body field that names an object (``bed_id``, ``facility_id``...)."""
PathId = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
QueryId = Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)]
"""An optional filter by an object's id (``?facility_id=``)."""
IdempotencyHeader = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        description="Retry-safe key: the same key and body give the same result once",
        required=False,
    ),
]
# For the writes that always need one (confirming a hold, opening a referral): documented as
# required, and checked by idempotency.require_key so that its absence is named like any field.
RequiredIdempotencyHeader = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        description="Retry-safe key: the same key and body give the same result once",
        required=True,
    ),
]
