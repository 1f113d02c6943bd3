"""Facilities through the HTTP API: admins create and edit, staff edit their contact fields,
staff of another facility see nothing (404), and bad input changes nothing."""

from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from respite.eligibility.store import ensure_presets
from tests import builders
from tests.conftest import MakeToken
from tests.e2e.test_problems import assert_problem

Client = AsyncTestClient[Litestar]
NEW = {
    "name": "枫林长者照护之家",
    "operator": "福寿康",
    "address": "徐汇区枫林路 100 号",
    "district": "徐汇区",
    "community": "枫林",
    "lat": 31.19,
    "lon": 121.45,
    "phone": "+86 21 6403 0000",
    "timezone": "Asia/Shanghai",
    "service_radius_m": 3000,
}


class World(msgspec.Struct):
    mine: int
    theirs: int
    admin: dict[str, str]
    staff: dict[str, str]
    other: dict[str, str]


async def _world(db: Any, make_token: MakeToken) -> World:
    await ensure_presets(db)
    mine, theirs = await builders.facility(db), await builders.facility(db)
    _, admin = await make_token("admin")
    _, staff = await make_token("staff", facility_id=mine)
    _, other = await make_token("staff", facility_id=theirs)
    return World(mine, theirs, admin, staff, other)


@pytest.fixture
async def world(db: Any, make_token: MakeToken) -> World:
    return await _world(db, make_token)


@pytest.fixture(scope="module")
async def shared_world(shared_db: Any, shared_make_token: MakeToken) -> World:
    """For the tests that only refuse: they share one database (see conftest)."""
    return await _world(shared_db, shared_make_token)


async def _snapshot(db: Any) -> list[Any]:
    rows = await db.fetch("SELECT * FROM facilities ORDER BY id")
    return [dict(r) for r in rows]


async def test_admin_creates_reads_lists_and_edits_a_facility(
    client: Client, db: Any, world: World
) -> None:
    created = await client.post("/v1/facilities", json=NEW, headers=world.admin)
    assert created.status_code == 201, created.text
    body = created.json()
    assert {k: body[k] for k in NEW} == NEW
    assert body["respite_policy_code"] == "cn-respite" and body["active"] is True
    fid = body["id"]

    got = await client.get(f"/v1/facilities/{fid}", headers=world.admin)
    assert got.json() == body

    listed = await client.get("/v1/facilities", params={"limit": 2}, headers=world.admin)
    assert [f["id"] for f in listed.json()["items"]] == [world.mine, world.theirs]
    cursor = listed.json()["next_cursor"]
    rest = await client.get("/v1/facilities", params={"cursor": cursor}, headers=world.admin)
    assert rest.json()["next_cursor"] is None
    assert [f["id"] for f in rest.json()["items"]] == [fid]

    changes = {"name": "枫林照护之家", "lat": 31.2, "active": False, "timezone": "Asia/Urumqi"}
    patched = await client.patch(f"/v1/facilities/{fid}", json=changes, headers=world.admin)
    assert patched.status_code == 200, patched.text
    assert {k: patched.json()[k] for k in changes} == changes
    assert patched.json()["phone"] == NEW["phone"]
    inactive = await client.get("/v1/facilities?active=false", headers=world.admin)
    assert [f["id"] for f in inactive.json()["items"]] == [fid]
    audit = await db.fetch(
        "SELECT action, before, after FROM audit_log WHERE entity = 'facility' AND entity_id = $1"
        " ORDER BY id",
        str(fid),
    )
    assert [a["action"] for a in audit] == ["create", "update"]
    assert audit[1]["before"]["name"] == NEW["name"] and audit[1]["after"]["active"] is False


async def test_staff_see_only_their_facility_and_edit_only_contact_fields(
    client: Client, db: Any, world: World
) -> None:
    listed = await client.get("/v1/facilities", headers=world.staff)
    assert [f["id"] for f in listed.json()["items"]] == [world.mine]
    assert (
        await client.get(f"/v1/facilities/{world.mine}", headers=world.staff)
    ).status_code == 200

    ok = await client.patch(
        f"/v1/facilities/{world.mine}",
        json={"phone": "021-6403 1111", "service_radius_m": 4500},
        headers=world.staff,
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["phone"] == "021-6403 1111" and ok.json()["service_radius_m"] == 4500

    before = await _snapshot(db)
    refused = await client.patch(
        f"/v1/facilities/{world.mine}",
        json={"phone": "021-6403 2222", "name": "Renamed", "lat": 30.0},
        headers=world.staff,
    )
    problem = assert_problem(refused, 403, "forbidden")
    assert problem["fields"] == ["name", "lat"]
    assert await _snapshot(db) == before


async def test_only_admins_create_facilities(client: Client, db: Any, world: World) -> None:
    before = await _snapshot(db)
    assert_problem(
        await client.post("/v1/facilities", json=NEW, headers=world.staff), 403, "forbidden"
    )
    assert await _snapshot(db) == before


@pytest.mark.parametrize("role", ["family", "hospital"])
async def test_families_and_hospitals_are_refused(
    client: Client, db: Any, world: World, make_token: MakeToken, role: str
) -> None:
    hospital_id = await builders.hospital(db) if role == "hospital" else None
    _, headers = await make_token(role, hospital_id=hospital_id)
    for response in (
        await client.get("/v1/facilities", headers=headers),
        await client.get(f"/v1/facilities/{world.mine}", headers=headers),
        await client.patch(f"/v1/facilities/{world.mine}", json={"phone": ""}, headers=headers),
    ):
        assert_problem(response, 403, "forbidden")
    assert_problem(await client.get("/v1/facilities"), 401, "unauthenticated")


async def test_another_facilitys_staff_get_404_and_change_nothing(
    client: Client, db: Any, world: World
) -> None:
    before = await _snapshot(db)
    for response in (
        await client.get(f"/v1/facilities/{world.mine}", headers=world.other),
        await client.patch(
            f"/v1/facilities/{world.mine}", json={"phone": "12345678"}, headers=world.other
        ),
    ):
        problem = assert_problem(response, 404, "not-found")
        assert problem["entity"] == "facility"
    listed = await client.get("/v1/facilities", headers=world.other)
    assert [f["id"] for f in listed.json()["items"]] == [world.theirs]
    assert await _snapshot(db) == before


async def test_unknown_facility_is_404(client: Client, world: World) -> None:
    for response in (
        await client.get("/v1/facilities/999999", headers=world.admin),
        await client.patch("/v1/facilities/999999", json={"phone": ""}, headers=world.admin),
    ):
        assert_problem(response, 404, "not-found")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**NEW, "lat": 90.5}, "lat"),
        ({**NEW, "lon": -181}, "lon"),
        ({**NEW, "lat": "31.2"}, "lat"),
        ({**NEW, "timezone": "Asia/Atlantis"}, "timezone"),
        ({**NEW, "timezone": "localtime"}, "timezone"),
        ({**NEW, "service_radius_m": -1}, "service_radius_m"),
        ({**NEW, "service_radius_m": 200_001}, "service_radius_m"),
        ({**NEW, "phone": "call me"}, "phone"),
        ({**NEW, "name": ""}, "name"),
        ({**NEW, "name": " padded "}, "name"),
        ({**NEW, "address": "line\u0000break"}, "address"),
        ({**NEW, "respite_policy_code": "no-such-policy"}, "respite_policy_code"),
        ({**NEW, "home_policy_code": "cn-respite"}, "home_policy_code"),
        ({**NEW, "currency": "rmb"}, "currency"),
        ({**NEW, "beds": 3}, "beds"),
        ({k: v for k, v in NEW.items() if k != "lat"}, "lat"),
    ],
)
async def test_bad_facility_fields_are_named_and_change_nothing(
    shared_client: Client, shared_db: Any, shared_world: World, body: dict[str, Any], field: str
) -> None:
    before = await _snapshot(shared_db)
    problem = assert_problem(
        await shared_client.post("/v1/facilities", json=body, headers=shared_world.admin),
        422,
        "invalid-input",
    )
    assert [e["field"] for e in problem["errors"]] == [field], problem
    assert await _snapshot(shared_db) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "$"),
        ({"phone": None}, "phone"),
        ({"service_radius_m": "100"}, "service_radius_m"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"home_policy_code": "nope-nope"}, "home_policy_code"),
        ({"id": 5}, "id"),
    ],
)
async def test_bad_facility_patches_change_nothing(
    shared_client: Client, shared_db: Any, shared_world: World, body: dict[str, Any], field: str
) -> None:
    before = await _snapshot(shared_db)
    response = await shared_client.patch(
        f"/v1/facilities/{shared_world.mine}", json=body, headers=shared_world.admin
    )
    problem = assert_problem(response, 422, "invalid-input")
    assert [e["field"] for e in problem["errors"]] == [field], problem
    assert await _snapshot(shared_db) == before


@pytest.mark.parametrize("path", ["/v1/facilities/0", "/v1/facilities/99999999999999999999"])
async def test_ids_out_of_range_are_refused_not_a_500(
    client: Client, world: World, path: str
) -> None:
    assert_problem(await client.get(path, headers=world.admin), 422, "invalid-input")


async def test_an_unchanged_patch_writes_nothing(client: Client, db: Any, world: World) -> None:
    current = (await client.get(f"/v1/facilities/{world.mine}", headers=world.admin)).json()
    before = await _snapshot(db)
    same = await client.patch(
        f"/v1/facilities/{world.mine}", json={"name": current["name"]}, headers=world.admin
    )
    assert same.status_code == 200 and same.json() == current
    assert await _snapshot(db) == before
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE entity = 'facility'") == 0
