"""What a search asks and what it answers (its Structs in ``answer.py``), and the pure rules
of both (no I/O).

A search is validated here in full before anything is read, so that bad input is refused
with every wrong field named, and so that no input can make the database work harder than
the facilities inside a 50 km radius (or 50 listed ids) require.

"Today" is each facility's own calendar date: a search spanning several timezones judges every
facility by its date, in SQL, from the query's ``now``. Before anything is read, only what is
wrong everywhere is refused: a check-in before the date in the last timezone to reach it, or
beyond the booking horizon from the date in the first (the ``Horizon``).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Final, Protocol

import msgspec
from msgspec import Struct

from respite.availability.answer import (
    Alternative,
    AvailabilityPage,
    ExcludedFacility,
    FacilityBeds,
    FreeBed,
    PolicyRef,
    PolicyRefusal,
    SortOrder,
)
from respite.availability.where import swapped
from respite.eligibility.model import (
    NEEDS,
    Latitude,
    Longitude,
    Need,
    PressureStage,
    Programme,
    Sex,
    Stay,
    earliest_date_on_earth,
    latest_date_on_earth,
)
from respite.errors import FieldError, InvalidInputError
from respite.i18n import t
from respite.params import MAX_ID

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_RADIUS_KM",
    "MAX_DAYS_AHEAD",
    "MAX_FACILITY_IDS",
    "MAX_NIGHTS",
    "MAX_PAGE_SIZE",
    "MAX_RADIUS_KM",
    "SHIFT_DAYS",
    "SHOWN_BEDS",
    "Alternative",
    "AvailabilityPage",
    "AvailabilityQuery",
    "ExcludedFacility",
    "FacilityBeds",
    "FreeBed",
    "HoldLike",
    "Horizon",
    "PageKey",
    "Point",
    "PolicyRef",
    "PolicyRefusal",
    "SearchParams",
    "SortOrder",
    "held_bed_ids",
    "horizon",
    "parse_point",
    "shifts_to_try",
    "validate_query",
]

MAX_NIGHTS: Final[dict[Programme, int]] = {"respite": 90, "home": 366}
# Bookings open two years ahead at most; a date beyond that is a typo, not a plan.
MAX_DAYS_AHEAD: Final = 730
MAX_RADIUS_KM: Final = 50.0
DEFAULT_RADIUS_KM: Final = 10.0
MAX_FACILITY_IDS: Final = 50
MAX_PAGE_SIZE: Final = 50
DEFAULT_PAGE_SIZE: Final = 20
# A facility's answer lists its cheapest free beds up to this many; free_beds counts them all.
SHOWN_BEDS: Final = 20
SHIFT_DAYS: Final = 7


class Point(Struct, frozen=True):
    lat: Latitude
    lon: Longitude


class SearchParams(Struct, frozen=True, kw_only=True):
    """The query string as received, each parameter already of its declared type."""

    check_in: date
    check_out: date
    kind: Programme = "respite"
    near: str | None = None
    radius_km: float | None = None
    facility_ids: tuple[int, ...] = ()
    place: str | None = None
    """A district, street or community of the gazetteer, by name or id."""
    near_home: bool = False
    checks_area: bool = False
    """Refuse a point outside the gazetteer's area: the search API's, typed by someone. Not a
    referral's: it searches after the referral is stored, and must not then refuse it."""
    care_recipient_id: int | None = None
    sex: Sex | None = None
    needs: tuple[str, ...] = ()
    pressure_stage: PressureStage | None = None
    home: str | None = None
    sort: SortOrder = "distance"
    limit: int = DEFAULT_PAGE_SIZE
    cursor: str | None = None
    """The ``next_cursor`` of the previous page of the same search."""


class Horizon(Struct, frozen=True):
    """The check-in dates that some facility, wherever on Earth, may take at one instant."""

    first: date
    """Today in the last timezone to reach it (UTC−12): before this, past everywhere."""
    last: date
    """``MAX_DAYS_AHEAD`` after today in the first timezone to reach it (UTC+14)."""


def horizon(now: datetime) -> Horizon:
    return Horizon(
        earliest_date_on_earth(now), latest_date_on_earth(now) + timedelta(days=MAX_DAYS_AHEAD)
    )


class AvailabilityQuery(Struct, frozen=True, kw_only=True):
    """A validated search. ``near`` and ``facility_ids`` are exclusive; with neither, the
    search looks around the care recipient's home (resolved once the recipient is loaded)."""

    now: datetime
    """The instant the search is made at: each facility's today, and which holds are live."""
    stay: Stay
    kind: Programme
    near: Point | None = None
    radius_m: float = DEFAULT_RADIUS_KM * 1000
    facility_ids: tuple[int, ...] = ()
    place: str | None = None
    """Resolved to ``near`` (and its radius) once a connection is open (``locate.py``)."""
    radius_from_place: bool = False
    checks_area: bool = False
    care_recipient_id: int | None = None
    sex: Sex | None = None
    needs: frozenset[Need] = frozenset()
    pressure_stage: PressureStage = 0
    home: Point | None = None
    sort: SortOrder = "distance"
    limit: int = DEFAULT_PAGE_SIZE
    after: PageKey | None = None
    """Where the previous page ended; not part of the search's identity, nor are ``limit``
    and ``now``."""

    def fingerprint(self) -> str:
        """Identifies the search (not the page): a cursor is only valid for the same one."""
        canonical = msgspec.json.encode(
            [
                self.stay.check_in,
                self.stay.check_out,
                self.kind,
                self.near,
                self.radius_m,
                sorted(self.facility_ids),
                self.place,
                self.care_recipient_id,
                self.sex,
                sorted(self.needs),
                self.pressure_stage,
                self.home,
                self.sort,
            ]
        )
        return hashlib.sha256(canonical).hexdigest()[:32]


class PageKey(Struct, frozen=True):
    """Where a page ends: the sort key (distance in metres or price) and the facility id."""

    key: float
    facility_id: int


class HoldLike(Protocol):
    @property
    def bed_id(self) -> int: ...
    @property
    def check_in(self) -> date: ...
    @property
    def check_out(self) -> date: ...


def parse_point(text: str) -> Point | None:
    """``"lat,lon"`` in decimal degrees, or None if it is not one."""
    parts = text.split(",")
    if len(parts) != 2:
        return None
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        return None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return Point(lat, lon)


def _parse_needs(values: Iterable[str], errors: list[FieldError]) -> frozenset[Need]:
    needs: set[Need] = set()
    for value in values:
        for part in value.split(","):
            code = part.strip()
            if not code:  # "needs=" from an empty form field, or a trailing comma
                continue
            if code in NEEDS:
                needs.add(code)  # type: ignore[arg-type]  # checked against NEEDS
            else:
                errors.append(
                    FieldError("needs", t("input.enum", given=f"'{code}'", allowed=NEEDS))
                )
    return frozenset(needs)


def _check_stay(params: SearchParams, bounds: Horizon, errors: list[FieldError]) -> Stay | None:
    if params.check_in < bounds.first:
        past = t("availability.check_in_past_everywhere", first=bounds.first)
        errors.append(FieldError("check_in", past))
    elif params.check_in > bounds.last:
        errors.append(FieldError("check_in", t("availability.check_in_too_far", n=MAX_DAYS_AHEAD)))
    if params.check_out <= params.check_in:
        errors.append(FieldError("check_out", t("availability.check_out_after")))
        return None
    nights, limit = (params.check_out - params.check_in).days, MAX_NIGHTS[params.kind]
    if nights > limit:
        kind = t(f"common.kind.{params.kind}")
        too_long = t("availability.too_many_nights", nights=nights, kind=kind, limit=limit)
        errors.append(FieldError("check_out", too_long))
        return None
    return Stay(check_in=params.check_in, check_out=params.check_out)


def _check_where(params: SearchParams, errors: list[FieldError]) -> Point | None:
    near = None
    if params.near is not None:
        near = parse_point(params.near)
        if near is None:
            errors.append(FieldError("near", swapped(params.near) or t("availability.point")))
    _check_place(params, errors)
    if params.near is not None and params.facility_ids:
        errors.append(FieldError("facility_id", t("availability.near_or_facility")))
    if params.radius_km is not None and params.near is None and params.facility_ids:
        errors.append(FieldError("radius_km", t("availability.radius_needs_near")))
    if len(params.facility_ids) > MAX_FACILITY_IDS:
        errors.append(FieldError("facility_id", t("input.items_at_most", n=MAX_FACILITY_IDS)))
    if any(not 1 <= fid <= MAX_ID for fid in params.facility_ids):
        errors.append(FieldError("facility_id", t("availability.ids_positive")))
    if (
        params.near is None
        and not params.facility_ids
        and params.place is None
        and params.care_recipient_id is None
    ):
        errors.append(FieldError("near", t("availability.where_needed")))
    return near


def _check_place(params: SearchParams, errors: list[FieldError]) -> None:
    """``place`` and ``near_home`` each replace ``near`` and ``facility_id``."""
    given = {
        "near": params.near is not None,
        "facility_id": bool(params.facility_ids),
        "place": params.place is not None,
        "near_home": params.near_home,
    }
    ways = [name for name, is_given in given.items() if is_given]
    for name in ("place", "near_home"):
        if name in ways and len(ways) > 1:
            errors.append(FieldError(name, t("places.one_place_only")))
    if params.near_home and params.care_recipient_id is None:
        errors.append(FieldError("near_home", t("places.near_home_needs_elder")))
    if params.place is not None and (not params.place.strip() or not params.place.isprintable()):
        errors.append(FieldError("place", t("places.not_a_name")))


def _check_person(params: SearchParams, errors: list[FieldError]) -> Point | None:
    if params.care_recipient_id is not None:
        if not 1 <= params.care_recipient_id <= MAX_ID:
            errors.append(FieldError("care_recipient_id", t("availability.ids_positive")))
        for name in ("sex", "needs", "pressure_stage", "home"):
            if getattr(params, name) not in (None, ()):
                errors.append(FieldError(name, t("availability.from_recipient")))
    if params.home is None:
        return None
    if params.kind != "home":
        errors.append(FieldError("home", t("availability.home_kind")))
    home = parse_point(params.home)
    if home is None:
        errors.append(FieldError("home", swapped(params.home) or t("availability.point")))
    return home


def validate_query(params: SearchParams, now: datetime) -> AvailabilityQuery:
    """The search at ``now``, or InvalidInputError listing every wrong parameter."""
    errors: list[FieldError] = []
    stay = _check_stay(params, horizon(now), errors)
    near = _check_where(params, errors)
    home = _check_person(params, errors)
    needs = _parse_needs(params.needs, errors)
    if not 1 <= params.limit <= MAX_PAGE_SIZE:
        errors.append(FieldError("limit", t("availability.limit_range", n=MAX_PAGE_SIZE)))
    if errors or stay is None:
        raise InvalidInputError(errors)
    radius_km = DEFAULT_RADIUS_KM if params.radius_km is None else params.radius_km
    if not 0 < radius_km <= MAX_RADIUS_KM:  # also refuses NaN
        too_far = t("availability.radius_range", n=f"{MAX_RADIUS_KM:g}")
        raise InvalidInputError.one("radius_km", too_far)
    # An anonymous home-bed search near a place is a search for that home.
    if home is None and params.kind == "home" and params.care_recipient_id is None:
        home = near
    return AvailabilityQuery(
        now=now,
        stay=stay,
        kind=params.kind,
        near=near,
        radius_m=radius_km * 1000,
        facility_ids=tuple(sorted(set(params.facility_ids))),
        place=params.place,
        radius_from_place=params.place is not None and params.radius_km is None,
        checks_area=params.checks_area,
        care_recipient_id=params.care_recipient_id,
        sex=params.sex,
        needs=needs,
        pressure_stage=params.pressure_stage or 0,
        home=home,
        sort=params.sort,
        limit=params.limit,
    )


def held_bed_ids(holds: Iterable[HoldLike], check_in: date, check_out: date) -> set[int]:
    """Beds with a hold sharing a night with [check_in, check_out)."""
    return {h.bed_id for h in holds if h.check_in < check_out and check_in < h.check_out}


def shifts_to_try(stay: Stay, bounds: Horizon) -> list[int]:
    """Day shifts for alternatives, best first: the nearest, and of two as near, the later
    (an earlier start is closer to today, so harder to arrange). Within ``bounds``; each
    facility then offers only the shifts that do not start before its own today."""
    shifts = []
    for days in range(1, SHIFT_DAYS + 1):
        for shift in (days, -days):
            start = stay.check_in + timedelta(days=shift)
            if bounds.first <= start <= bounds.last:
                shifts.append(shift)
    return shifts
