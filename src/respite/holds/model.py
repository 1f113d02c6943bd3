"""Holds: what is asked, what is answered, and the choice of a bed in a facility (pure).

Times of holds are unix seconds by the app's clock (``expires_at``), as clients read them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated

from msgspec import Meta, Struct

from respite.eligibility.model import Programme, check_stay_dates
from respite.inventory.profile import FacilityContact
from respite.params import Id

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

TokenText = Annotated[str, Meta(min_length=10, max_length=1000)]


class HoldRequest(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Hold one bed (``bed_id``) or let the service pick one (``facility_id`` + ``kind``)."""

    care_recipient_id: Id
    check_in: date
    check_out: date
    bed_id: Id | None = None
    facility_id: Id | None = None
    kind: Programme | None = None
    referral_id: Id | None = None
    """A hospital's referral this hold (and the booking it becomes) is for."""

    def __post_init__(self) -> None:
        check_stay_dates(self.check_in, self.check_out)
        if self.bed_id is not None and (self.facility_id is not None or self.kind is not None):
            raise ValueError("bed_id: give either bed_id, or facility_id and kind, not both")
        if self.bed_id is None and (self.facility_id is None or self.kind is None):
            raise ValueError("bed_id: give bed_id, or facility_id and kind")


class HoldTokenBody(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The body of confirming or extending a hold."""

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
    id: int
    label: str
    facility_id: int
    kind: Programme


class Hold(Struct, frozen=True, kw_only=True):
    hold_id: str
    token: str
    """Secret: present it to confirm, extend or release the hold."""
    expires_at: float
    """Unix time; the hold is gone after it unless extended."""
    max_expires_at: float
    extensions_left: int
    bed: HeldBed
    care_recipient_id: int
    check_in: date
    check_out: date
    nights: int
    nightly_price: int
    total_price: int


class HoldExtended(Struct, frozen=True, kw_only=True):
    hold_id: str
    expires_at: float
    """Unix time; the hold's new end."""
    max_expires_at: float
    """No extension goes past it."""
    extensions_left: int


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

    hold_id: str
    expires_at: Annotated[
        datetime, Meta(description="When the hold ends unless extended (ISO 8601, UTC).")
    ]
    seconds_left: Annotated[
        int, Meta(ge=1, description="Whole seconds until expires_at, rounded up.")
    ]
    max_expires_at: Annotated[
        datetime, Meta(description="No extension goes past it (ISO 8601, UTC).")
    ]
    extensions_left: int
    bed: HeldBed
    facility: Annotated[
        FacilityContact, Meta(description="Where the held bed is and whom to call there.")
    ]
    care_recipient_id: int
    check_in: date
    check_out: date
    nights: int
    nightly_price: Annotated[
        int, Meta(description="Minor units (fen) a night, as the hold will confirm it.")
    ]
    total_price: Annotated[int, Meta(description="Minor units (fen) for the whole stay.")]


class MyHolds(Struct, frozen=True, kw_only=True):
    items: Annotated[
        list[HoldView], Meta(description="The caller's live holds, soonest to end first.")
    ]
    cap: Annotated[int, Meta(description="How many live holds the caller may keep at once.")]
