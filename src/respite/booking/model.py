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
from respite.i18n import InvalidField, Text, t
from respite.inventory.profile import FacilityContact
from respite.vocabulary import (
    BedId,
    BookingId,
    CareRecipientId,
    CheckIn,
    CheckOut,
    CreatedAt,
    CurrencyCode,
    FacilityId,
    HospitalId,
    NightlyPrice,
    Nights,
    PrincipalId,
    TotalPrice,
    UpdatedAt,
)

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
CancelReason = Annotated[
    str, Meta(min_length=1, max_length=500, description="Why the booking is cancelled.")
]
Overrides = Annotated[list[Override], Meta(max_length=MAX_OVERRIDES)]
BookingStatus = Annotated[
    Status,
    Meta(
        description="confirmed, then checked_in and checked_out; or cancelled, or no_show "
        "(the elder did not come). A cancelled or no-show booking frees its nights."
    ),
]

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
    """An elder booked at the facility's desk."""

    care_recipient_id: Annotated[CareRecipientId, Meta(description="The elder to book.")]
    bed_id: Annotated[BedId, Meta(description="The bed of this facility to book.")]
    check_in: CheckIn
    check_out: CheckOut
    override_reason: (
        Annotated[
            OverrideReason,
            Meta(
                description="Staff's written reason to book although the eligibility decision "
                "refuses (at least 10 characters); it goes with overrides."
            ),
        ]
        | None
    ) = None
    overrides: Annotated[
        Overrides,
        Meta(
            description="Every rule the reason overrides, each once: its reason code, and "
            "acknowledged: true where the policy asks for it (a not-eligible answer lists each "
            "refusal's allowed form)."
        ),
    ] = []
    check_in_now: Annotated[
        bool, Meta(description="Check the elder in at once (the stay must include today).")
    ] = False

    def __post_init__(self) -> None:
        _check_stay(self.check_in, self.check_out)
        reason = self.override_reason
        if reason is not None and len(reason.strip()) < MIN_OVERRIDE_REASON:
            raise InvalidField(
                "override_reason", t("booking.override_reason_short", n=MIN_OVERRIDE_REASON)
            )
        if reason is not None and not self.overrides:
            raise InvalidField("overrides", t("booking.overrides_needed"))
        if self.overrides and reason is None:
            raise InvalidField("override_reason", t("booking.override_reason_needed"))
        codes = [override.code for override in self.overrides]
        repeated = next((code for code in codes if codes.count(code) > 1), None)
        if repeated is not None:
            raise InvalidField("overrides", t("booking.override_repeated", code=repeated))


class TakeWalkIn(Struct, frozen=True, kw_only=True):
    """Staff at ``facility_id``'s desk book ``walk_in``."""

    facility_id: int
    walk_in: WalkIn
    idempotency_key: str | None = None


class Cancellation(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Why a booking is cancelled."""

    reason: CancelReason

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise InvalidField("reason", t("booking.blank"))


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

    id: BookingId
    bed_id: BedId
    bed_label: Annotated[str, Meta(description="The bed's label in its facility, e.g. 3F-12.")]
    facility_id: FacilityId
    facility: Annotated[
        FacilityContact, Meta(description="Where the stay is and whom to call about it.")
    ]
    care_recipient_id: Annotated[CareRecipientId, Meta(description="The elder who stays.")]
    check_in: CheckIn
    check_out: CheckOut
    nights: Nights
    status: BookingStatus
    nightly_price: Annotated[NightlyPrice, Meta(description="The nightly price charged, in fen.")]
    total_price: TotalPrice
    currency: CurrencyCode
    policy_code: (
        Annotated[str, Meta(description="The eligibility policy the booking was decided under.")]
        | None
    )
    policy_version: Annotated[int, Meta(description="That policy's version.")] | None
    override_reason: (
        Annotated[str, Meta(description="Staff's reason to book despite a refusal, if any.")] | None
    )
    overrides: Annotated[
        tuple[Override, ...],
        Meta(description="Every rule the override reason overrode (none for an eligible one)."),
    ]
    hold_id: Annotated[str, Meta(description="The hold it was confirmed from, if any.")] | None
    hospital_id: (
        Annotated[HospitalId, Meta(description="The hospital that referred the elder, if any.")]
        | None
    )
    booked_by: Annotated[PrincipalId, Meta(description="The account that booked.")]
    created_at: CreatedAt
    updated_at: UpdatedAt
    checked_in_at: Annotated[datetime, Meta(description="When the elder arrived.")] | None
    checked_out_at: Annotated[datetime, Meta(description="When the elder left.")] | None
    cancelled_at: (
        Annotated[datetime, Meta(description="When it was cancelled or marked no-show.")] | None
    )
    cancel_reason: Annotated[str, Meta(description="Why it was cancelled.")] | None


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
    def __init__(self, current_status: Status, action: Action, why: Text) -> None:
        super().__init__(str(why))
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
            status, action, t("booking.needs_confirmed", action=_verb(action), status=_said(status))
        )
    if action == "check_in":
        if today < check_in:
            raise IllegalTransition(
                status, action, t("booking.starts_later", check_in=check_in, today=today)
            )
        if today >= check_out:
            raise IllegalTransition(
                status, action, t("booking.ended", check_out=check_out, today=today)
            )
        return Outcome(status="checked_in", check_out=check_out)
    if action == "no_show":
        if today < check_in:
            raise IllegalTransition(status, action, t("booking.no_show_early", check_in=check_in))
        return Outcome(
            status="no_show", check_out=check_out, free_from=check_in, free_until=check_out
        )
    return Outcome(
        status="cancelled", check_out=check_out, free_from=check_in, free_until=check_out
    )


def _check_out(status: Status, today: date, check_in: date, check_out: date) -> Outcome:
    if status != "checked_in":
        raise IllegalTransition(
            status, "check_out", t("booking.needs_checked_in", status=_said(status))
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


def _verb(action: Action) -> Text:
    return t(f"booking.action.{action}")


def _said(status: Status) -> Text:
    return t(f"booking.status.{status}")
