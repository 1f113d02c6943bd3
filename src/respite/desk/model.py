"""What staff at a facility's desk read: the Structs of its answers, and the pure rules.

Only the standard library, msgspec, the catalog and the vocabulary of the lower layers.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Final, Literal

from msgspec import Meta, Struct

from respite.auth.model import Principal
from respite.booking.model import Status
from respite.eligibility.model import Need
from respite.errors import NotFoundError
from respite.i18n import Text, t
from respite.referral.model import ReferralStatus
from respite.vocabulary import (
    BedId,
    BookingId,
    CareRecipientId,
    CheckIn,
    CheckOut,
    HospitalId,
    NextCursor,
    ReferralId,
)

__all__ = [
    "MAX_PAGE",
    "BookedBy",
    "ContactReveal",
    "DayPage",
    "DayQuery",
    "ElderSearch",
    "EmergencyContact",
    "FoundBookings",
    "FoundElder",
    "FoundElders",
    "MatchedBy",
    "PlacedReferral",
    "Query",
    "ReferralListing",
    "RevealContact",
    "Search",
    "StayRow",
    "WardContact",
    "Which",
    "needs_words",
    "read_query",
    "refuse_other_facility",
    "status_words",
]

MAX_PAGE: Final = 200
Which = Literal["arrivals", "departures"]
_PHONE_LIKE: Final = re.compile(r"^\+?[0-9 ()-]*[0-9][0-9 ()-]*$")
_NOT_DIGITS: Final = re.compile(r"[^0-9]")
_FULL_NUMBER_DIGITS: Final = 6

RevealReason = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=300,
        description="Why staff need to call the emergency contact; kept in the audit log.",
    ),
]


class ContactReveal(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Why the contact is needed now: kept in the audit record of the reveal."""

    reason: RevealReason


class RevealContact(Struct, frozen=True, kw_only=True):
    care_recipient_id: int
    reason: str


class EmergencyContact(Struct, frozen=True, kw_only=True):
    """An elder's emergency contact in full, as revealed to staff (and audited)."""

    care_recipient_id: CareRecipientId
    name: Annotated[str, Meta(description="The contact's name; empty if none was given.")]
    phone: Annotated[
        str | None, Meta(description="The whole number as it was given; null if none was.")
    ]
    booking_id: Annotated[
        int | None,
        Meta(
            description="The stay at the caller's facility that allows the reveal (checked-in "
            "first, then the latest); null for an elder the facility registered itself."
        ),
    ]
    revealed_at: Annotated[datetime, Meta(description="When it was revealed (ISO 8601).")]


class StayRow(Struct, frozen=True, kw_only=True):
    """A booking at the facility as the desk reads it: who, which bed, what care they need."""

    booking_id: BookingId
    care_recipient_id: CareRecipientId
    elder_name: Annotated[str, Meta(description="The elder's name, in full.")]
    bed_id: BedId
    bed_label: Annotated[str, Meta(description="The bed's label at the facility.")]
    check_in: CheckIn
    check_out: CheckOut
    status: Annotated[Status, Meta(description="The booking's status.")]
    status_words: Annotated[Text, Meta(description="The status, in words.")]
    needs: Annotated[list[Need], Meta(description="The elder's care needs, as codes.")]
    needs_words: Annotated[list[Text], Meta(description="The elder's care needs, in words.")]
    emergency_contact_name: Annotated[str, Meta(description="The emergency contact's name.")]
    emergency_contact_phone_last4: Annotated[
        str | None,
        Meta(description="Reveal the whole number with POST .../emergency-contact/reveal."),
    ]
    referral_id: Annotated[
        int | None, Meta(description="The hospital referral the booking is for, if any.")
    ]


class DayQuery(Struct, frozen=True, kw_only=True):
    facility_id: int
    which: Which
    day: date | None = None
    """None: the facility's today."""
    cursor: str | None = None
    limit: int = 100


class DayPage(Struct, frozen=True, kw_only=True):
    """One page of a day's arrivals or departures, by bed label."""

    date: Annotated[date, Meta(description="The facility-local date listed.")]
    items: Annotated[list[StayRow], Meta(description="The stays, by bed label.")]
    next_cursor: NextCursor
    """Pass as ``cursor`` for the next page; null on the last page."""


MatchedBy = Literal["name", "last4", "phone"]

BookedBy = Literal["family", "hospital", "walk_in", "staff", "admin"]
"""Who made a booking: a family, a hospital's referral, staff at the desk for an elder in
front of them (a walk-in, booked without a hold), staff through a hold, or an admin."""


class Query(Struct, frozen=True):
    """How a search's ``q`` is read, and what is looked for."""

    by: MatchedBy
    value: str


class Search(Struct, frozen=True, kw_only=True):
    facility_id: int
    q: str
    cursor: str | None = None
    limit: int = 50


class FoundBookings(Struct, frozen=True, kw_only=True):
    """Bookings at the facility whose elder matched, newest first."""

    matched_by: Annotated[
        MatchedBy,
        Meta(description="How q was read: part of a name, a number's last 4 digits, a number."),
    ]
    items: Annotated[list[StayRow], Meta(description="The bookings found, newest first.")]
    next_cursor: NextCursor


class ElderSearch(Struct, frozen=True, kw_only=True):
    """Elders of the facility (registered there, or with a stay there) matching ``q``."""

    facility_id: int
    q: str
    limit: int = 20


class FoundElder(Struct, frozen=True, kw_only=True):
    """An elder the desk may book: who they are, the care they need, whom to call."""

    care_recipient_id: CareRecipientId
    name: Annotated[str, Meta(description="The elder's name, in full.")]
    sex: Annotated[str, Meta(description="female or male.")]
    birth_date: Annotated[date, Meta(description="The elder's birth date (YYYY-MM-DD).")]
    needs: Annotated[list[Need], Meta(description="The elder's care needs, as codes.")]
    needs_words: Annotated[list[Text], Meta(description="The elder's care needs, in words.")]
    level: Annotated[int | None, Meta(description="The latest assessment's level, if any.")]
    emergency_contact_name: Annotated[str, Meta(description="The emergency contact's name.")]
    emergency_contact_phone_last4: Annotated[
        str | None, Meta(description="The last four digits of the contact's number.")
    ]
    registered_here: Annotated[
        bool, Meta(description="True: the facility registered the elder (a walk-in).")
    ]


class FoundElders(Struct, frozen=True, kw_only=True):
    """The elders that matched, by name; ``more``: others matched too (narrow the search)."""

    matched_by: MatchedBy
    items: list[FoundElder]
    more: bool


class ReferralListing(Struct, frozen=True, kw_only=True):
    facility_id: int
    cursor: str | None = None
    limit: int = 50


class WardContact(Struct, frozen=True, kw_only=True):
    """Whom to call at the referring hospital: the ward and its contact person."""

    ward: Annotated[str, Meta(description="The ward or department that referred the patient.")]
    name: Annotated[str, Meta(description="The contact person at the ward.")]
    phone: Annotated[str | None, Meta(description="The whole number the hospital gave.")]
    email: Annotated[str | None, Meta(description="Their email address, if given.")]


class PlacedReferral(Struct, frozen=True, kw_only=True):
    """A hospital's referral placed with the facility (a bed held or booked there)."""

    id: ReferralId
    hospital_id: HospitalId
    hospital_name: Annotated[str, Meta(description="The referring hospital's name.")]
    care_recipient_id: CareRecipientId
    elder_name: Annotated[str, Meta(description="The patient's name, in full.")]
    status: Annotated[ReferralStatus, Meta(description="The referral's status.")]
    discharge_date: Annotated[
        date, Meta(description="The day the patient leaves hospital (YYYY-MM-DD).")
    ]
    nights: Annotated[int | None, Meta(description="Nights asked for; null: open-ended home care.")]
    booking_id: Annotated[int | None, Meta(description="The booking made for it, once booked.")]
    contact: Annotated[WardContact, Meta(description="Whom to call at the referring ward.")]
    note: Annotated[str, Meta(description="The hospital's note for the facility.")]


def refuse_other_facility(principal: Principal, facility_id: int) -> None:
    """Staff use the desk of their own facility only; to them another is not found."""
    if principal.role == "staff" and principal.facility_id != facility_id:
        raise NotFoundError("facility", facility_id)


def status_words(status: Status) -> Text:
    return t(f"staff.status.{status}")


def needs_words(needs: list[Need]) -> list[Text]:
    return [t(f"staff.need.{need}") for need in needs]


def read_query(text: str) -> Query | Text:
    """What a search's ``q`` asks for, or why it cannot be read.

    Digits (with spaces, hyphens, brackets or a leading +) are a phone number: 4 of them its
    last four, 6 or more the whole number; anything else is part of the elder's name."""
    q = text.strip()
    if not q:
        return t("staff.search.blank")
    if not _PHONE_LIKE.match(q):
        return Query("name", q)
    digits = _NOT_DIGITS.sub("", q)
    if len(digits) == 4 and not q.startswith("+"):
        return Query("last4", digits)
    if len(digits) >= _FULL_NUMBER_DIGITS:
        return Query("phone", q)
    return t("staff.search.digits")


def booked_by(role: str, *, held: bool, hospital: bool) -> BookedBy:
    """Who made a booking, from the booking account's role and how it was booked."""
    if hospital or role == "hospital":
        return "hospital"
    if role == "family":
        return "family"
    if role == "staff":
        return "staff" if held else "walk_in"
    return "admin"
