"""From rows of free beds and the live holds to what a facility offers (pure).

A bed is offered when the database has no claimed night in the stay and no one else holds it
in Redis. When holds could not be read, the beds are still offered, each marked
``possibly_held``: a family sees a bed that may be taken rather than no bed or a false one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta

import msgspec

from respite.availability.model import (
    SHOWN_BEDS,
    Alternative,
    FacilityBeds,
    FreeBed,
    HoldLike,
    PolicyRef,
    held_bed_ids,
)
from respite.eligibility.model import Stay

__all__ = [
    "AlternativeRow",
    "FacilityRow",
    "HoldsView",
    "PageRow",
    "best_alternative",
    "km",
    "offer",
    "shifted",
]


class FacilityRow(msgspec.Struct, frozen=True, kw_only=True):
    """A facility with its matching beds free in the database, cheapest first."""

    facility_id: int
    name: str
    currency: str
    distance_m: float | None
    policy_code: str
    beds: list[FreeBed]


class PageRow(FacilityRow, frozen=True, kw_only=True):
    sort_distance: float
    price_from: int
    today: date
    """The facility's own calendar date at the search's instant."""
    bookable: bool = True
    """False when check-in is before ``today``: the facility offers nothing (``beds`` empty)."""


class AlternativeRow(FacilityRow, frozen=True, kw_only=True):
    shift: int


class HoldsView(msgspec.Struct, frozen=True):
    live: Mapping[int, Sequence[HoldLike]]
    """Live holds by facility id."""
    unknown: bool
    """Redis did not answer: any bed may be held."""


def km(metres: float | None) -> float | None:
    return None if metres is None else round(metres / 1000, 2)


def shifted(stay: Stay, shift: int) -> Stay:
    delta = timedelta(days=shift)
    return Stay(check_in=stay.check_in + delta, check_out=stay.check_out + delta)


def offer(row: FacilityRow, policy: PolicyRef, holds: HoldsView, stay: Stay) -> FacilityBeds | None:
    """The facility's free beds minus those held by others; None when nothing is left."""
    held = held_bed_ids(holds.live.get(row.facility_id, ()), stay.check_in, stay.check_out)
    free = [b for b in row.beds if b.bed_id not in held]
    if not free:
        return None
    if holds.unknown:
        free = [msgspec.structs.replace(b, possibly_held=True) for b in free]
    return FacilityBeds(
        facility_id=row.facility_id,
        name=row.name,
        distance_km=km(row.distance_m),
        currency=row.currency,
        policy=policy,
        price_from=row.price_from if isinstance(row, PageRow) else free[0].nightly_price,
        free_beds=len(free),
        held_beds=len(row.beds) - len(free),
        beds=free[:SHOWN_BEDS],
    )


def best_alternative(
    options: Mapping[int, AlternativeRow],
    order: Sequence[int],
    stay: Stay,
    policy: PolicyRef,
    holds: HoldsView,
    qualifying: set[int],
) -> Alternative | None:
    """The first shift in ``order`` with a bed free and unheld that the person qualifies for.

    ``options`` maps a shift to the facility's beds free for the stay so shifted. Shift 0 in
    ``order`` checks the exact stay: a facility free for it is no alternative, it is an answer.
    """
    for shift in order:
        row = options.get(shift)
        if row is None:
            continue
        moved = shifted(stay, shift)
        found = offer(row, policy, holds, moved)
        if found is None:
            continue
        if shift == 0:
            return None
        if shift not in qualifying:
            continue
        return Alternative(
            facility_id=found.facility_id,
            name=found.name,
            distance_km=found.distance_km,
            currency=found.currency,
            policy=found.policy,
            check_in=moved.check_in,
            check_out=moved.check_out,
            shift_days=shift,
            free_beds=found.free_beds,
            beds=found.beds,
        )
    return None
