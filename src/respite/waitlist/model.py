"""The waiting list's words: what joining asks, and what an entry, an offer and a pass read as.

Statuses::

    entry:  waiting ⇄ offered  →  booked | left | expired
    offer:  open  →  accepted | declined | lapsed | withdrawn | lost

An entry is ``offered`` exactly while one of its offers is open. Declining, or letting an
offer lapse, puts the entry back to ``waiting`` (it stays on the list for other beds and
nights); ``lost`` is an offer whose bed was taken first (a walk-in, say), after which the
service looks for the next free bed for the entry at once.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from msgspec import Meta, Struct

from respite.eligibility.model import check_stay_dates
from respite.i18n import InvalidField, Text, t
from respite.inventory.profile import FacilityContact
from respite.vocabulary import (
    BedId,
    BookingId,
    CareRecipientId,
    CheckIn,
    CheckOut,
    FacilityId,
    NightlyPrice,
    Nights,
    ReferralId,
    TotalPrice,
)

__all__ = [
    "ENTRY_STATUSES",
    "LIVE",
    "MAX_FACILITIES",
    "MAX_WINDOW_DAYS",
    "Entry",
    "EntryStatus",
    "JoinRequest",
    "Offer",
    "OfferStatus",
    "Pass",
    "Queue",
    "QueueEntry",
]

MAX_FACILITIES = 20
"""Facilities one entry may name; an area gives at most this many too (the nearest)."""
MAX_WINDOW_DAYS = 180
"""The longest window an entry may wait in: from earliest check-in to latest check-out."""
MAX_PASSES_SHOWN = 20

EntryStatus = Literal["waiting", "offered", "booked", "left", "expired"]
OfferStatus = Literal["open", "accepted", "declined", "lapsed", "withdrawn", "lost"]
ENTRY_STATUSES: tuple[EntryStatus, ...] = ("waiting", "offered", "booked", "left", "expired")
LIVE: tuple[EntryStatus, ...] = ("waiting", "offered")
Kind = Annotated[
    Literal["respite", "home"],
    Meta(description="The kind of bed: respite (in a facility) or home (a home-care bed)."),
]
EntryId = Annotated[int, Meta(ge=1, description="The waiting-list entry's id.")]
OfferId = Annotated[int, Meta(ge=1, description="The offer's id.")]
WantedNights = Annotated[int, Meta(ge=1, le=90, description="Nights wanted, 1-90.")]


class JoinRequest(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Put an elder on the waiting list.

    Where: exactly one of ``facility_ids``, ``near`` (with ``radius_km``), ``place`` (with an
    optional ``radius_km``) or ``near_home``. When: a window from ``earliest_check_in`` to
    ``latest_check_out`` that the stay must fit in; ``nights`` wanted, or fewer down to
    ``min_nights`` — the wider the window, the sooner a bed is likely to be offered."""

    care_recipient_id: CareRecipientId
    kind: Kind
    earliest_check_in: Annotated[
        date, Meta(description="The first night the elder could arrive (YYYY-MM-DD).")
    ]
    latest_check_out: Annotated[
        date, Meta(description="The last day the stay may end, by check-out (YYYY-MM-DD).")
    ]
    nights: WantedNights
    min_nights: (
        Annotated[
            int, Meta(ge=1, le=90, description="Fewest nights worth offering (default: nights).")
        ]
        | None
    ) = None
    facility_ids: (
        Annotated[
            list[FacilityId],
            Meta(max_length=MAX_FACILITIES, description="The facilities to wait for (1-20)."),
        ]
        | None
    ) = None
    near: (
        Annotated[
            str,
            Meta(
                max_length=60,
                description="A point, 'lat,lon' in the deployment's coordinate system.",
                examples=["31.2304,121.4737"],
            ),
        ]
        | None
    ) = None
    radius_km: (
        Annotated[float, Meta(gt=0, le=50, description="How far from the point or place, km.")]
        | None
    ) = None
    place: (
        Annotated[
            str,
            Meta(
                min_length=1,
                max_length=60,
                description="A district, street or community: its name or id (GET /v1/places).",
                examples=["徐汇区"],
            ),
        ]
        | None
    ) = None
    near_home: Annotated[
        bool, Meta(description="Wait for facilities near the elder's recorded home.")
    ] = False
    discharged_on: (
        Annotated[
            date,
            Meta(
                description="When the elder leaves (or left) hospital, if they do: a group of "
                "the priority order (YYYY-MM-DD)."
            ),
        ]
        | None
    ) = None
    referral_id: (
        Annotated[ReferralId, Meta(description="Hospitals: the referral this entry is for.")] | None
    ) = None

    def __post_init__(self) -> None:
        if self.latest_check_out <= self.earliest_check_in:
            raise InvalidField("latest_check_out", t("waitlist.window_order"))
        check_stay_dates(self.earliest_check_in, self.latest_check_out)
        window = (self.latest_check_out - self.earliest_check_in).days
        if window > MAX_WINDOW_DAYS:
            raise InvalidField("latest_check_out", t("waitlist.window_too_long", n=MAX_WINDOW_DAYS))
        if self.nights > window:
            raise InvalidField("nights", t("waitlist.nights_past_window", n=window))
        if self.min_nights is not None and self.min_nights > self.nights:
            raise InvalidField("min_nights", t("waitlist.min_over_nights", n=self.nights))
        wheres = [
            name
            for name, given in (
                ("facility_ids", self.facility_ids is not None),
                ("near", self.near is not None),
                ("place", self.place is not None),
                ("near_home", self.near_home),
            )
            if given
        ]
        if len(wheres) != 1:
            field = wheres[1] if wheres else "facility_ids"
            raise InvalidField(field, t("waitlist.one_where"))
        if self.facility_ids is not None:
            if not self.facility_ids:
                raise InvalidField("facility_ids", t("waitlist.facilities_empty"))
            if len(set(self.facility_ids)) != len(self.facility_ids):
                raise InvalidField("facility_ids", t("waitlist.facilities_repeated"))
            if self.radius_km is not None:
                raise InvalidField("radius_km", t("waitlist.radius_needs_point"))
        if self.near is not None and self.radius_km is None:
            raise InvalidField("radius_km", t("waitlist.radius_needed"))

    @property
    def fewest_nights(self) -> int:
        return self.min_nights if self.min_nights is not None else self.nights


class Pass(Struct, frozen=True, kw_only=True):
    """A time the entry was passed over for a freed bed, and why."""

    facility_id: FacilityId
    bed_id: BedId
    check_in: CheckIn
    check_out: CheckOut
    reason: Annotated[str, Meta(description="Why, as a stable code, e.g. not_eligible.")]
    message: Annotated[Text, Meta(description="Why, in words.")]
    codes: Annotated[
        list[str], Meta(description="The eligibility reasons' codes, when it was not eligible.")
    ]
    passed_at: Annotated[datetime, Meta(description="When (ISO 8601).")]


class Offer(Struct, frozen=True, kw_only=True):
    """A bed the service holds for the entry's elder until ``deadline``."""

    id: OfferId
    entry_id: EntryId
    status: Annotated[
        OfferStatus, Meta(description="open, accepted, declined, lapsed, withdrawn or lost.")
    ]
    facility: Annotated[FacilityContact, Meta(description="Where the bed is, and whom to call.")]
    facility_id: FacilityId
    bed_id: BedId
    bed_label: Annotated[str, Meta(description="The bed's label in its facility.")]
    care_recipient_id: CareRecipientId
    check_in: CheckIn
    check_out: CheckOut
    nights: Nights
    nightly_price: NightlyPrice
    total_price: TotalPrice
    made_at: Annotated[datetime, Meta(description="When the offer was made (ISO 8601).")]
    deadline: Annotated[datetime, Meta(description="When it lapses unless accepted (ISO 8601).")]
    deadline_local: Annotated[
        Text, Meta(description="The deadline in words, in the facility's local time.")
    ]
    seconds_left: Annotated[int, Meta(ge=0, description="Seconds until the deadline.")]
    booking_id: Annotated[BookingId, Meta(description="The booking it became.")] | None
    ended_at: Annotated[datetime, Meta(description="When it ended (ISO 8601).")] | None


class Entry(Struct, frozen=True, kw_only=True):
    """An elder on the waiting list, as its owner (or an admin) sees it."""

    id: EntryId
    status: Annotated[EntryStatus, Meta(description="waiting, offered, booked, left or expired.")]
    care_recipient_id: CareRecipientId
    kind: Kind
    facility_ids: Annotated[list[FacilityId], Meta(description="The facilities waited for.")]
    earliest_check_in: Annotated[date, Meta(description="The window's first night.")]
    latest_check_out: Annotated[date, Meta(description="The window's last check-out day.")]
    nights: Nights
    min_nights: Annotated[int, Meta(description="The fewest nights worth offering.")]
    discharged_on: Annotated[date, Meta(description="Hospital discharge, if given.")] | None
    referral_id: ReferralId | None
    priority: Annotated[
        str | None, Meta(description="The priority group it is in today (default policy), if any.")
    ]
    priority_words: Annotated[Text | None, Meta(description="That group in words.")]
    position: Annotated[
        int | None,
        Meta(
            description="1 + the live entries ahead of it for any of its facilities (while live)."
        ),
    ]
    joined_at: Annotated[datetime, Meta(description="When it joined (ISO 8601).")]
    ended_at: Annotated[datetime, Meta(description="When it ended (ISO 8601).")] | None
    booking_id: Annotated[BookingId, Meta(description="The booking that ended it.")] | None
    offer: Annotated[Offer, Meta(description="The offer open now, if any.")] | None
    passes: Annotated[
        list[Pass],
        Meta(
            description=f"The latest times it was passed over, newest first "
            f"(at most {MAX_PASSES_SHOWN}).",
        ),
    ]


class QueueEntry(Struct, frozen=True, kw_only=True):
    """One entry of a facility's queue, as its staff see it: no names, no identifiers."""

    entry_id: EntryId
    position: Annotated[int, Meta(ge=1, description="Its place in this facility's queue.")]
    status: Annotated[EntryStatus, Meta(description="waiting, or offered a bed now.")]
    kind: Kind
    sex: Annotated[str, Meta(description="The elder's sex (for the bed's sex rule).")]
    age: Annotated[int, Meta(description="The elder's age today.")]
    needs: Annotated[list[str], Meta(description="The elder's care needs, as codes.")]
    earliest_check_in: Annotated[date, Meta(description="The window's first night.")]
    latest_check_out: Annotated[date, Meta(description="The window's last check-out day.")]
    nights: Nights
    min_nights: Annotated[int, Meta(description="The fewest nights worth offering.")]
    priority: Annotated[str | None, Meta(description="The priority group it is in, if any.")]
    priority_words: Annotated[Text | None, Meta(description="That group in words.")]
    joined_at: Annotated[datetime, Meta(description="When it joined (ISO 8601).")]
    last_pass: Annotated[Pass, Meta(description="The latest pass at this facility.")] | None


class Queue(Struct, frozen=True, kw_only=True):
    """The live entries waiting for one facility's beds of one kind, first served first."""

    facility_id: FacilityId
    items: Annotated[list[QueueEntry], Meta(description="Live entries, first served first.")]
