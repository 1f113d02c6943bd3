"""Holds: what is asked, what is answered, and the choice of a bed in a facility (pure).

Redis keeps a hold's times as unix seconds by the app's clock; answers show them in ISO 8601
(UTC), like every other time, with the seconds left.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Annotated

from msgspec import Meta, Struct

from respite.eligibility.model import BedKind, check_stay_dates
from respite.i18n import InvalidField, t
from respite.inventory.profile import FacilityContact
from respite.vocabulary import (
    BedId,
    CareRecipientId,
    CheckIn,
    CheckOut,
    FacilityId,
    HoldId,
    NightlyPrice,
    Nights,
    ReferralId,
    TotalPrice,
)

__all__ = [
    "ConfirmHold",
    "ExtendHold",
    "FreeGap",
    "HeldBed",
    "Hold",
    "HoldExtended",
    "HoldRequest",
    "HoldTokenBody",
    "HoldView",
    "MyHolds",
    "PlaceHold",
    "ReleaseHold",
    "tightest",
]

TokenText = Annotated[
    str,
    Meta(
        min_length=10,
        max_length=1000,
        description="The hold's secret token, exactly as the hold's answer gave it.",
    ),
]
ExtensionsLeft = Annotated[int, Meta(description="How many more times the hold can be extended.")]
ExpiresAt = Annotated[
    datetime, Meta(description="When the hold ends unless extended (ISO 8601, UTC).")
]
SecondsLeft = Annotated[
    int, Meta(ge=0, description="Whole seconds until expires_at, rounded up (0: ended).")
]
MaxExpiresAt = Annotated[
    datetime,
    Meta(
        description="No extension goes past it, and from then on the hold confirms nothing "
        "(ISO 8601, UTC)."
    ),
]


class HoldRequest(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Hold one bed (``bed_id``) or let the service pick one (``facility_id`` + ``kind``)."""

    care_recipient_id: Annotated[CareRecipientId, Meta(description="The elder to hold a bed for.")]
    check_in: CheckIn
    check_out: CheckOut
    bed_id: (
        Annotated[BedId, Meta(description="The bed to hold; or give facility_id and kind.")] | None
    ) = None
    facility_id: (
        Annotated[
            FacilityId,
            Meta(description="Let the service pick the bed in this facility (with kind)."),
        ]
        | None
    ) = None
    kind: (
        Annotated[BedKind, Meta(description="With facility_id: the kind of bed to pick.")] | None
    ) = None
    referral_id: (
        Annotated[
            ReferralId,
            Meta(description="The hospital's referral this hold (and its booking) is for."),
        ]
        | None
    ) = None

    def __post_init__(self) -> None:
        check_stay_dates(self.check_in, self.check_out)
        if self.bed_id is not None and (self.facility_id is not None or self.kind is not None):
            raise InvalidField("bed_id", t("hold.bed_or_facility_both"))
        if self.bed_id is None and (self.facility_id is None or self.kind is None):
            raise InvalidField("bed_id", t("hold.bed_or_facility_none"))


class HoldTokenBody(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The body of confirming or extending a hold: the token it was placed with."""

    token: TokenText


class PlaceHold(Struct, frozen=True, kw_only=True):
    request: HoldRequest
    idempotency_key: str | None = None


class ConfirmHold(Struct, frozen=True, kw_only=True):
    hold_id: str
    token: str
    idempotency_key: str


class ExtendHold(Struct, frozen=True, kw_only=True):
    hold_id: str
    token: str


class ReleaseHold(Struct, frozen=True, kw_only=True):
    hold_id: str
    token: str


class HeldBed(Struct, frozen=True, kw_only=True):
    """The bed a hold keeps."""

    id: BedId
    label: Annotated[str, Meta(description="The bed's label in its facility, e.g. 3F-12.")]
    facility_id: FacilityId
    kind: BedKind


class Hold(Struct, frozen=True, kw_only=True):
    """A bed kept for one elder for a few minutes, at the price shown, until confirmed."""

    hold_id: HoldId
    token: Annotated[
        str,
        Meta(description="Secret: send it to confirm, extend or release the hold. Shown once."),
    ]
    expires_at: ExpiresAt
    seconds_left: SecondsLeft
    max_expires_at: MaxExpiresAt
    extensions_left: ExtensionsLeft
    bed: Annotated[HeldBed, Meta(description="The bed held.")]
    care_recipient_id: Annotated[
        CareRecipientId, Meta(description="The elder the bed is held for.")
    ]
    check_in: CheckIn
    check_out: CheckOut
    nights: Nights
    nightly_price: Annotated[
        NightlyPrice, Meta(description="The nightly price in fen the booking will be charged.")
    ]
    total_price: TotalPrice


class HoldExtended(Struct, frozen=True, kw_only=True):
    """A hold kept longer."""

    hold_id: HoldId
    expires_at: ExpiresAt
    seconds_left: SecondsLeft
    max_expires_at: MaxExpiresAt
    extensions_left: ExtensionsLeft


class FreeGap(Struct, frozen=True, kw_only=True):
    """A free bed with the claims around the stay: the night before and the night after."""

    bed_id: int
    previous_claim: date | None
    next_claim: date | None


def tightest(gaps: Sequence[FreeGap]) -> list[int]:
    """Bed ids, the one whose free gap the stay fills most tightly first.

    Filling the snuggest gap keeps long free runs intact for long stays; an unbounded side
    counts as a very long gap, and ties go to the lower bed id for a stable answer.
    """
    far = date.max.toordinal()

    def width(gap: FreeGap) -> tuple[int, int]:
        start = gap.previous_claim.toordinal() if gap.previous_claim else -far
        end = gap.next_claim.toordinal() if gap.next_claim else far
        return (end - start, gap.bed_id)

    return [gap.bed_id for gap in sorted(gaps, key=width)]


class HoldView(Struct, frozen=True, kw_only=True):
    """A live hold as its holder (or the facility's staff) reads it back: never its token."""

    hold_id: HoldId
    expires_at: ExpiresAt
    seconds_left: SecondsLeft
    max_expires_at: MaxExpiresAt
    extensions_left: ExtensionsLeft
    bed: Annotated[HeldBed, Meta(description="The bed held.")]
    facility: Annotated[
        FacilityContact, Meta(description="Where the held bed is and whom to call there.")
    ]
    care_recipient_id: Annotated[
        CareRecipientId, Meta(description="The elder the bed is held for.")
    ]
    check_in: CheckIn
    check_out: CheckOut
    nights: Nights
    nightly_price: Annotated[
        int, Meta(description="Minor units (fen) a night, as the hold will confirm it.")
    ]
    total_price: Annotated[int, Meta(description="Minor units (fen) for the whole stay.")]


class MyHolds(Struct, frozen=True, kw_only=True):
    """The caller's live holds: never more than its cap, so the list has no pages."""

    items: Annotated[
        list[HoldView], Meta(description="The caller's live holds, soonest to end first.")
    ]
    cap: Annotated[int, Meta(description="How many live holds the caller may keep at once.")]


def instant(unix: float) -> datetime:
    """A time Redis keeps (unix seconds) as answers show it."""
    return datetime.fromtimestamp(unix, UTC)


def seconds_left(unix: float, now: float) -> int:
    return max(0, math.ceil(unix - now))
