"""Reading bookings: each principal sees only what is theirs, filtered and paged by id."""

from datetime import date, timedelta
from typing import Any

import httpx
import msgspec
import pytest

from tests import builders
from tests.conftest import MakeToken


def day(offset: int) -> date:
    """A date ``offset`` days into June 2030, where the world's stays lie."""
    return date(2030, 6, 1) + timedelta(days=offset)


class World(msgspec.Struct):
    """Two facilities; a family's booking at A, a hospital's at B, walk-ins at both."""

    family_booking: int
    hospital_booking: int
    a_bookings: list[int]
    b_bookings: list[int]
    facility_a: int
    headers: dict[str, dict[str, str]]


async def _world(db: Any, make_token: MakeToken) -> World:
    facility_a = await builders.facility(db, address="长宁区愚园路 1200 号", phone="021-6222 0000")
    facility_b = await builders.facility(db)
    bed_a, bed_b = await builders.bed(db, facility_a), await builders.bed(db, facility_b)
    hospital = await builders.hospital(db)
    family, family_headers = await make_token("family")
    _, hospital_headers = await make_token("hospital", hospital_id=hospital)
    _, staff_a = await make_token("staff", facility_id=facility_a)
    _, admin = await make_token("admin")
    _, stranger = await make_token("family")

    elder = await builders.recipient(db, family_id=family.id)
    family_booking = await builders.booking(db, bed_a, day(0), day(3), recipient_id=elder)
    patient = await builders.recipient(db, hospital_id=hospital)
    hospital_booking = await builders.booking(db, bed_b, day(0), day(2), recipient_id=patient)
    await db.execute(
        "UPDATE bookings SET hospital_id = $1 WHERE id = $2", hospital, hospital_booking
    )
    walk_in_a = await builders.booking(db, bed_a, day(5), day(7), status="checked_in")
    cancelled_a = await builders.booking(db, bed_a, day(10), day(12), status="cancelled")
    walk_in_b = await builders.booking(db, bed_b, day(20), day(21))
    return World(
        family_booking=family_booking,
        hospital_booking=hospital_booking,
        a_bookings=[family_booking, walk_in_a, cancelled_a],
        b_bookings=[hospital_booking, walk_in_b],
        facility_a=facility_a,
        headers={
            "family": family_headers,
            "hospital": hospital_headers,
            "staff": staff_a,
            "admin": admin,
            "stranger": stranger,
        },
    )


@pytest.fixture
async def world(db: Any, make_token: MakeToken) -> World:
    """For the tests whose answers span every booking: nothing else may be in the database."""
    return await _world(db, make_token)


@pytest.fixture(scope="module")
async def shared_world(shared_db: Any, shared_make_token: MakeToken) -> World:
    """For the tests that read one principal's view or are refused: they share one database
    (see conftest)."""
    return await _world(shared_db, shared_make_token)


async def ids(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[int]:
    response = await client.get("/v1/bookings", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [b["id"] for b in response.json()["items"]]


async def test_each_principal_sees_only_its_own(client: httpx.AsyncClient, world: World) -> None:
    h = world.headers
    assert await ids(client, h["admin"]) == sorted(world.a_bookings + world.b_bookings)
    assert await ids(client, h["staff"]) == sorted(world.a_bookings)
    assert await ids(client, h["family"]) == [world.family_booking]
    assert await ids(client, h["hospital"]) == [world.hospital_booking]
    assert await ids(client, h["stranger"]) == []


async def test_one_booking_is_visible_to_its_tenants_only(
    shared_client: httpx.AsyncClient, shared_world: World
) -> None:
    world = shared_world
    path = f"/v1/bookings/{world.family_booking}"
    for role in ("family", "staff", "admin"):
        response = await shared_client.get(path, headers=world.headers[role])
        assert response.status_code == 200, (role, response.text)
        assert response.json()["id"] == world.family_booking
        assert "national_id" not in response.text
    for role in ("hospital", "stranger"):
        response = await shared_client.get(path, headers=world.headers[role])
        assert response.status_code == 404, (role, response.text)
    missing = await shared_client.get("/v1/bookings/999999999", headers=world.headers["admin"])
    assert missing.status_code == 404
    assert (await shared_client.get(path)).status_code == 401


async def test_each_booking_carries_its_facilitys_contact(
    shared_client: httpx.AsyncClient, shared_db: Any, shared_world: World
) -> None:
    row = await shared_db.fetchrow(
        "SELECT id, name, address, phone FROM facilities WHERE id = $1", shared_world.facility_a
    )
    contact = dict(row)
    assert contact["address"] and contact["phone"]
    family = shared_world.headers["family"]
    listed = await shared_client.get("/v1/bookings", headers=family)
    assert [b["facility"] for b in listed.json()["items"]] == [contact]
    one = await shared_client.get(f"/v1/bookings/{shared_world.family_booking}", headers=family)
    assert one.json()["facility"] == contact


async def test_filters(client: httpx.AsyncClient, world: World) -> None:
    admin = world.headers["admin"]
    family, walk_in_a, cancelled_a = world.a_bookings
    assert await ids(client, admin, status="cancelled") == [cancelled_a]
    assert await ids(client, admin, status="checked_in") == [walk_in_a]
    assert await ids(client, admin, facility_id=world.facility_a) == sorted(world.a_bookings)
    # Stays overlapping [from, to): day 2 is the last night of the family's stay.
    overlapping = await ids(client, admin, **{"from": day(2).isoformat(), "to": day(6).isoformat()})
    assert overlapping == [family, walk_in_a]
    assert await ids(client, admin, **{"from": day(3).isoformat(), "to": day(5).isoformat()}) == []
    assert await ids(client, admin, **{"from": day(20).isoformat()}) == [world.b_bookings[1]]
    assert await ids(client, admin, to=day(1).isoformat()) == sorted(
        [family, world.hospital_booking]
    )
    # A filter never widens what a principal may see.
    assert await ids(client, world.headers["family"], facility_id=world.facility_a) == [family]


async def test_keyset_pages_cover_everything_once(client: httpx.AsyncClient, world: World) -> None:
    admin = world.headers["admin"]
    seen: list[int] = []
    params: dict[str, Any] = {"limit": 2}
    pages = 0
    while True:
        response = await client.get("/v1/bookings", params=params, headers=admin)
        page = response.json()
        seen += [b["id"] for b in page["items"]]
        pages += 1
        if page["next_cursor"] is None:
            break
        assert len(page["items"]) == 2
        params["cursor"] = page["next_cursor"]
    assert seen == sorted(world.a_bookings + world.b_bookings)
    assert pages == 3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"status": "lost"}, "status"),
        ({"facility_id": 2**63}, "facility_id"),
        ({"from": "someday"}, "from"),
        ({"from": "2030-06-05", "to": "2030-06-05"}, "to"),
        ({"from": "2030-06-05", "to": "2030-06-01"}, "to"),
    ],
)
async def test_bad_query_parameters_are_422_naming_them(
    shared_client: httpx.AsyncClient, shared_world: World, params: dict[str, Any], field: str
) -> None:
    response = await shared_client.get(
        "/v1/bookings", params=params, headers=shared_world.headers["admin"]
    )
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_the_largest_page_is_allowed(client: httpx.AsyncClient, world: World) -> None:
    assert len(await ids(client, world.headers["admin"], limit=200)) == 5
