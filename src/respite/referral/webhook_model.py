"""Callbacks (webhooks): the events a hospital receives, its endpoints, the deliveries and
their attempts, and the retry schedule, as Structs and pure functions (no I/O, no clock).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Final, Literal

from msgspec import Meta, Struct

from respite.referral.model import EventType, ReferralStatus

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

    party: Party
    role: str | None


def actor_of(role: str | None) -> Actor:
    return Actor(party=_PARTY.get(role or "", "system"), role=role)


class EventBed(Struct, frozen=True, kw_only=True):
    id: int
    label: str
    facility_id: int
    facility_name: str


class EventBooking(Struct, frozen=True, kw_only=True):
    id: int
    status: str
    bed: EventBed
    check_in: date
    check_out: date
    nights: int


class EventHold(Struct, frozen=True, kw_only=True):
    hold_id: str
    expires_at: datetime
    bed: EventBed
    check_in: date
    check_out: date


class EventData(Struct, frozen=True, kw_only=True):
    """What changed; never the patient's identifiers (national ID, phone)."""

    referral_id: int
    referral_status: ReferralStatus
    previous_status: ReferralStatus
    care_recipient_id: int
    booking: EventBooking | None = None
    hold: EventHold | None = None
    actor: Actor
    reason: str | None = None


class Event(Struct, frozen=True, kw_only=True):
    """The body of a callback. ``id`` is the same on every retry and redelivery:
    de-duplicate by it."""

    id: str
    type: EventType
    created_at: datetime
    data: EventData


def retry_delay(failures: int, scale: float, rand: float) -> float:
    """Seconds before the next attempt after ``failures`` failed ones (≥ 1): exponential
    steps with full jitter (``rand`` uniform in [0, 1)), never less than ``scale`` seconds."""
    step = RETRY_STEPS[min(max(failures, 1), len(RETRY_STEPS)) - 1]
    return max(scale, step * scale * rand)


def gives_up(first_attempt_at: datetime, now: datetime, window_seconds: float) -> bool:
    """A failing delivery is given up (dead) once it has been retried for the whole window."""
    return (now - first_attempt_at).total_seconds() >= window_seconds


DeliveryStatus = Literal["pending", "delivered", "dead"]
CallbackUrl = Annotated[str, Meta(min_length=8, max_length=2000)]
Description = Annotated[str, Meta(max_length=200)]


class NewEndpoint(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    url: CallbackUrl
    """HTTPS, to a host with public addresses only."""
    description: Description = ""


class Endpoint(Struct, frozen=True, kw_only=True):
    id: int
    url: str
    description: str
    created_at: datetime
    disabled_at: datetime | None
    previous_secret_valid_until: datetime | None
    """After a rotation, callbacks are signed with both secrets until then."""


class EndpointWithSecret(Endpoint, frozen=True, kw_only=True):
    secret: str
    """Shown once, now: ``whsec_`` and the base64 of the key that signs the callbacks."""


class Delivery(Struct, frozen=True, kw_only=True):
    id: int
    event_id: str
    event_type: str
    referral_id: int
    endpoint_id: int
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    in_flight: bool
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    updated_at: datetime


class Attempt(Struct, frozen=True, kw_only=True):
    attempt: int
    worker: str
    started_at: datetime
    finished_at: datetime | None
    """Null: in progress, or the process stopped during it."""
    status_code: int | None
    error: str | None
    duration_ms: int | None


class DeliveryDetail(Delivery, frozen=True, kw_only=True):
    attempts_made: list[Attempt]


class DeliveryFilter(Struct, frozen=True, kw_only=True):
    """A page of a hospital's deliveries, by id."""

    status: DeliveryStatus | None = None
    referral_id: int | None = None
    cursor: str | None = None
    """The ``next_cursor`` of the previous page."""
    limit: int = 50
