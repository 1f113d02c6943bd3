"""What a hospital reads back about a referral: the referral itself, and the facilities with a
bed the patient may take (with the nearer ones not offered, and why). The words shared with
the request (``model.py``) are said here once."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from msgspec import Meta, Struct

from respite.availability.answer import DistanceKm, FacilityName, FreeBeds
from respite.availability.model import FreeBed, PolicyRef, PolicyRefusal
from respite.eligibility.model import BedKind, Reason
from respite.i18n import Text
from respite.inventory.profile import FacilityContact
from respite.vocabulary import (
    BookingId,
    CareRecipientId,
    CheckIn,
    CheckOut,
    CreatedAt,
    CurrencyCode,
    FacilityId,
    HoldId,
    HospitalId,
    ReferralId,
    UpdatedAt,
)

__all__ = [
    "AREA_LAT",
    "AREA_LON",
    "AREA_RADIUS",
    "AREA_TEXT",
    "BED_NEEDED",
    "CONTACT_NAME",
    "DEPARTMENT",
    "DISCHARGE",
    "EMAIL",
    "NOTE",
    "Area",
    "Candidate",
    "CloserFacility",
    "Contact",
    "Referral",
    "ReferralAnswer",
    "ReferralState",
    "ReferralStatus",
    "SearchWindow",
]

ReferralStatus = Literal["open", "held", "booked", "admitted", "completed", "cancelled", "expired"]

# What each field means, said once for the request (model.py) and the answer.
AREA_LAT = Meta(
    description="Latitude of the centre of the area "
    "(decimal degrees, in the coordinate system RESPITE_COORDINATE_SYSTEM names)."
)
AREA_LON = Meta(
    description="Longitude of the centre of the area "
    "(decimal degrees, in the coordinate system RESPITE_COORDINATE_SYSTEM names)."
)
AREA_RADIUS = Meta(description="How far around the centre to look, in km (0.1-50).")
AREA_TEXT = Meta(description="The area in words, e.g. a district or street.")
CONTACT_NAME = Meta(description="Name of the person at the hospital who answers for it.")
DEPARTMENT = Meta(description="Their department or ward.")
EMAIL = Meta(description="Their email address.")
BED_NEEDED = Meta(description="The kind of bed the patient needs.")
DISCHARGE = Meta(description="The day the patient leaves hospital (YYYY-MM-DD): check-in.")
NOTE = Meta(description="Anything the facility should know, in free text.")
_REFERRAL_STATUS = Meta(
    description="open, held (a bed is held), booked, admitted (checked in), completed "
    "(checked out); or cancelled, expired (no booking by the discharge date)."
)
ReferralState = Annotated[ReferralStatus, _REFERRAL_STATUS]


class Area(Struct, frozen=True, kw_only=True):
    """Where the referral looks for a bed."""

    lat: Annotated[float, AREA_LAT]
    lon: Annotated[float, AREA_LON]
    radius_km: Annotated[float, AREA_RADIUS]
    description: Annotated[str, AREA_TEXT]


class Contact(Struct, frozen=True, kw_only=True):
    """Whom the facility calls at the hospital; the phone only as its last 4 digits."""

    name: Annotated[str, CONTACT_NAME]
    department: Annotated[str, DEPARTMENT]
    email: Annotated[str, EMAIL] | None
    phone_last4: Annotated[str, Meta(description="The last 4 digits of their phone.")] | None


class Referral(Struct, frozen=True, kw_only=True):
    """A hospital's request to place a patient being discharged, and where it stands."""

    id: ReferralId
    hospital_id: HospitalId
    care_recipient_id: Annotated[CareRecipientId, Meta(description="The patient.")]
    status: ReferralState
    kind: Annotated[BedKind, BED_NEEDED]
    discharge_date: Annotated[date, DISCHARGE]
    nights: Annotated[int, Meta(description="Nights asked for; null: open-ended home care.")] | None
    preferred_area: (
        Annotated[Area, Meta(description="Where to look; null: around the patient's home.")] | None
    )
    contact: Annotated[Contact, Meta(description="Whom the facility calls.")]
    note: Annotated[str, NOTE]
    hold_id: Annotated[HoldId, Meta(description="The latest hold placed for this referral.")] | None
    booking_id: (
        Annotated[BookingId, Meta(description="The booking made for it, once booked.")] | None
    )
    facility: Annotated[
        FacilityContact | None,
        Meta(
            description="The facility of the referral's latest hold or its booking, and whom "
            "to call there; null while it is placed nowhere."
        ),
    ]
    status_reason: (
        Annotated[
            str,
            Meta(description="Why it was cancelled (by the hospital, or a no-show) or expired."),
        ]
        | None
    )
    created_at: CreatedAt
    updated_at: UpdatedAt


class CloserFacility(Struct, frozen=True, kw_only=True):
    """A facility nearer than a candidate that was not offered, and why."""

    facility_id: FacilityId
    name: FacilityName
    distance_km: DistanceKm
    reasons: Annotated[list[Reason], Meta(description="Why it was not offered.")]


class Candidate(Struct, frozen=True, kw_only=True):
    """A facility with beds the patient may take, with the nearer ones not offered and why."""

    rank: Annotated[int, Meta(description="1 for the nearest candidate, then 2, 3 ...")]
    facility_id: FacilityId
    name: FacilityName
    distance_km: DistanceKm
    currency: CurrencyCode
    policy: Annotated[PolicyRef, Meta(description="The eligibility policy the facility applies.")]
    price_from: Annotated[
        int, Meta(description="The lowest nightly price in fen of a matching bed here.")
    ]
    free_beds: FreeBeds
    held_beds: Annotated[int, Meta(description="How many matching beds others hold right now.")]
    beds: Annotated[
        list[FreeBed],
        Meta(description="Free beds this patient may take, cheapest first: hold one by bed_id."),
    ]
    closer_not_offered: Annotated[
        list[CloserFacility], Meta(description="Nearer facilities not offered, and why.")
    ]


class SearchWindow(Struct, frozen=True, kw_only=True):
    """The stay the candidates were searched for."""

    check_in: CheckIn
    check_out: CheckOut


class ReferralAnswer(Struct, frozen=True, kw_only=True):
    """The referral with its candidates: availability and eligibility together."""

    referral: Annotated[Referral, Meta(description="The referral.")]
    search: Annotated[SearchWindow, Meta(description="The stay the candidates were searched for.")]
    candidates: Annotated[
        list[Candidate],
        Meta(description="Facilities with a bed for the patient, nearest first."),
    ]
    refused: Annotated[
        list[PolicyRefusal],
        Meta(description="Policies under which the patient qualifies for no bed, and why."),
    ]
    summary: Annotated[
        Text | None,
        Meta(description="When eligibility hid nearer facilities: a sentence on why."),
    ]
    holds_unknown: Annotated[
        bool, Meta(description="True when holds could not be read: a listed bed may be held.")
    ]
