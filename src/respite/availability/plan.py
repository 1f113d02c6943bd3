"""From a validated search to the SQL that answers it: which statement, with which arguments.

Pure: the service runs these statements, and so does the benchmark (``ops/bench``), so that
both measure exactly the same SQL. The argument layout is documented in ``queries.py``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import msgspec

from respite.availability import queries as q
from respite.availability.model import AvailabilityQuery, PageKey, Point
from respite.eligibility.model import Need, Sex, SexRule
from respite.eligibility.policy import Policy
from respite.geo import EARTH_RADIUS_M

__all__ = [
    "Filters",
    "Statement",
    "allowed_sex_rules",
    "alternatives_statement",
    "bounding_box",
    "codes_in_range_statement",
    "excluded_statement",
    "filters_for",
    "page_statement",
    "required_capabilities",
]

_PAGE = {
    ("distance", True): q.SELECT_PAGE_BY_DISTANCE_NEAR,
    ("distance", False): q.SELECT_PAGE_BY_DISTANCE_LISTED,
    ("price", True): q.SELECT_PAGE_BY_PRICE_NEAR,
    ("price", False): q.SELECT_PAGE_BY_PRICE_LISTED,
}


def bounding_box(centre: Point, radius_m: float) -> tuple[float, float, float, float]:
    """(lon_min, lat_min, lon_max, lat_max) of every point within ``radius_m`` of ``centre``.

    Exact on the sphere: the widest longitude of a circle of angular radius d at latitude
    phi is asin(sin d / cos phi). Near a pole, or across the antimeridian, the box takes every
    longitude: wider than needed, never too narrow.
    """
    angle = radius_m / EARTH_RADIUS_M
    pad = 1e-9  # degrees; absorbs rounding so that a point exactly on the circle is inside
    lat_min = max(-90.0, centre.lat - math.degrees(angle) - pad)
    lat_max = min(90.0, centre.lat + math.degrees(angle) + pad)
    cos_lat = math.cos(math.radians(centre.lat))
    if lat_min <= -90 or lat_max >= 90 or math.sin(angle) >= cos_lat:
        return (-180.0, lat_min, 180.0, lat_max)
    half_width = math.degrees(math.asin(math.sin(angle) / cos_lat)) + pad
    lon_min, lon_max = centre.lon - half_width, centre.lon + half_width
    if lon_min < -180 or lon_max > 180:
        return (-180.0, lat_min, 180.0, lat_max)
    return (lon_min, lat_min, lon_max, lat_max)


def allowed_sex_rules(sex: Sex | None) -> list[SexRule]:
    """Room rules a person of this sex may sleep under; unknown sex: every room."""
    return ["female", "male", "any"] if sex is None else [sex, "any"]


class Filters(msgspec.Struct, frozen=True, kw_only=True):
    """What a bed and a facility must offer, for the policies the person may use."""

    sex_rules: list[SexRule]
    min_stage: int
    codes: list[str]
    capabilities: list[str]
    """Per code in ``codes``: the capabilities its needs require, comma-separated."""
    home_radius: list[bool]
    home: Point | None
    origin: Point | None

    @property
    def narrows(self) -> bool:
        """Whether some free bed of the kind could fail these filters (worth explaining)."""
        return (
            len(self.sex_rules) < 3
            or self.min_stage > 0
            or any(self.capabilities)
            or (self.home is not None and any(self.home_radius))
        )


class Statement(msgspec.Struct, frozen=True):
    sql: str
    args: list[object]


def required_capabilities(policy: Policy, needs: frozenset[Need]) -> list[str]:
    return sorted({cap for need in needs for cap in policy.needs_capabilities.get(need, ())})


def filters_for(
    policies: Mapping[str, Policy],
    *,
    sex: Sex | None,
    needs: frozenset[Need],
    min_stage: int,
    home: Point | None,
    origin: Point | None,
) -> Filters:
    codes = sorted(policies)
    return Filters(
        sex_rules=allowed_sex_rules(sex),
        min_stage=min_stage,
        codes=codes,
        capabilities=[",".join(required_capabilities(policies[c], needs)) for c in codes],
        home_radius=[
            (p := policies[c]).home is not None and p.home.require_within_radius for c in codes
        ],
        home=home,
        origin=origin,
    )


def _common(query: AvailabilityQuery, filters: Filters) -> list[object]:
    origin, home = filters.origin, filters.home
    if query.near is not None:
        lon_min, lat_min, lon_max, lat_max = bounding_box(query.near, query.radius_m)
        where: object = ((lon_max, lat_max), (lon_min, lat_min))
        radius = query.radius_m
    else:
        where, radius = list(query.facility_ids), float("inf")
    return [
        query.kind,
        query.stay.check_in,
        query.stay.check_out,
        origin.lat if origin else None,
        origin.lon if origin else None,
        filters.sex_rules,
        filters.min_stage,
        filters.codes,
        filters.capabilities,
        filters.home_radius,
        home.lat if home else None,
        home.lon if home else None,
        where,
        radius,
        query.now,
    ]


def page_statement(query: AvailabilityQuery, filters: Filters, rows: int) -> Statement:
    """Up to ``rows`` facilities after ``query.after``, in the query's order."""
    sql = _PAGE[(query.sort, query.near is not None)]
    after = query.after or PageKey(-1, 0)
    # Keys are non-negative (metres, prices): -1 starts before the first facility.
    key = int(after.key) if query.sort == "price" else after.key
    return Statement(sql, [*_common(query, filters), key, after.facility_id, rows])


def excluded_statement(query: AvailabilityQuery, filters: Filters, rows: int) -> Statement:
    sql = q.SELECT_EXCLUDED_NEAR if query.near is not None else q.SELECT_EXCLUDED_LISTED
    return Statement(sql, [*_common(query, filters), rows])


def alternatives_statement(
    query: AvailabilityQuery,
    filters: Filters,
    *,
    skip: Sequence[int],
    shifts: Sequence[int],
    rows: int,
) -> Statement:
    sql = q.SELECT_ALTERNATIVES_NEAR if query.near is not None else q.SELECT_ALTERNATIVES_LISTED
    return Statement(sql, [*_common(query, filters), list(skip), list(shifts), rows])


def codes_in_range_statement(query: AvailabilityQuery, filters: Filters) -> Statement:
    """Which of ``filters.codes`` the facilities where the search looks apply."""
    near = query.near is not None
    sql = q.SELECT_CODES_IN_RANGE_NEAR if near else q.SELECT_CODES_IN_RANGE_LISTED
    return Statement(sql, _common(query, filters))
