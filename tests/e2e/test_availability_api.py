"""GET /v1/availability as a family, a hospital and an anonymous visitor would use it."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from respite.clock import ManualClock
from respite.geo import EARTH_RADIUS_M
from tests import builders, dates
from tests.conftest import MakeToken
from tests.dates import When

PROBLEM = "application/problem+json"
CENTRE = (31.23, 121.47)
NEAR = f"{CENTRE[0]},{CENTRE[1]}"
KM_PER_DEG_LAT = EARTH_RADIUS_M * 3.141592653589793 / 180 / 1000
URL = "/v1/availability"


def north(km: float) -> float:
    return CENTRE[0] + km / KM_PER_DEG_LAT


@pytest.fixture
def when(clock: ManualClock) -> When:
    return dates.when(clock, ahead=20)


@pytest.fixture(scope="module")
def shared_when(shared_clock: ManualClock) -> When:
    return dates.when(shared_clock, ahead=20)


def stay(when: When, first: int = 0, nights: int = 3) -> dict[str, str]:
    check_in = when.d + timedelta(days=first)
    return {
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(nights)).isoformat(),
    }


async def city(db: Any, count: int, *, capabilities: tuple[str, ...] = ()) -> list[int]:
    """``count`` facilities 0.5 km apart going north, one free bed each."""
    facilities = []
    for i in range(count):
        facility = await builders.facility(db, lat=north(0.5 * (i + 1)), lon=CENTRE[1])
        await builders.bed(db, facility, price=20000 - 100 * i, capabilities=capabilities)
        facilities.append(facility)
    return facilities


@pytest.fixture(scope="module")
async def shared_city(shared_db: Any) -> list[int]:
    """For the tests that are only refused: they share one database (see conftest)."""
    return await city(shared_db, 2)


def assert_problem(response: httpx.Response, status: int, fields: list[str]) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["detail"]
    if fields:
        assert [e["field"] for e in body["errors"]] == fields, body


async def test_an_anonymous_search_answers_grouped_by_facility(
    when: When, client: httpx.AsyncClient, db: Any
) -> None:
    facility = await builders.facility(db, lat=north(1.5), lon=CENTRE[1], name="长者照护之家")
    bed = await builders.bed(db, facility, label="3F-12", price=18000, capabilities=("oxygen",))
    booked = await builders.bed(db, facility, label="3F-13")
    await builders.booking(db, booked, when.d, when.d + timedelta(days=1))

    response = await client.get(URL, params={**stay(when), "near": NEAR, "radius_km": 5})

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["check_in"], body["nights"], body["kind"], body["sort"]) == (
        when.d.isoformat(),
        3,
        "respite",
        "distance",
    )
    [found] = body["facilities"]
    assert found["facility_id"] == facility and found["name"] == "长者照护之家"
    assert found["distance_km"] == pytest.approx(1.5, abs=0.01)
    assert found["policy"] == {"code": "cn-respite", "version": 1}
    assert (found["free_beds"], found["held_beds"], found["currency"]) == (1, 0, "CNY")
    assert found["beds"] == [
        {
            "bed_id": bed,
            "label": "3F-12",
            "sex_rule": "any",
            "capabilities": ["oxygen"],
            "pressure_care_stage": 0,
            "nightly_price": 18000,
            "total_price": 54000,
            "possibly_held": False,
        }
    ]
    assert body["next_cursor"] is None and body["holds_unknown"] is False


def _dated(value: object, when: When) -> object:
    """``("d", n)`` is n days after the test's d, ``("today", n)`` n days after today."""
    if isinstance(value, tuple):
        base: date = when.d if value[0] == "d" else when.today
        return (base + timedelta(days=value[1])).isoformat()
    return value


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"check_out": ("d", 0)}, ["check_out"]),
        ({"check_out": ("d", 91)}, ["check_out"]),
        ({"kind": "home", "check_out": ("d", 367)}, ["check_out"]),
        ({"check_in": ("today", -1)}, ["check_in"]),
        ({"check_in": "2026-02-30"}, ["check_in"]),
        ({"check_in": "tomorrow"}, ["check_in"]),
        ({"near": "31.23;121.47"}, ["near"]),
        ({"near": "310,121"}, ["near"]),
        ({"near": "1e308,1e308"}, ["near"]),
        ({"near": "nan,nan"}, ["near"]),
        ({"near": "x" * 65}, ["near"]),
        ({"radius_km": "0"}, ["radius_km"]),
        ({"radius_km": "50.5"}, ["radius_km"]),
        ({"radius_km": "nan"}, ["radius_km"]),
        ({"radius_km": "1e400"}, ["radius_km"]),
        ({"needs": "oxygen,levitation"}, ["needs"]),
        ({"sex": "other"}, ["sex"]),
        ({"kind": "hotel"}, ["kind"]),
        ({"sort": "rating"}, ["sort"]),
        ({"limit": "0"}, ["limit"]),
        ({"limit": "51"}, ["limit"]),
        ({"limit": "ten"}, ["limit"]),
        ({"pressure_stage": "5"}, ["pressure_stage"]),
        ({"facility_id": "7"}, ["facility_id"]),
        ({"near": None, "facility_id": "-3"}, ["facility_id"]),
        ({"near": None, "facility_id": "99999999999999999999"}, ["facility_id"]),
        ({"near": None}, ["near"]),
        ({"care_recipient_id": "99999999999999999999"}, ["care_recipient_id"]),
        ({"care_recipient_id": "0"}, ["care_recipient_id"]),
        ({"cursor": "not-a-cursor"}, ["cursor"]),
        ({"cursor": "x" * 600}, ["cursor"]),
    ],
)
async def test_bad_input_is_a_422_naming_the_field_and_changes_nothing(
    shared_client: httpx.AsyncClient,
    shared_db: Any,
    shared_city: list[int],
    shared_when: When,
    params: dict[str, object],
    fields: list[str],
) -> None:
    before = await _counts(shared_db)
    query: dict[str, Any] = {
        **stay(shared_when),
        "near": NEAR,
        **{k: _dated(v, shared_when) for k, v in params.items()},
    }
    response = await shared_client.get(
        URL, params={k: v for k, v in query.items() if v is not None}
    )
    assert_problem(response, 422, fields)
    assert await _counts(shared_db) == before


async def _counts(db: Any) -> tuple[int, ...]:
    row = await db.fetchrow(
        "SELECT (SELECT count(*) FROM bookings), (SELECT count(*) FROM bed_nights),"
        " (SELECT count(*) FROM audit_log), (SELECT count(*) FROM policies)"
    )
    return tuple(row)


async def test_a_care_recipient_search_needs_a_token_and_the_recipient(
    when: When, client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    await city(db, 1)
    family, headers = await make_token("family")
    mine = await builders.recipient(db, family_id=family.id)
    theirs = await builders.recipient(db)
    params = {**stay(when), "near": NEAR}

    anonymous = await client.get(URL, params={**params, "care_recipient_id": mine})
    assert_problem(anonymous, 401, [])
    other = await client.get(URL, params={**params, "care_recipient_id": theirs}, headers=headers)
    assert_problem(other, 404, [])
    unknown = await client.get(URL, params={**params, "care_recipient_id": 10**12}, headers=headers)
    assert_problem(unknown, 404, [])
    assert other.json()["detail"].replace(str(theirs), "?") == unknown.json()["detail"].replace(
        str(10**12), "?"
    )
    own = await client.get(URL, params={**params, "care_recipient_id": mine}, headers=headers)
    assert own.status_code == 200 and len(own.json()["facilities"]) == 1
    bad_token = await client.get(URL, params=params, headers={"Authorization": "Bearer nope"})
    assert_problem(bad_token, 401, [])


async def test_a_hospital_sees_why_facilities_are_excluded(
    when: When, client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    plain = await city(db, 2)
    far_oxygen = await builders.facility(db, lat=north(4.2), lon=CENTRE[1])
    await builders.bed(db, far_oxygen, capabilities=("oxygen",))
    hospital = await builders.hospital(db)
    _, headers = await make_token("hospital", hospital_id=hospital)
    patient = await builders.recipient(db, hospital_id=hospital, needs=("oxygen",))

    response = await client.get(
        URL, params={**stay(when), "near": NEAR, "care_recipient_id": patient}, headers=headers
    )

    body = response.json()
    assert [f["facility_id"] for f in body["facilities"]] == [far_oxygen]
    assert [(e["facility_id"], e["reasons"][0]["code"]) for e in body["excluded"]] == [
        (plain[0], "needs_capability_missing:oxygen"),
        (plain[1], "needs_capability_missing:oxygen"),
    ]
    assert body["excluded"][0]["reasons"][0]["message_en"]
    assert body["summary"] == (
        "The nearest facility with a matching free bed is 4.2 km away; "
        "the 2 closer ones lack oxygen."
    )


async def test_cursors_walk_every_page_once_and_only_for_their_search(
    when: When, client: httpx.AsyncClient, db: Any
) -> None:
    facilities = await city(db, 7)
    params: dict[str, Any] = {**stay(when), "near": NEAR, "limit": 3, "sort": "price"}
    seen: list[int] = []
    cursors: list[str] = []
    while True:
        extra = {"cursor": cursors[-1]} if cursors else {}
        response = await client.get(URL, params={**params, **extra})
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [f["facility_id"] for f in body["facilities"]]
        if body["next_cursor"] is None:
            break
        cursors.append(body["next_cursor"])
    assert seen == list(reversed(facilities))  # prices fall going north
    assert len(cursors) == 2
    first_cursor = cursors[0]

    other_search = await client.get(
        URL, params={**params, "sort": "distance", "cursor": first_cursor}
    )
    assert_problem(other_search, 422, ["cursor"])
    other_stay = await client.get(URL, params={**params, **stay(when, 1), "cursor": first_cursor})
    assert_problem(other_stay, 422, ["cursor"])
    body, signature = first_cursor.split(".")
    tampered = await client.get(URL, params={**params, "cursor": f"{body}.{signature[::-1]}"})
    assert_problem(tampered, 422, ["cursor"])
    # The page size is not part of the search: a client may change it between pages.
    bigger = await client.get(URL, params={**params, "limit": 10, "cursor": first_cursor})
    assert [f["facility_id"] for f in bigger.json()["facilities"]] == seen[3:]


async def test_pages_raced_by_bookings_over_http_never_repeat_a_facility(
    when: When, client: httpx.AsyncClient, db: Any, database_url: str
) -> None:
    facilities = await city(db, 12)
    steady = set(facilities[::3])

    async def walk() -> list[int]:
        seen: list[int] = []
        cursor = None
        while True:
            extra: dict[str, str] = {"cursor": cursor} if cursor else {}
            response = await client.get(
                URL, params={**stay(when), "near": NEAR, "limit": 2, **extra}
            )
            assert response.status_code == 200, response.text
            seen += [f["facility_id"] for f in response.json()["facilities"]]
            cursor = response.json()["next_cursor"]
            if cursor is None:
                return seen

    async def book(facility: int) -> None:
        from respite.db import connect

        conn = await connect(database_url)
        try:
            bed = await conn.fetchval("SELECT id FROM beds WHERE facility_id = $1", facility)
            await builders.booking(conn, bed, when.d, when.d + timedelta(days=1))
        finally:
            await conn.close()

    results = await asyncio.gather(
        walk(), walk(), *(book(f) for f in facilities if f not in steady)
    )
    for seen in results[:2]:
        assert isinstance(seen, list)
        assert len(seen) == len(set(seen))
        assert steady <= set(seen)


async def test_redis_holds_hide_beds_over_http(
    when: When, client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    [facility] = await city(db, 1)
    await builders.bed(db, facility, price=1)
    family, headers = await make_token("family")
    elder = await builders.recipient(db, family_id=family.id)
    params = {**stay(when), "near": NEAR}
    cheapest = (await client.get(URL, params=params)).json()["facilities"][0]["beds"][0]
    held = await client.post(
        "/v1/holds",
        json={
            "bed_id": cheapest["bed_id"],
            "care_recipient_id": elder,
            "check_in": stay(when)["check_in"],
            "check_out": stay(when)["check_out"],
        },
        headers=headers,
    )
    assert held.status_code in (200, 201), held.text
    after = (await client.get(URL, params=params)).json()["facilities"][0]
    assert cheapest["bed_id"] not in [b["bed_id"] for b in after["beds"]]
    assert after["held_beds"] == 1


async def test_the_route_is_documented(shared_client: httpx.AsyncClient) -> None:
    schema = (await shared_client.get("/schema/openapi.json")).json()
    operation = schema["paths"]["/v1/availability"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"check_in", "check_out", "near", "radius_km", "facility_id", "cursor"} <= names
