"""Bookings: the life cycle as a pure function, the Structs of requests and answers, and the two
rules every stay obeys wherever it is judged: when two stays overlap, and what a stay costs.

The life cycle::

    confirmed ──check_in──▶ checked_in ──check_out──▶ checked_out
        │
        ├──no_show──▶ no_show        (frees every night)
        └──cancel───▶ cancelled      (frees every night)

``today`` is always the facility's local calendar date, passed in: nothing here reads a clock.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal, get_args

from msgspec import Meta, Struct

from respite.eligibility.model import MAX_STAY_NIGHTS, check_stay_dates
from respite.eligibility.overrides import MAX_OVERRIDES, Override
from respite.inventory.profile import FacilityContact
from respite.params import Id

__all__ = [
    "ACTIONS",
    "LIVE_STATUSES",
    "MAX_DAYS_AHEAD",
    "MAX_NIGHTS",
    "MAX_OVERRIDES",
    "MAX_PAGE",
    "MIN_OVERRIDE_REASON",
    "STATUSES",
    "Action",
    "Booking",
    "BookingFilter",
    "CancelBooking",
    "CancelReason",
    "Cancellation",
    "ChangeStatus",
    "IllegalTransition",
    "NewBooking",
    "Outcome",
    "OverrideReason",
    "Overrides",
    "Status",
    "TakeWalkIn",
    "WalkIn",
    "overlaps",
    "stay_price",
    "transition",
]

Status = Literal["confirmed", "checked_in", "checked_out", "cancelled", "no_show"]
Action = Literal["check_in", "check_out", "no_show", "cancel"]
STATUSES: tuple[Status, ...] = get_args(Status)
ACTIONS: tuple[Action, ...] = get_args(Action)
LIVE_STATUSES: tuple[Status, ...] = ("confirmed", "checked_in")
"""A booking in these holds its bed, and its elder, for its nights."""
# A stay claims one row per night: bound it so one request cannot write an unbounded ledger.
MAX_NIGHTS = MAX_STAY_NIGHTS
MAX_PAGE = 200
# How far ahead a stay may start: the desk books for elders in front of it, and dates near the
# end of the calendar would overflow the quota periods of the eligibility rules.
MAX_DAYS_AHEAD = 366
MIN_OVERRIDE_REASON = 10
OverrideReason = Annotated[str, Meta(min_length=MIN_OVERRIDE_REASON, max_length=1000)]
CancelReason = Annotated[str, Meta(min_length=1, max_length=500)]
Overrides = Annotated[list[Override], Meta(max_length=MAX_OVERRIDES)]

_ONE_NIGHT = timedelta(days=1)


def overlaps(check_in: date, check_out: date, other_in: date, other_out: date) -> bool:
    """Whether stays ``[check_in, check_out)`` and ``[other_in, other_out)`` share a night:
    leaving in the morning and arriving that evening do not."""
    return check_in < other_out and other_in < check_out


def stay_price(nightly_price: int, check_in: date, check_out: date) -> int:
    """What the nights ``[check_in, check_out)`` cost, in the minor units of the price."""
    return nightly_price * (check_out - check_in).days


def _check_stay(check_in: date, check_out: date) -> None:
    check_stay_dates(check_in, check_out)


class NewBooking(Struct, frozen=True, kw_only=True):
    """What ``book()`` books: a walk-in, a confirmed hold, (later) an accepted offer."""

    care_recipient_id: int
    bed_id: int
    check_in: date
    check_out: date
    hold_id: str | None = None
    override_reason: str | None = None
    """Staff's reason to book although the decision refuses (see ``book``)."""
    overrides: tuple[Override, ...] = ()
    """Each rule that ``override_reason`` overrides, in the form the policy asks for."""
    referral_id: int | None = None
    """The hospital's referral this booking is for; its listeners are told."""
    nightly_price: int | None = None
    """The nightly price a hold showed: ``book`` refuses (``price-changed``) if the bed's
    price is another now."""

    def __post_init__(self) -> None:
        _check_stay(self.check_in, self.check_out)


class WalkIn(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    care_recipient_id: Id
    bed_id: Id
    check_in: date
    check_out: date
    override_reason: OverrideReason | None = None
    """Staff's written reason to book although the eligibility decision refuses; it goes with
    ``overrides``."""
    overrides: Overrides = []
    """Every rule the reason overrides, each once (at most ``MAX_OVERRIDES``): its reason
    ``code``, and ``acknowledged: true`` for a rule the policy lets staff override only with an
    acknowledgement (a not-eligible answer lists each refusal's ``allowed`` form)."""
    check_in_now: bool = False

    def __post_init__(self) -> None:
        _check_stay(self.check_in, self.check_out)
        reason = self.override_reason
        if reason is not None and len(reason.strip()) < MIN_OVERRIDE_REASON:
            raise ValueError(f"override_reason: write at least {MIN_OVERRIDE_REASON} characters")
        if reason is not None and not self.overrides:
            raise ValueError("overrides: name each rule the override reason overrides")
        if self.overrides and reason is None:
            raise ValueError("override_reason: overriding a rule needs a written reason")
        codes = [override.code for override in self.overrides]
        repeated = next((code for code in codes if codes.count(code) > 1), None)
        if repeated is not None:
            raise ValueError(f"overrides: {repeated!r} is named more than once")


class TakeWalkIn(Struct, frozen=True, kw_only=True):
    """Staff at ``facility_id``'s desk book ``walk_in``."""

    facility_id: int
    walk_in: WalkIn
    idempotency_key: str | None = None


class Cancellation(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: CancelReason

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise ValueError("reason: must not be blank")


class CancelBooking(Struct, frozen=True, kw_only=True):
    booking_id: int
    reason: str
    idempotency_key: str | None = None


class ChangeStatus(Struct, frozen=True, kw_only=True):
    """One step of a booking's life cycle; ``reason`` only for a cancellation."""

    booking_id: int
    action: Action
    reason: str | None = None
    idempotency_key: str | None = None


class BookingFilter(Struct, frozen=True, kw_only=True):
    """A page of the bookings a principal may see; stays overlapping ``[start, end)``."""

    status: Status | None = None
    facility_id: int | None = None
    start: date | None = None
    end: date | None = None
    cursor: str | None = None
    """The ``next_cursor`` of the previous page."""
    limit: int = 50


class Booking(Struct, frozen=True, kw_only=True):
    """A booking as its viewers see it: never the elder's identifiers."""

    id: int
    bed_id: int
    bed_label: str
    facility_id: int
    facility: Annotated[
        FacilityContact, Meta(description="Where the stay is and whom to call about it.")
    ]
    care_recipient_id: int
    check_in: date
    check_out: date
    nights: int
    status: Status
    nightly_price: int
    """Minor units of ``currency`` (fen for CNY)."""
    total_price: int
    currency: str
    policy_code: str | None
    policy_version: int | None
    override_reason: str | None
    overrides: tuple[Override, ...]
    """Every rule the override reason overrode (none for an eligible booking)."""
    hold_id: str | None
    hospital_id: int | None
    booked_by: int
    created_at: datetime
    updated_at: datetime
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None


class Outcome(Struct, frozen=True, kw_only=True):
    """Where a legal transition leads; nights ``[free_from, free_until)`` are released."""

    status: Status
    check_out: date
    free_from: date | None = None
    free_until: date | None = None

    @property
    def nights_freed(self) -> int:
        if self.free_from is None or self.free_until is None:
            return 0
        return (self.free_until - self.free_from).days


class IllegalTransition(Exception):
    def __init__(self, current_status: Status, action: Action, why: str) -> None:
        super().__init__(why)
        self.current_status = current_status
        self.action = action
        self.why = why


def transition(
    status: Status, action: Action, today: date, check_in: date, check_out: date
) -> Outcome:
    """The next state of a booking of stay ``[check_in, check_out)`` on the facility's ``today``.

    Raises IllegalTransition naming the current status and why the action is refused.
    """
    if action == "check_out":
        return _check_out(status, today, check_in, check_out)
    if status != "confirmed":
        raise IllegalTransition(
            status, action, f"{_verb(action)} needs a confirmed booking; this one is {status}"
        )
    if action == "check_in":
        if today < check_in:
            raise IllegalTransition(
                status, action, f"the stay starts on {check_in}; today is {today}"
            )
        if today >= check_out:
            raise IllegalTransition(
                status, action, f"the stay ended on {check_out}; today is {today}"
            )
        return Outcome(status="checked_in", check_out=check_out)
    if action == "no_show":
        if today < check_in:
            raise IllegalTransition(
                status, action, f"the stay starts on {check_in}; no-show only from that day"
            )
        return Outcome(
            status="no_show", check_out=check_out, free_from=check_in, free_until=check_out
        )
    return Outcome(
        status="cancelled", check_out=check_out, free_from=check_in, free_until=check_out
    )


def _check_out(status: Status, today: date, check_in: date, check_out: date) -> Outcome:
    if status != "checked_in":
        raise IllegalTransition(
            status, "check_out", f"check-out needs a checked-in booking; this one is {status}"
        )
    if today >= check_out:
        return Outcome(status="checked_out", check_out=check_out)
    # Leaving early frees the remaining nights at once; the night just begun (or, on the day
    # of arrival, the first night) stays booked, because a stay never has zero nights.
    new_check_out = max(today, check_in + _ONE_NIGHT)
    if new_check_out >= check_out:
        return Outcome(status="checked_out", check_out=check_out)
    return Outcome(
        status="checked_out",
        check_out=new_check_out,
        free_from=new_check_out,
        free_until=check_out,
    )


def _verb(action: Action) -> str:
    return {"check_in": "check-in", "check_out": "check-out", "no_show": "no-show"}.get(
        action, action
    )
