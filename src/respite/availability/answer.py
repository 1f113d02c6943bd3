"""What a search answers: facilities with free beds, those the elder may not use and why,
the same stay shifted a few days, and the policies that refuse it altogether."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

from respite.availability.where import NearestProvider
from respite.eligibility.model import (
    BedCapabilities,
    BedKind,
    BedSexRule,
    CareStage,
    Reason,
)
from respite.i18n import Text
from respite.places.model import CoordinateSystem, Place
from respite.vocabulary import (
    BedId,
    CheckIn,
    CheckOut,
    CurrencyCode,
    FacilityId,
    NextCursor,
    NightlyPrice,
    Nights,
    TotalPrice,
)

__all__ = [
    "Alternative",
    "AvailabilityPage",
    "DistanceKm",
    "ExcludedFacility",
    "FacilityBeds",
    "FacilityName",
    "FreeBed",
    "FreeBeds",
    "PolicyRef",
    "PolicyRefusal",
    "SortOrder",
]

SortOrder = Literal["distance", "price"]
FacilityName = Annotated[str, Meta(description="The facility's name.")]
DistanceKm = (
    Annotated[
        float,
        Meta(description="Kilometres from the searched place (null: searched by facility id)."),
    ]
    | None
)
FreeBeds = Annotated[int, Meta(description="How many beds are free for the whole stay.")]
_POLICY = Meta(description="The eligibility policy the facility applies to this kind of bed.")


class PolicyRef(Struct, frozen=True, kw_only=True):
    """A version of an eligibility policy."""

    code: Annotated[str, Meta(description="The policy's code, e.g. cn-respite.")]
    version: Annotated[int, Meta(description="The policy's version.")]


class FreeBed(Struct, frozen=True, kw_only=True):
    """A bed free for every night of the stay."""

    bed_id: BedId
    label: Annotated[str, Meta(description="The bed's label in its facility, e.g. 3F-12.")]
    sex_rule: BedSexRule
    capabilities: BedCapabilities
    pressure_care_stage: CareStage
    nightly_price: NightlyPrice
    total_price: TotalPrice
    possibly_held: Annotated[
        bool,
        Meta(description="True when holds could not be read: someone may be holding it now."),
    ] = False


class FacilityBeds(Struct, frozen=True, kw_only=True):
    """A facility with beds free for the stay, its cheapest first."""

    facility_id: FacilityId
    name: FacilityName
    distance_km: DistanceKm
    currency: CurrencyCode
    policy: Annotated[PolicyRef, _POLICY]
    price_from: Annotated[
        int,
        Meta(description="The lowest nightly price in fen of a matching bed here, free or not."),
    ]
    free_beds: FreeBeds
    held_beds: Annotated[int, Meta(description="How many matching beds others hold right now.")]
    beds: Annotated[list[FreeBed], Meta(description="The cheapest free beds, up to 20.")]


class ExcludedFacility(Struct, frozen=True, kw_only=True):
    """A facility in range with beds free for the stay, none of which the person may take."""

    facility_id: FacilityId
    name: FacilityName
    distance_km: DistanceKm
    policy: Annotated[PolicyRef, _POLICY]
    reasons: Annotated[list[Reason], Meta(description="Why the elder may not stay here.")]


class Alternative(Struct, frozen=True, kw_only=True):
    """The same facility for a stay of the same length, starting ``shift_days`` later."""

    facility_id: FacilityId
    name: FacilityName
    distance_km: DistanceKm
    currency: CurrencyCode
    policy: Annotated[PolicyRef, _POLICY]
    check_in: CheckIn
    check_out: CheckOut
    shift_days: Annotated[
        int, Meta(description="Days from the asked check-in to this one (negative: earlier).")
    ]
    free_beds: FreeBeds
    beds: Annotated[list[FreeBed], Meta(description="The cheapest free beds, up to 20.")]


class PolicyRefusal(Struct, frozen=True, kw_only=True):
    """The person does not qualify under this policy for this stay, whichever bed."""

    policy: Annotated[PolicyRef, Meta(description="The policy that refuses.")]
    reasons: Annotated[list[Reason], Meta(description="Why it refuses.")]


class AvailabilityPage(Struct, frozen=True, kw_only=True):
    """A page of the search's answer: facilities with free beds, nearest or cheapest first."""

    check_in: CheckIn
    check_out: CheckOut
    nights: Nights
    kind: BedKind
    sort: Annotated[SortOrder, Meta(description="The order of facilities.")]
    facilities: Annotated[
        list[FacilityBeds], Meta(description="Facilities with a bed free for the whole stay.")
    ]
    excluded: Annotated[
        list[ExcludedFacility],
        Meta(description="First page only: the nearest facilities the elder may not use, why."),
    ] = []
    alternatives: Annotated[
        list[Alternative],
        Meta(description="First page only, when few facilities fit: the same stay shifted."),
    ] = []
    refused: Annotated[
        list[PolicyRefusal],
        Meta(description="Policies under which the elder qualifies for no bed of this stay."),
    ] = []
    summary: Annotated[
        Text | None,
        Meta(description="When eligibility hid nearer facilities: a sentence on why."),
    ] = None
    coordinate_system: Annotated[
        CoordinateSystem,
        Meta(description="The system of every lat/lon in the search and its answer."),
    ] = "GCJ-02"
    place: Annotated[
        Place | None, Meta(description="The place a search by name looked around.")
    ] = None
    not_checked_against_elder: Annotated[
        Text | None,
        Meta(
            description="A search for no one in particular: why a bed listed may still "
            "refuse the elder."
        ),
    ] = None
    nearest: Annotated[
        list[NearestProvider],
        Meta(description="A home-care search no provider serves: the nearest, past its radius."),
    ] = []
    nearest_note: Annotated[
        Text | None,
        Meta(description="With nearest: a sentence saying that none of them serves the home."),
    ] = None
    holds_unknown: Annotated[
        bool,
        Meta(description="True when holds could not be read: any bed listed may be held."),
    ] = False
    next_cursor: NextCursor = None
