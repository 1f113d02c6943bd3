"""Referrals: requests, answers, the life cycle and the ranking of candidates, as Structs and
pure functions (no I/O, no clock).

The life cycle of a referral::

    open ──hold──▶ held ──confirm──▶ booked ──check_in──▶ admitted ──check_out──▶ completed
     │  └───────confirm────────────▶   │
     │                                 ├──no_show──▶ cancelled
     │                                 └──booking_cancelled──▶ open   (pick another bed)
     └── open / held ──cancel──▶ cancelled, ──expire──▶ expired (no booking by discharge)
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Final, Literal, get_args

from msgspec import Meta, Struct

from respite.auth.model import Email, Phone, Principal
from respite.availability.model import (
    AvailabilityPage,
)
from respite.booking.events import BookingEventType
from respite.eligibility.model import BedKind, Latitude, Longitude, Reason
from respite.errors import NotFoundError
from respite.i18n import InvalidField, t
from respite.recipients.model import NewAssessment, NewCareRecipient
from respite.referral.answer import (
    AREA_LAT,
    AREA_LON,
    AREA_RADIUS,
    AREA_TEXT,
    BED_NEEDED,
    CONTACT_NAME,
    DEPARTMENT,
    DISCHARGE,
    EMAIL,
    NOTE,
    Area,
    Candidate,
    CloserFacility,
    Contact,
    Referral,
    ReferralAnswer,
    ReferralStatus,
    SearchWindow,
)
from respite.vocabulary import (
    CareRecipientId,
)

__all__ = [
    "EVENT_TYPES",
    "MAX_PAGE",
    "MAX_RESPITE_NIGHTS",
    "OPEN_ENDED_SEARCH_NIGHTS",
    "STATUSES",
    "TRIGGER_OF_EVENT",
    "Area",
    "CancelReferral",
    "Candidate",
    "CloserFacility",
    "Contact",
    "CreateReferral",
    "EventType",
    "HospitalContact",
    "IllegalReferralTransition",
    "NewReferral",
    "PreferredArea",
    "Referral",
    "ReferralAnswer",
    "ReferralCancellation",
    "ReferralEventType",
    "ReferralFilter",
    "ReferralStatus",
    "SearchWindow",
    "Trigger",
    "advance",
    "hospital_of",
    "rank_candidates",
    "search_window",
]

STATUSES: tuple[ReferralStatus, ...] = get_args(ReferralStatus)
Trigger = Literal[
    "hold",
    "confirm",
    "check_in",
    "check_out",
    "no_show",
    "booking_cancelled",
    "cancel",
    "expire",
    "change",
]
ReferralEventType = Literal["referral.held", "referral.cancelled", "referral.expired"]
WaitlistEventType = Literal["waitlist.offer_made", "waitlist.offer_lapsed"]
"""An entry of the waiting list made for the referral was offered a bed, or let it lapse; the
referral's status does not change with them."""
EventType = Literal[BookingEventType, ReferralEventType, WaitlistEventType]
EVENT_TYPES: tuple[EventType, ...] = get_args(EventType)
TRIGGER_OF_EVENT: Final[dict[BookingEventType, Trigger]] = {
    "booking.confirmed": "confirm",
    "booking.cancelled": "booking_cancelled",
    "booking.checked_in": "check_in",
    "booking.checked_out": "check_out",
    "booking.no_show": "no_show",
    "booking.changed": "change",
}

# The availability search offers respite stays of up to 90 nights and home-care stays of up
# to 366; an open-ended home-care request is searched for its first month.
MAX_RESPITE_NIGHTS: Final = 90
MAX_HOME_NIGHTS: Final = 366
OPEN_ENDED_SEARCH_NIGHTS: Final = 30
MAX_PAGE: Final = 200

Nights = Annotated[int, Meta(ge=1, le=MAX_HOME_NIGHTS)]
RadiusKm = Annotated[float, Meta(ge=0.1, le=50)]
ShortText = Annotated[str, Meta(max_length=200)]
Note = Annotated[str, Meta(max_length=2000)]
ContactName = Annotated[str, Meta(min_length=1, max_length=100)]
Reason500 = Annotated[str, Meta(min_length=1, max_length=500)]
_NEXT: Final[dict[ReferralStatus, dict[Trigger, ReferralStatus]]] = {
    "open": {"hold": "held", "confirm": "booked", "cancel": "cancelled", "expire": "expired"},
    "held": {"hold": "held", "confirm": "booked", "cancel": "cancelled", "expire": "expired"},
    "booked": {
        "check_in": "admitted",
        "no_show": "cancelled",
        "booking_cancelled": "open",
        "change": "booked",
    },
    "admitted": {"check_out": "completed", "change": "admitted"},
    "completed": {},
    "cancelled": {},
    "expired": {},
}


class IllegalReferralTransition(Exception):
    """``trigger`` is not a step a referral in ``status`` may take; ``allowed`` are."""

    def __init__(self, status: ReferralStatus, trigger: Trigger) -> None:
        self.status = status
        self.trigger = trigger
        self.allowed: list[Trigger] = list(_NEXT[status])
        allowed = ", ".join(self.allowed) or "nothing (it is final)"
        super().__init__(
            f"a referral that is {status} cannot take '{trigger}'; it allows {allowed}"
        )


def advance(status: ReferralStatus, trigger: Trigger) -> ReferralStatus:
    """The referral's next status, or IllegalReferralTransition."""
    following = _NEXT[status].get(trigger)
    if following is None:
        raise IllegalReferralTransition(status, trigger)
    return following


class PreferredArea(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where to look for a bed; default: around the patient's home, 10 km."""

    lat: Annotated[Latitude, AREA_LAT]
    lon: Annotated[Longitude, AREA_LON]
    radius_km: Annotated[RadiusKm, AREA_RADIUS] = 10.0
    description: Annotated[ShortText, AREA_TEXT] = ""


class HospitalContact(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Who at the hospital answers for this placement."""

    name: Annotated[ContactName, CONTACT_NAME]
    department: Annotated[ShortText, DEPARTMENT] = ""
    phone: (
        Annotated[
            Phone,
            Meta(
                description="Their phone; stored encrypted, answered as its last 4 digits, "
                "but whole to the staff of the facility the referral is placed with "
                "(GET /v1/facilities/{id}/referrals), audited."
            ),
        ]
        | None
    ) = None
    email: Annotated[Email, EMAIL] | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidField("name", t("referral.not_blank"))


class NewReferral(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A discharge placement: the patient (a new one, or one of the hospital's own by id),
    when they leave hospital, for how long, where, and whom to call."""

    care_recipient_id: (
        Annotated[
            CareRecipientId,
            Meta(description="One of the hospital's own patients already registered; or patient."),
        ]
        | None
    ) = None
    patient: (
        Annotated[
            NewCareRecipient, Meta(description="A new patient to register; or care_recipient_id.")
        ]
        | None
    ) = None
    assessment: (
        Annotated[
            NewAssessment,
            Meta(description="The current assessment: required with a new patient, else optional."),
        ]
        | None
    ) = None
    kind: Annotated[BedKind, BED_NEEDED] = "respite"
    discharge_date: Annotated[date, DISCHARGE]
    nights: (
        Annotated[
            Nights,
            Meta(
                description="How many nights: respite 1-90, required; home care 1-366, or null "
                "for open-ended care."
            ),
        ]
        | None
    ) = None
    preferred_area: (
        Annotated[
            PreferredArea,
            Meta(description="Where to look; by default 10 km around the patient's home."),
        ]
        | None
    ) = None
    contact: Annotated[HospitalContact, Meta(description="Whom the facility calls.")]
    note: Annotated[Note, NOTE] = ""

    def __post_init__(self) -> None:
        if (self.care_recipient_id is None) == (self.patient is None):
            raise InvalidField("patient", t("referral.patient_or_recipient"))
        if self.patient is not None and self.assessment is None:
            raise InvalidField("assessment", t("referral.assessment_needed"))
        if self.kind == "respite":
            if self.nights is None:
                raise InvalidField("nights", t("referral.respite_needs_nights"))
            if self.nights > MAX_RESPITE_NIGHTS:
                raise InvalidField(
                    "nights", t("referral.respite_too_long", nights=MAX_RESPITE_NIGHTS)
                )
        patient = self.patient
        if self.kind == "home" and patient is not None and patient.home_lat is None:
            raise InvalidField("patient", t("referral.home_needs_location"))


class ReferralCancellation(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Why no bed is needed any more."""

    reason: Annotated[Reason500, Meta(description="Why the referral is cancelled.")]

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise InvalidField("reason", t("referral.not_blank"))


class CreateReferral(Struct, frozen=True, kw_only=True):
    referral: NewReferral
    idempotency_key: str
    """Required: a retry with the same key and body answers the same referral."""


class CancelReferral(Struct, frozen=True, kw_only=True):
    referral_id: int
    reason: str
    idempotency_key: str | None = None


class ReferralFilter(Struct, frozen=True, kw_only=True):
    status: ReferralStatus | None = None
    updated_since: datetime | None = None
    cursor: str | None = None
    """The ``next_cursor`` of the previous page."""
    limit: int = 50


def hospital_of(principal: Principal) -> int:
    """The principal's hospital; the routes let only hospitals through (404 for anyone else,
    as for another hospital's referral)."""
    if principal.role != "hospital" or principal.hospital_id is None:
        raise NotFoundError("hospital", principal.hospital_id)
    return principal.hospital_id


def search_window(discharge_date: date, nights: int | None, today: date) -> tuple[date, date]:
    """The stay to search for: from discharge (or today, once discharge has passed)."""
    check_in = max(discharge_date, today)
    return check_in, check_in + timedelta(days=nights or OPEN_ENDED_SEARCH_NIGHTS)


def _no_bed_reason(check_in: date, shift_days: int) -> Reason:
    direction = t("referral.shift.later" if shift_days > 0 else "referral.shift.earlier")
    return Reason(
        code="no_free_bed_for_stay",
        ok=False,
        message=t(
            "reason.no_free_bed_for_stay",
            check_in=check_in,
            days=abs(shift_days),
            direction=direction,
        ),
        figures={"check_in": check_in.isoformat(), "shift_days": shift_days},
    )


def _closer(page: AvailabilityPage, distance: float | None) -> list[CloserFacility]:
    """Facilities nearer than ``distance`` that eligibility excluded or that have no bed for
    these nights (only one shifted by a few days); every one when the distance is unknown."""
    found = [
        CloserFacility(
            facility_id=e.facility_id,
            name=e.name,
            distance_km=e.distance_km,
            reasons=[r for r in e.reasons if not r.ok],
        )
        for e in page.excluded
    ] + [
        CloserFacility(
            facility_id=a.facility_id,
            name=a.name,
            distance_km=a.distance_km,
            reasons=[_no_bed_reason(a.check_in, a.shift_days)],
        )
        for a in page.alternatives
    ]
    nearer = [
        f
        for f in found
        if distance is None or (f.distance_km is not None and f.distance_km < distance)
    ]
    return sorted(
        nearer, key=lambda f: (f.distance_km is None, f.distance_km or 0.0, f.facility_id)
    )


def rank_candidates(page: AvailabilityPage) -> list[Candidate]:
    """The facilities offered, in the search's order, each with the closer ones not offered."""
    return [
        Candidate(
            rank=rank,
            facility_id=f.facility_id,
            name=f.name,
            distance_km=f.distance_km,
            currency=f.currency,
            policy=f.policy,
            price_from=f.price_from,
            free_beds=f.free_beds,
            held_beds=f.held_beds,
            beds=f.beds,
            closer_not_offered=_closer(page, f.distance_km),
        )
        for rank, f in enumerate(page.facilities, start=1)
    ]
