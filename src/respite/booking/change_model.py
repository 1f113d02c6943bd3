"""Changing a stay, as data and pure rules: extend it, shorten it, or move it to another bed
(of the same facility or another), and who may do which when.

A change is asked for twice: once for a quote (``POST .../change/quote``: the new stay, its
price, and whether the elder may have it) and once to make it, with the nightly price the
quote showed (``POST .../change``: refused with ``price-changed`` if it is another now). The
nights are worked out here (``outside``): the nights the new stay claims that the old one did
not, and those the old one frees; ``changes.py`` claims the first before it frees the second.

Who may change what (``refusal``), by the facility's local date:

- a family, and a hospital for the stays it booked, before check-in: any dates from today,
  any bed that would take the elder;
- the facility's staff (front desk and managers) and admins, also during the stay: then the
  check-in stays as it was, the check-out comes after today, and the bed stays the same (a
  stay under way moves beds by checking out and walking in).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from msgspec import Meta, Struct

from respite.booking.model import MAX_DAYS_AHEAD, Booking
from respite.eligibility.model import check_stay_dates
from respite.errors import FieldError
from respite.i18n import Text, t
from respite.vocabulary import (
    BedId,
    BookingId,
    CheckIn,
    CheckOut,
    CurrencyCode,
    FacilityId,
    NightlyPrice,
    Nights,
    TotalPrice,
)

__all__ = [
    "ChangeStay",
    "QuoteStayChange",
    "Span",
    "StayChange",
    "StayChangeQuote",
    "nights_in",
    "outside",
    "refusal",
]

Span = tuple[date, date]


class StayChange(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The stay as it should be: its dates, and its bed when it moves."""

    check_in: CheckIn
    check_out: CheckOut
    bed_id: (
        Annotated[
            BedId,
            Meta(
                description="Another bed to move to, of this facility or another; leave it out "
                "to keep the bed."
            ),
        ]
        | None
    ) = None
    nightly_price: (
        Annotated[
            NightlyPrice,
            Meta(
                description="To make the change: the nightly price its quote showed, in fen. "
                "If the price is another now, nothing changes (409 price-changed)."
            ),
        ]
        | None
    ) = None

    def __post_init__(self) -> None:
        check_stay_dates(self.check_in, self.check_out)


class QuoteStayChange(Struct, frozen=True, kw_only=True):
    booking_id: int
    change: StayChange


class ChangeStay(Struct, frozen=True, kw_only=True):
    booking_id: int
    change: StayChange
    idempotency_key: str | None = None


class StayChangeQuote(Struct, frozen=True, kw_only=True):
    """What a change would make of a stay, decided now: the elder may have it (an elder who
    may not gets 422 not-eligible with every reason instead)."""

    booking_id: BookingId
    facility_id: FacilityId
    bed_id: BedId
    bed_label: Annotated[str, Meta(description="The bed's label, as its facility writes it.")]
    check_in: CheckIn
    check_out: CheckOut
    nights: Nights
    nightly_price: NightlyPrice
    total_price: TotalPrice
    price_before: Annotated[int, Meta(description="The stay's total price now, in fen.")]
    difference: Annotated[
        int, Meta(description="total_price - price_before, in fen: what the change adds.")
    ]
    currency: CurrencyCode
    nights_added: Annotated[int, Meta(description="Nights the new stay has that the old lacks.")]
    nights_freed: Annotated[int, Meta(description="Nights of the old stay the new one frees.")]


def outside(stay: Span, other: Span) -> list[Span]:
    """The nights of ``stay`` that are not nights of ``other``, as spans in ascending order."""
    start, end = stay
    other_start, other_end = other
    if other_end <= start or end <= other_start:
        return [stay]
    spans = []
    if start < other_start:
        spans.append((start, other_start))
    if other_end < end:
        spans.append((other_end, end))
    return spans


def nights_in(spans: list[Span]) -> int:
    return sum((end - start).days for start, end in spans)


def refusal(
    booking: Booking, change: StayChange, *, role: str, today: date
) -> FieldError | Text | None:
    """Why ``role`` may not make ``change`` of ``booking`` today: a field's error, a step's
    words (409), or None when it may."""
    moves = change.bed_id is not None and change.bed_id != booking.bed_id
    same = (change.check_in, change.check_out) == (booking.check_in, booking.check_out)
    if same and not moves:
        return FieldError("check_out", t("booking.change.nothing"))
    if booking.status not in ("confirmed", "checked_in"):
        return t("booking.change.not_live")
    if (change.check_in - today).days > MAX_DAYS_AHEAD:
        return FieldError("check_in", t("booking.check_in_too_far", n=MAX_DAYS_AHEAD, today=today))
    desk = role in ("staff", "admin")
    if booking.status == "checked_in":
        if not desk:
            return t("booking.change.under_way_desk")
        if change.check_in != booking.check_in:
            return FieldError("check_in", t("booking.change.under_way_check_in"))
        if moves:
            return FieldError("bed_id", t("booking.change.under_way_bed"))
        if change.check_out <= today:
            return FieldError("check_out", t("booking.change.check_out_after_today", today=today))
        return None
    if not desk and booking.check_in <= today:
        return t("booking.change.family_before_check_in")
    if change.check_in < today:
        return FieldError("check_in", t("booking.change.check_in_past", today=today))
    return None
