"""The words every request and answer shares, each typed and described once (DESIGN.md §3).

A field named with one of these types documents itself in the API reference. Ids carry the
bounds of a PostgreSQL bigint; the rest describe what a client reads. Only the standard library
and msgspec: every layer imports from here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from msgspec import Meta

from respite.params import MAX_ID

__all__ = [
    "AssessmentId",
    "BedId",
    "BlockId",
    "BookingId",
    "CareRecipientId",
    "CheckIn",
    "CheckOut",
    "CreatedAt",
    "CurrencyCode",
    "FacilityId",
    "HoldId",
    "HospitalId",
    "NextCursor",
    "NightlyPrice",
    "Nights",
    "PrincipalId",
    "ReferralId",
    "TotalPrice",
    "UpdatedAt",
]


def _id(of: str) -> Meta:
    return Meta(ge=1, le=MAX_ID, description=f"The id of the {of}.")


FacilityId = Annotated[int, _id("facility")]
AssessmentId = Annotated[int, _id("assessment")]
BedId = Annotated[int, _id("bed")]
BlockId = Annotated[int, _id("block")]
BookingId = Annotated[int, _id("booking")]
CareRecipientId = Annotated[int, _id("care recipient (the elder)")]
ReferralId = Annotated[int, _id("hospital's referral")]
HospitalId = Annotated[int, _id("hospital")]
PrincipalId = Annotated[int, _id("account (principal) that acted")]
HoldId = Annotated[
    str,
    Meta(
        description="The id of the hold, as the hold's answer gave it.",
        examples=["17-3f9c2a7b41d05e6c8a92"],
    ),
]

CheckIn = Annotated[
    date,
    Meta(
        description="The first night of the stay (YYYY-MM-DD), in the facility's local calendar.",
        examples=["2027-05-01"],
    ),
]
CheckOut = Annotated[
    date,
    Meta(
        description=(
            "The morning the stay ends (YYYY-MM-DD): the night before it is the last one. "
            "The stay is the nights [check_in, check_out)."
        ),
        examples=["2027-05-08"],
    ),
]
Nights = Annotated[int, Meta(description="How many nights the stay has (check_out - check_in).")]

NightlyPrice = Annotated[
    int,
    Meta(
        description="The price of one night, in fen (1 yuan = 100 fen): minor units of currency.",
        examples=[28000],
    ),
]
TotalPrice = Annotated[
    int,
    Meta(
        description="The price of every night of the stay together, in fen (minor units).",
        examples=[196000],
    ),
]
CurrencyCode = Annotated[
    str, Meta(description="ISO 4217 code of the prices' currency.", examples=["CNY"])
]

NextCursor = (
    Annotated[
        str, Meta(description="Pass it as cursor to get the next page; null on the last page.")
    ]
    | None
)

CreatedAt = Annotated[datetime, Meta(description="When it was created (ISO 8601, with offset).")]
UpdatedAt = Annotated[datetime, Meta(description="When it last changed (ISO 8601, with offset).")]
