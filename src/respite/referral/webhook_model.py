"""Callbacks (webhooks): the events a hospital receives, its endpoints, the deliveries and
their attempts, and the retry schedule, as Structs and pure functions (no I/O, no clock).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Final, Literal

from msgspec import Meta, Struct

from respite.referral.answer import ReferralState
from respite.referral.model import EventType
from respite.vocabulary import (
    BedId,
    BookingId,
    CareRecipientId,
    CheckIn,
    CheckOut,
    CreatedAt,
    FacilityId,
    HoldId,
    Nights,
    ReferralId,
    UpdatedAt,
)

__all__ = [
    "RETRY_STEPS",
    "Actor",
    "Attempt",
    "Delivery",
    "DeliveryDetail",
    "DeliveryFilter",
    "DeliveryStatus",
    "Endpoint",
    "EndpointWithSecret",
    "Event",
    "EventBed",
    "EventBooking",
    "EventData",
    "EventHold",
    "NewEndpoint",
    "Party",
    "actor_of",
    "gives_up",
    "retry_delay",
]

# Retry delays of a failing callback, in seconds, before jitter: the last one repeats until
# the retry window (26 h by default) is over.
RETRY_STEPS: Final = (5.0, 30.0, 120.0, 600.0, 1800.0, 3600.0, 7200.0, 14400.0)


Party = Literal["hospital", "facility", "admin", "family", "system"]
_PARTY: Final[dict[str, Party]] = {
    "hospital": "hospital",
    "staff": "facility",
    "admin": "admin",
    "family": "family",
}


class Actor(Struct, frozen=True, kw_only=True):
    """Who made the change: ``party`` says on whose side (``system``: expiry)."""

    party: Annotated[
        Party,
        Meta(description="hospital, facility, admin, family; or system (expiry, no person)."),
    ]
    role: Annotated[str, Meta(description="The role of the account that acted, if any.")] | None


def actor_of(role: str | None) -> Actor:
    return Actor(party=_PARTY.get(role or "", "system"), role=role)


class EventBed(Struct, frozen=True, kw_only=True):
    """The bed of a hold or booking, and its facility."""

    id: BedId
    label: Annotated[str, Meta(description="The bed's label in its facility, e.g. 3F-12.")]
    facility_id: FacilityId
    facility_name: Annotated[str, Meta(description="The facility's name.")]


class EventBooking(Struct, frozen=True, kw_only=True):
    """The referral's booking as it is after the change."""

    id: BookingId
    status: Annotated[
        str, Meta(description="confirmed, checked_in, checked_out, cancelled or no_show.")
    ]
    bed: Annotated[EventBed, Meta(description="The bed booked.")]
    check_in: CheckIn
    check_out: CheckOut
    nights: Nights


class EventHold(Struct, frozen=True, kw_only=True):
    """The hold placed for the referral."""

    hold_id: HoldId
    expires_at: Annotated[
        datetime, Meta(description="When the hold ends unless confirmed or extended (ISO 8601).")
    ]
    bed: Annotated[EventBed, Meta(description="The bed held.")]
    check_in: CheckIn
    check_out: CheckOut


class EventOffer(Struct, frozen=True, kw_only=True):
    """The waiting list's offer for the referral: a bed held until ``deadline``; accept it
    with ``POST /v1/waitlist/offers/{offer_id}/accept``."""

    offer_id: Annotated[int, Meta(ge=1, description="The offer's id.")]
    entry_id: Annotated[int, Meta(ge=1, description="The waiting-list entry it was made for.")]
    status: Annotated[str, Meta(description="open, or lapsed (waitlist.offer_lapsed).")]
    deadline: Annotated[datetime, Meta(description="When it lapses unless accepted (ISO 8601).")]
    bed: Annotated[EventBed, Meta(description="The bed offered.")]
    check_in: CheckIn
    check_out: CheckOut


class EventData(Struct, frozen=True, kw_only=True):
    """What changed; never the patient's identifiers (national ID, phone)."""

    referral_id: ReferralId
    referral_status: Annotated[ReferralState, Meta(description="The referral's status now.")]
    previous_status: Annotated[
        ReferralState, Meta(description="The referral's status before the change.")
    ]
    care_recipient_id: Annotated[CareRecipientId, Meta(description="The patient.")]
    booking: (
        Annotated[EventBooking, Meta(description="booking.* events: the booking after the change.")]
        | None
    ) = None
    hold: Annotated[EventHold, Meta(description="referral.held: the hold placed.")] | None = None
    offer: Annotated[EventOffer, Meta(description="waitlist.* events: the offer.")] | None = None
    actor: Annotated[Actor, Meta(description="Who made the change.")]
    reason: (
        Annotated[str, Meta(description="Why, for a cancellation, a no-show or an expiry.")] | None
    ) = None


class Event(Struct, frozen=True, kw_only=True):
    """The body of a callback. ``id`` is the same on every retry and redelivery:
    de-duplicate by it."""

    id: Annotated[
        str,
        Meta(description="The event's id, the same on every retry: de-duplicate by it."),
    ]
    type: Annotated[EventType, Meta(description="What happened to the referral.")]
    created_at: Annotated[datetime, Meta(description="When it happened (ISO 8601).")]
    data: Annotated[EventData, Meta(description="What changed.")]


def retry_delay(failures: int, scale: float, rand: float) -> float:
    """Seconds before the next attempt after ``failures`` failed ones (≥ 1): exponential
    steps with full jitter (``rand`` uniform in [0, 1)), never less than ``scale`` seconds."""
    step = RETRY_STEPS[min(max(failures, 1), len(RETRY_STEPS)) - 1]
    return max(scale, step * scale * rand)


def gives_up(first_attempt_at: datetime, now: datetime, window_seconds: float) -> bool:
    """A failing delivery is given up (dead) once it has been retried for the whole window."""
    return (now - first_attempt_at).total_seconds() >= window_seconds


DeliveryStatus = Literal["pending", "delivered", "dead"]
CallbackUrl = Annotated[
    str,
    Meta(
        min_length=8,
        max_length=2000,
        description="Where callbacks are sent: HTTPS, to a host with public addresses only.",
    ),
]
Description = Annotated[str, Meta(max_length=200, description="What the endpoint is, in words.")]
_ENDPOINT_ID = Meta(description="The id of the callback endpoint.")


class NewEndpoint(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A URL to receive the hospital's callbacks at."""

    url: CallbackUrl
    description: Description = ""


class Endpoint(Struct, frozen=True, kw_only=True):
    """A URL that receives every change of the hospital's referrals."""

    id: Annotated[int, _ENDPOINT_ID]
    url: Annotated[str, Meta(description="Where callbacks are sent.")]
    description: Annotated[str, Meta(description="What the endpoint is, in words.")]
    created_at: CreatedAt
    disabled_at: (
        Annotated[datetime, Meta(description="When it was disabled; null while it receives.")]
        | None
    )
    previous_secret_valid_until: (
        Annotated[
            datetime,
            Meta(
                description="After a rotation, callbacks are signed with both secrets until then."
            ),
        ]
        | None
    )


class EndpointWithSecret(Endpoint, frozen=True, kw_only=True):
    """An endpoint with the secret that signs its callbacks, shown this once."""

    secret: Annotated[
        str,
        Meta(
            description="Shown once: whsec_ and the base64 of the key that signs the "
            "callbacks (Standard Webhooks)."
        ),
    ]


class Delivery(Struct, frozen=True, kw_only=True):
    """One event on its way to one endpoint, retried until delivered or given up."""

    id: Annotated[int, Meta(description="The id of the delivery.")]
    event_id: Annotated[str, Meta(description="The event's id (the webhook-id header).")]
    event_type: Annotated[str, Meta(description="The event's type, e.g. booking.confirmed.")]
    referral_id: ReferralId
    endpoint_id: Annotated[int, _ENDPOINT_ID]
    status: Annotated[
        DeliveryStatus,
        Meta(
            description="pending (being retried), delivered, or dead (given up: 26 h by default)."
        ),
    ]
    attempts: Annotated[int, Meta(description="How many attempts were made.")]
    next_attempt_at: Annotated[
        datetime, Meta(description="When the next attempt is due (ISO 8601).")
    ]
    in_flight: Annotated[bool, Meta(description="True while an attempt is being made.")]
    last_status_code: (
        Annotated[int, Meta(description="The HTTP status the endpoint last answered.")] | None
    )
    last_error: Annotated[str, Meta(description="Why the last attempt failed, if so.")] | None
    delivered_at: (
        Annotated[datetime, Meta(description="When the endpoint accepted it (2xx).")] | None
    )
    created_at: CreatedAt
    updated_at: UpdatedAt


class Attempt(Struct, frozen=True, kw_only=True):
    """One attempt to deliver an event."""

    attempt: Annotated[int, Meta(description="1 for the first attempt, then 2, 3 ...")]
    worker: Annotated[str, Meta(description="The process that made it.")]
    started_at: Annotated[datetime, Meta(description="When it began (ISO 8601).")]
    finished_at: (
        Annotated[
            datetime, Meta(description="When it ended; null: in progress, or its process stopped.")
        ]
        | None
    )
    status_code: Annotated[int, Meta(description="The HTTP status the endpoint answered.")] | None
    error: Annotated[str, Meta(description="Why it failed, if it did.")] | None
    duration_ms: Annotated[int, Meta(description="How long it took, in milliseconds.")] | None


class DeliveryDetail(Delivery, frozen=True, kw_only=True):
    """A delivery with every attempt made."""

    attempts_made: Annotated[list[Attempt], Meta(description="Every attempt, in order.")]


class DeliveryFilter(Struct, frozen=True, kw_only=True):
    """A page of a hospital's deliveries, by id."""

    status: DeliveryStatus | None = None
    referral_id: int | None = None
    cursor: str | None = None
    """The ``next_cursor`` of the previous page."""
    limit: int = 50
