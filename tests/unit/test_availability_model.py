"""Availability search input: every refusal names its field; the box around a circle holds it."""

from datetime import UTC, date, datetime, timedelta
from math import asin, atan2, cos, degrees, radians, sin
from typing import Any

import msgspec
import pytest

from respite.availability.model import (
    MAX_DAYS_AHEAD,
    AvailabilityQuery,
    Horizon,
    PageKey,
    Point,
    SearchParams,
    held_bed_ids,
    horizon,
    parse_point,
    shifts_to_try,
    validate_query,
)
from respite.availability.plan import allowed_sex_rules, bounding_box
from respite.eligibility.model import Stay
from respite.errors import InvalidInputError
from respite.geo import EARTH_RADIUS_M, haversine_m

# At noon UTC the last timezone to reach a date (UTC−12) has just reached 10 March, and the
# first (UTC+14) is at 02:00 on 11 March.
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TODAY = date(2026, 3, 10)
LAST = date(2026, 3, 11) + timedelta(days=MAX_DAYS_AHEAD)
IN = TODAY + timedelta(days=10)


def params(**changes: Any) -> SearchParams:
    base = SearchParams(check_in=IN, check_out=IN + timedelta(days=7), near="31.23,121.47")
    return msgspec.structs.replace(base, **changes)


def refused(p: SearchParams) -> list[str]:
    with pytest.raises(InvalidInputError) as caught:
        validate_query(p, NOW)
    return [e.field for e in caught.value.errors]


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"check_out": IN}, ["check_out"]),
        ({"check_out": IN - timedelta(days=1)}, ["check_out"]),
        ({"check_out": IN + timedelta(days=91)}, ["check_out"]),
        ({"kind": "home", "check_out": IN + timedelta(days=367)}, ["check_out"]),
        ({"check_in": TODAY - timedelta(days=1)}, ["check_in"]),
        ({"check_in": LAST + timedelta(days=1), "check_out": LAST + timedelta(3)}, ["check_in"]),
        ({"near": ""}, ["near"]),
        ({"near": "31.23"}, ["near"]),
        ({"near": "31.23,121.47,5"}, ["near"]),
        ({"near": "north,east"}, ["near"]),
        ({"near": "91,121"}, ["near"]),
        ({"near": "31,-180.5"}, ["near"]),
        ({"near": "nan,121"}, ["near"]),
        ({"near": "31,inf"}, ["near"]),
        ({"near": None}, ["near"]),
        ({"facility_ids": (1, 2)}, ["facility_id"]),
        ({"near": None, "facility_ids": (0,)}, ["facility_id"]),
        ({"near": None, "facility_ids": (2**63,)}, ["facility_id"]),
        ({"near": None, "facility_ids": tuple(range(1, 52))}, ["facility_id"]),
        ({"near": None, "facility_ids": (1,), "radius_km": 3.0}, ["radius_km"]),
        ({"needs": ("oxygen", "flying")}, ["needs"]),
        ({"needs": ("oxygen,dementia,x",)}, ["needs"]),
        ({"care_recipient_id": 5, "sex": "male"}, ["sex"]),
        ({"care_recipient_id": 5, "needs": ("oxygen",)}, ["needs"]),
        ({"care_recipient_id": 5, "pressure_stage": 2}, ["pressure_stage"]),
        ({"care_recipient_id": 0}, ["care_recipient_id"]),
        ({"home": "31.2,121.4"}, ["home"]),
        ({"kind": "home", "home": "somewhere"}, ["home"]),
        ({"limit": 0}, ["limit"]),
        ({"limit": 51}, ["limit"]),
        ({"radius_km": 0.0}, ["radius_km"]),
        ({"radius_km": 50.001}, ["radius_km"]),
        ({"radius_km": float("nan")}, ["radius_km"]),
    ],
)
def test_bad_input_names_the_field(changes: dict[str, Any], fields: list[str]) -> None:
    assert refused(params(**changes)) == fields


def test_every_wrong_field_is_named_at_once() -> None:
    bad = params(check_in=TODAY - timedelta(days=2), near="x", needs=("teleport",), limit=99)
    assert refused(bad) == ["check_in", "near", "needs", "limit"]


@pytest.mark.parametrize(("kind", "nights"), [("respite", 1), ("respite", 90), ("home", 366)])
def test_longest_and_shortest_stays_pass(kind: str, nights: int) -> None:
    query = validate_query(params(kind=kind, check_out=IN + timedelta(days=nights)), NOW)
    assert query.stay.nights == nights


def test_today_anywhere_and_the_horizon_are_allowed() -> None:
    assert validate_query(params(check_in=TODAY, check_out=TODAY + timedelta(1)), NOW)
    assert validate_query(params(check_in=LAST, check_out=LAST + timedelta(1)), NOW)


@pytest.mark.parametrize(
    ("now", "first", "last"),
    [
        (datetime(2026, 3, 10, 11, 59, tzinfo=UTC), date(2026, 3, 9), date(2026, 3, 11)),
        (NOW, date(2026, 3, 10), date(2026, 3, 11)),
        (datetime(2026, 3, 10, 9, 59, tzinfo=UTC), date(2026, 3, 9), date(2026, 3, 10)),
    ],
)
def test_the_horizon_runs_from_the_last_timezone_to_the_first(
    now: datetime, first: date, last: date
) -> None:
    assert horizon(now) == Horizon(first, last + timedelta(days=MAX_DAYS_AHEAD))


def test_defaults_and_normalisation() -> None:
    query = validate_query(params(needs=("oxygen, dementia,", "oxygen", "")), NOW)
    assert query.radius_m == 10_000
    assert query.near == Point(31.23, 121.47)
    assert query.needs == frozenset({"oxygen", "dementia"})
    listed = validate_query(params(near=None, facility_ids=(7, 3, 7)), NOW)
    assert listed.facility_ids == (3, 7)
    assert listed.near is None


def test_an_anonymous_home_bed_search_near_a_place_is_for_that_home() -> None:
    assert validate_query(params(kind="home"), NOW).home == Point(31.23, 121.47)
    explicit = validate_query(params(kind="home", home="31.3,121.5"), NOW)
    assert explicit.home == Point(31.3, 121.5)
    assert validate_query(params(kind="respite"), NOW).home is None


def test_a_care_recipient_may_search_without_a_place() -> None:
    query = validate_query(params(near=None, care_recipient_id=12), NOW)
    assert query.near is None and query.care_recipient_id == 12


def test_fingerprint_identifies_the_search_not_the_page() -> None:
    query = validate_query(params(), NOW)
    same = msgspec.structs.replace(query, limit=5, after=PageKey(1200.5, 9))
    assert query.fingerprint() == same.fingerprint()
    for other in (
        msgspec.structs.replace(query, sort="price"),
        msgspec.structs.replace(query, radius_m=9_000),
        msgspec.structs.replace(query, needs=frozenset({"oxygen"})),
        msgspec.structs.replace(query, care_recipient_id=4),
        msgspec.structs.replace(query, stay=Stay(check_in=IN, check_out=IN + timedelta(8))),
    ):
        assert other.fingerprint() != query.fingerprint()


@pytest.mark.parametrize(
    ("text", "point"),
    [
        ("31.23,121.47", Point(31.23, 121.47)),
        (" -90 , 180 ", Point(-90, 180)),
        ("0,0", Point(0, 0)),
    ],
)
def test_parse_point(text: str, point: Point) -> None:
    assert parse_point(text) == point


def _destination(lat: float, lon: float, bearing: float, metres: float) -> tuple[float, float]:
    d, b = metres / EARTH_RADIUS_M, radians(bearing)
    phi1, lam1 = radians(lat), radians(lon)
    phi2 = asin(sin(phi1) * cos(d) + cos(phi1) * sin(d) * cos(b))
    lam2 = lam1 + atan2(sin(b) * sin(d) * cos(phi1), cos(d) - sin(phi1) * sin(phi2))
    return degrees(phi2), degrees(lam2)


@pytest.mark.parametrize("lat", [0.0, 31.23, 60.0, -45.0, 84.0])
@pytest.mark.parametrize("radius_m", [100.0, 5_000.0, 50_000.0])
def test_the_box_holds_every_point_of_the_circle(lat: float, radius_m: float) -> None:
    centre = Point(lat, 121.47)
    lon_min, lat_min, lon_max, lat_max = bounding_box(centre, radius_m)
    for bearing in range(0, 360, 3):
        plat, plon = _destination(lat, 121.47, bearing, radius_m * 0.999999)
        assert haversine_m(lat, 121.47, plat, plon) <= radius_m
        assert lat_min <= plat <= lat_max and lon_min <= plon <= lon_max, bearing


def test_the_box_is_tight_at_the_equator() -> None:
    lon_min, lat_min, lon_max, lat_max = bounding_box(Point(0, 0), 50_000)
    half = degrees(50_000 / EARTH_RADIUS_M)
    expected = [-half, -half, half, half]
    assert [lon_min, lat_min, lon_max, lat_max] == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("centre", [Point(89.9, 10), Point(-89.9, 10), Point(10, 179.9)])
def test_near_a_pole_or_the_antimeridian_every_longitude_is_in(centre: Point) -> None:
    lon_min, _, lon_max, _ = bounding_box(centre, 50_000)
    assert (lon_min, lon_max) == (-180.0, 180.0)


def test_sex_rules() -> None:
    assert allowed_sex_rules("female") == ["female", "any"]
    assert allowed_sex_rules("male") == ["male", "any"]
    assert allowed_sex_rules(None) == ["female", "male", "any"]


class _Hold(msgspec.Struct, frozen=True):
    bed_id: int
    check_in: date
    check_out: date


D = date(2026, 5, 10)


@pytest.mark.parametrize(
    ("hold", "held"),
    [
        ((D, D + timedelta(5)), True),  # the same stay
        ((D + timedelta(7), D + timedelta(9)), False),  # starts the morning this stay ends
        ((D - timedelta(3), D), False),  # ends the morning this stay starts
        ((D + timedelta(6), D + timedelta(9)), True),  # shares the last night
        ((D - timedelta(3), D + timedelta(1)), True),  # shares the first night
        ((D + timedelta(2), D + timedelta(3)), True),  # one night inside
        ((D - timedelta(9), D + timedelta(30)), True),  # covers it all
    ],
)
def test_held_beds_share_a_night_with_the_stay(hold: tuple[date, date], held: bool) -> None:
    holds = [_Hold(1, *hold), _Hold(2, D - timedelta(40), D - timedelta(30))]
    assert held_bed_ids(holds, D, D + timedelta(7)) == ({1} if held else set())


def test_shifts_go_nearest_first_later_before_earlier_within_the_horizon() -> None:
    bounds = Horizon(TODAY, TODAY + timedelta(days=MAX_DAYS_AHEAD))
    stay = Stay(check_in=TODAY + timedelta(days=2), check_out=TODAY + timedelta(days=5))
    assert shifts_to_try(stay, bounds) == [1, -1, 2, -2, 3, 4, 5, 6, 7]
    far = Stay(check_in=TODAY + timedelta(30), check_out=TODAY + timedelta(31))
    assert shifts_to_try(far, bounds) == [1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6, 7, -7]
    edge = TODAY + timedelta(days=MAX_DAYS_AHEAD - 1)
    assert shifts_to_try(Stay(check_in=edge, check_out=edge + timedelta(1)), bounds)[:3] == [
        1,
        -1,
        -2,
    ]


def test_a_query_is_a_struct_of_plain_values() -> None:
    query = validate_query(params(), NOW)
    assert msgspec.json.decode(msgspec.json.encode(query), type=AvailabilityQuery) == query
