"""HTTP parameters shared by the routes of every domain."""

from __future__ import annotations

from typing import Annotated

from litestar.params import HeaderParameter, PathParameter

__all__ = ["MAX_ID", "IdempotencyHeader", "PathId", "RequiredIdempotencyHeader"]

# Ids are PostgreSQL bigints: a larger number is refused as input rather than overflowing.
MAX_ID = 2**63 - 1
PathId = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
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
