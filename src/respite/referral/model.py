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
    FreeBed,
    PolicyRef,
    PolicyRefusal,
)
from respite.booking.events import BookingEventType
from respite.eligibility.model import Latitude, Longitude, Programme, Reason
from respite.errors import NotFoundError
from respite.inventory.profile import FacilityContact
from respite.recipients.model import Id, NewAssessment, NewCareRecipient

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

ReferralStatus = Literal["open", "held", "booked", "admitted", "completed", "cancelled", "expired"]
STATUSES: tuple[ReferralStatus, ...] = get_args(ReferralStatus)
Trigger = Literal[
    "hold", "confirm", "check_in", "check_out", "no_show", "booking_cancelled", "cancel", "expire"
]
ReferralEventType = Literal["referral.held", "referral.cancelled", "referral.expired"]
EventType = Literal[BookingEventType, ReferralEventType]
EVENT_TYPES: tuple[EventType, ...] = get_args(EventType)
TRIGGER_OF_EVENT: Final[dict[BookingEventType, Trigger]] = {
    "booking.confirmed": "confirm",
    "booking.cancelled": "booking_cancelled",
    "booking.checked_in": "check_in",
    "booking.checked_out": "check_out",
    "booking.no_show": "no_show",
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
    "booked": {"check_in": "admitted", "no_show": "cancelled", "booking_cancelled": "open"},
    "admitted": {"check_out": "completed"},
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

    lat: Latitude
    lon: Longitude
    radius_km: RadiusKm = 10.0
    description: ShortText = ""


class HospitalContact(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Who at the hospital answers for this placement."""

    name: ContactName
    department: ShortText = ""
    phone: Phone | None = None
    """Stored encrypted; answered as its last four digits only."""
    email: Email | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("name: must not be blank")


class NewReferral(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A discharge placement: the patient (a new one, or one of the hospital's own by id),
    when they leave hospital, for how long, where, and whom to call."""

    care_recipient_id: Id | None = None
    patient: NewCareRecipient | None = None
    assessment: NewAssessment | None = None
    """The current assessment; required with a new patient, optional with an existing one."""
    kind: Programme = "respite"
    discharge_date: date
    nights: Nights | None = None
    """Respite: 1 to 90 nights, required. Home care: 1 to 366, or null for open-ended care."""
    preferred_area: PreferredArea | None = None
    contact: HospitalContact
    note: Note = ""

    def __post_init__(self) -> None:
        if (self.care_recipient_id is None) == (self.patient is None):
            raise ValueError("patient: give the patient, or care_recipient_id of one of yours")
        if self.patient is not None and self.assessment is None:
            raise ValueError(
                "assessment: a new patient needs a current assessment; eligibility is decided "
                "by its level"
            )
        if self.kind == "respite":
            if self.nights is None:
                raise ValueError("nights: a respite stay needs a number of nights")
            if self.nights > MAX_RESPITE_NIGHTS:
                raise ValueError(f"nights: a respite stay is at most {MAX_RESPITE_NIGHTS} nights")
        patient = self.patient
        if self.kind == "home" and patient is not None and patient.home_lat is None:
            raise ValueError(
                "patient: a home-care bed is set up at home: give home_lat and home_lon"
            )


class ReferralCancellation(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Reason500

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise ValueError("reason: must not be blank")


class CreateReferral(Struct, frozen=True, kw_only=True):
    referral: NewReferral
    idempotency_key: str
    """Required: a retry with the same key and body answers the same referral."""


class CancelReferral(Struct, frozen=True, kw_only=True):
    referral_id: int
    reason: str
    idempotency_key: str | None = None


class Area(Struct, frozen=True, kw_only=True):
    lat: float
    lon: float
    radius_km: float
    description: str


class Contact(Struct, frozen=True, kw_only=True):
    name: str
    department: str
    email: str | None
    phone_last4: str | None


class Referral(Struct, frozen=True, kw_only=True):
    id: int
    hospital_id: int
    care_recipient_id: int
    status: ReferralStatus
    kind: Programme
    discharge_date: date
    nights: int | None
    """Null: open-ended home care."""
    preferred_area: Area | None
    contact: Contact
    note: str
    hold_id: str | None
    """The latest hold placed for this referral."""
    booking_id: int | None
    facility: Annotated[
        FacilityContact | None,
        Meta(
            description="The facility of the referral's latest hold or its booking, and whom "
            "to call there; null while it is placed nowhere."
        ),
    ]
    status_reason: str | None
    """Why it was cancelled (by the hospital, or a no-show) or expired."""
    created_at: datetime
    updated_at: datetime


class CloserFacility(Struct, frozen=True, kw_only=True):
    """A facility nearer than a candidate that was not offered, and why."""

    facility_id: int
    name: str
    distance_km: float | None
    reasons: list[Reason]


class Candidate(Struct, frozen=True, kw_only=True):
    rank: int
    facility_id: int
    name: str
    distance_km: float | None
    currency: str
    policy: PolicyRef
    price_from: int
    free_beds: int
    held_beds: int
    beds: list[FreeBed]
    """Free beds this patient may take, cheapest first; hold one with ``bed_id``."""
    closer_not_offered: list[CloserFacility]


class SearchWindow(Struct, frozen=True, kw_only=True):
    check_in: date
    check_out: date


class ReferralAnswer(Struct, frozen=True, kw_only=True):
    referral: Referral
    search: SearchWindow
    """The stay the candidates were searched for."""
    candidates: list[Candidate]
    """Nearest first: availability and eligibility together."""
    refused: list[PolicyRefusal]
    """Policies under which the patient qualifies for no bed at all, with the reasons."""
    summary: str | None
    holds_unknown: bool
    """Holds could not be read: a listed bed may be held by someone else right now."""


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
    later = "later" if shift_days > 0 else "earlier"
    return Reason(
        code="no_free_bed_for_stay",
        ok=False,
        message_en=f"No free bed for these nights; one is free from {check_in} "
        f"({abs(shift_days)} days {later}).",
        message_zh=f"所选日期没有空床；{check_in} 起有空床（{'推后' if shift_days > 0 else '提前'}"
        f"{abs(shift_days)} 天）。",
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
