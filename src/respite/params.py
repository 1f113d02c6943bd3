"""Parameters shared by the routes of every domain: the id type, path ids, idempotency keys."""

from __future__ import annotations

from typing import Annotated

from litestar.params import HeaderParameter, PathParameter, QueryParameter
from msgspec import Meta

__all__ = [
    "MAX_ID",
    "BedFilterId",
    "BedPathId",
    "BlockPathId",
    "BookingPathId",
    "CareRecipientPathId",
    "FacilityFilterId",
    "FacilityPathId",
    "HospitalPathId",
    "Id",
    "IdempotencyHeader",
    "PathId",
    "QueryId",
    "ReferralPathId",
    "RequiredIdempotencyHeader",
]

# Ids are PostgreSQL bigints: a larger number is refused as input rather than overflowing.
MAX_ID = 2**63 - 1
Id = Annotated[int, Meta(ge=1, le=MAX_ID)]
"""The one id type of every body field that names an object (``bed_id``, ``facility_id``...)."""
PathId = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
QueryId = Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)]
"""An optional filter by an object's id (``?facility_id=``). Like ``PathId`` it says nothing
in the API reference: a route takes a described one (below, or its own with a description)."""


def _path_id(of: str) -> PathParameter:
    return PathParameter(ge=1, le=MAX_ID, description=f"The id of the {of}.")


FacilityPathId = Annotated[int, _path_id("facility")]
BedPathId = Annotated[int, _path_id("bed")]
BlockPathId = Annotated[int, _path_id("block")]
BookingPathId = Annotated[int, _path_id("booking")]
CareRecipientPathId = Annotated[int, _path_id("care recipient (the elder)")]
HospitalPathId = Annotated[int, _path_id("hospital")]
ReferralPathId = Annotated[int, _path_id("referral")]
FacilityFilterId = Annotated[
    int | None, QueryParameter(ge=1, le=MAX_ID, description="Only those of this facility.")
]
BedFilterId = Annotated[
    int | None, QueryParameter(ge=1, le=MAX_ID, description="Only those of this bed.")
]

_KEY_TEXT = (
    "Retry-safe key the client makes for this write, e.g. a UUID: a retry with the same key "
    "and body answers what the first attempt answered, and changes nothing again. Another "
    "body with a key already used is refused (422). Keys are kept 2 days by default."
)
# Documented as the string it must be (Litestar would write "string or null" for the optional
# annotation, which only lets the handler name a missing key like any other field).
_KEY_SCHEMA = {
    "oneOf": None,
    "type": "string",
    "minLength": 1,
    "maxLength": 200,
    "pattern": r"^[\x21-\x7e]+$",
}
IdempotencyHeader = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key", description=_KEY_TEXT, required=False, schema_extra=_KEY_SCHEMA
    ),
]
# For the writes that always need one (confirming a hold, opening a referral): documented as
# required, and checked by idempotency.require_key so that its absence is named like any field.
RequiredIdempotencyHeader = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key", description=_KEY_TEXT, required=True, schema_extra=_KEY_SCHEMA
    ),
]
