"""Beds through the HTTP API, as staff of the facility and as an admin: create, read, list with
filters, edit, retire; collisions and bad input change nothing."""

from datetime import timedelta
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests import builders
from tests.conftest import MakeToken
from tests.e2e.test_problems import assert_problem

Client = AsyncTestClient[Litestar]
BED = {
    "kind": "respite",
    "label": "3F-01",
    "sex_rule": "female",
    "capabilities": ["low_bed", "oxygen"],
    "pressure_care_stage": 2,
    "nightly_price": 28000,
}


class Ward(msgspec.Struct):
    facility: int
    staff: dict[str, str]
    admin: dict[str, str]


async def open_ward(db: Any, make_token: MakeToken) -> Ward:
    facility = await builders.facility(db)
    _, staff = await make_token("staff", facility_id=facility)
    _, admin = await make_token("admin")
    return Ward(facility, staff, admin)


@pytest.fixture
async def ward(db: Any, make_token: MakeToken) -> Ward:
    return await open_ward(db, make_token)


@pytest.fixture(scope="module")
async def shared_ward(shared_db: Any, shared_make_token: MakeToken) -> Ward:
    """For the tests that only refuse: they share one database (see conftest)."""
    return await open_ward(shared_db, shared_make_token)


async def _snapshot(db: Any) -> list[Any]:
    beds = await db.fetch("SELECT * FROM beds ORDER BY id")
    audits = await db.fetchval("SELECT count(*) FROM audit_log")
    return [*(dict(r) for r in beds), audits]


@pytest.mark.parametrize("who", ["staff", "admin"])
async def test_create_read_edit_and_retire_a_bed(
    client: Client, db: Any, ward: Ward, who: str
) -> None:
    headers = ward.staff if who == "staff" else ward.admin
    created = await client.post(f"/v1/facilities/{ward.facility}/beds", json=BED, headers=headers)
    assert created.status_code == 201, created.text
    bed = created.json()
    assert {k: bed[k] for k in BED} == {**BED, "capabilities": ["oxygen", "low_bed"]}
    assert (bed["facility_id"], bed["active"], bed["retired_at"]) == (ward.facility, True, None)

    assert (await client.get(f"/v1/beds/{bed['id']}", headers=headers)).json() == bed

    changes = {"label": "3F-01A", "nightly_price": 0, "capabilities": [], "active": False}
    edited = await client.patch(f"/v1/beds/{bed['id']}", json=changes, headers=headers)
    assert edited.status_code == 200, edited.text
    assert {k: edited.json()[k] for k in changes} == changes
    assert edited.json()["sex_rule"] == "female"

    retired = await client.post(f"/v1/beds/{bed['id']}/retire", headers=headers)
    assert retired.status_code == 200, retired.text
    assert retired.json()["retired_at"] is not None and retired.json()["active"] is False
    again = await client.post(f"/v1/beds/{bed['id']}/retire", headers=headers)
    assert again.json() == retired.json()
    assert await db.fetchval("SELECT count(*) FROM beds WHERE id = $1", bed["id"]) == 1

    actions = await db.fetch(
        "SELECT action, principal_id FROM audit_log WHERE entity = 'bed' ORDER BY id"
    )
    assert [a["action"] for a in actions] == ["create", "update", "retire"]


async def test_list_filters_and_pages(client: Client, db: Any, ward: Ward) -> None:
    url = f"/v1/facilities/{ward.facility}/beds"
    specs = [
        ("R1", "respite", ["oxygen"]),
        ("R2", "respite", ["oxygen", "low_bed"]),
        ("H1", "home", ["low_bed"]),
        ("H2", "home", []),
    ]
    ids = {}
    for label, kind, caps in specs:
        body = {**BED, "label": label, "kind": kind, "capabilities": caps}
        ids[label] = (await client.post(url, json=body, headers=ward.staff)).json()["id"]
    await client.patch(f"/v1/beds/{ids['H2']}", json={"active": False}, headers=ward.staff)
    await client.post(f"/v1/beds/{ids['H1']}/retire", headers=ward.staff)
    await builders.bed(db, await builders.facility(db), label="R1")  # another facility's

    async def labels(**params: Any) -> list[str]:
        response = await client.get(url, params=params, headers=ward.staff)
        assert response.status_code == 200, response.text
        return [b["label"] for b in response.json()["items"]]

    assert await labels() == ["R1", "R2", "H2"]
    assert await labels(include_retired=True) == ["R1", "R2", "H1", "H2"]
    assert await labels(kind="home") == ["H2"]
    assert await labels(capability="oxygen") == ["R1", "R2"]
    assert await labels(capability=["oxygen", "low_bed"]) == ["R2"]
    assert await labels(active=True) == ["R1", "R2"]
    assert await labels(active=False, include_retired=True) == ["H1", "H2"]
    page = (await client.get(url, params={"limit": 2}, headers=ward.staff)).json()
    assert [b["label"] for b in page["items"]] == ["R1", "R2"]
    assert await labels(cursor=page["next_cursor"], limit=2) == ["H2"]


async def test_a_label_that_collides_is_409_and_changes_nothing(
    client: Client, db: Any, ward: Ward
) -> None:
    url = f"/v1/facilities/{ward.facility}/beds"
    first = (await client.post(url, json=BED, headers=ward.staff)).json()
    second = (await client.post(url, json={**BED, "label": "3F-02"}, headers=ward.staff)).json()
    before = await _snapshot(db)

    created = await client.post(url, json=BED, headers=ward.staff)
    problem = assert_problem(created, 409, "label-taken")
    assert problem["conflicting_bed"] == first["id"] and problem["label"] == "3F-01"
    renamed = await client.patch(
        f"/v1/beds/{second['id']}", json={"label": "3F-01", "nightly_price": 1}, headers=ward.staff
    )
    assert assert_problem(renamed, 409, "label-taken")["conflicting_bed"] == first["id"]
    assert await _snapshot(db) == before

    elsewhere = await builders.facility(db)
    ok = await client.post(f"/v1/facilities/{elsewhere}/beds", json=BED, headers=ward.admin)
    assert ok.status_code == 201, "labels are unique per facility only"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**BED, "nightly_price": -1}, "nightly_price"),
        ({**BED, "nightly_price": "28000"}, "nightly_price"),
        ({**BED, "capabilities": ["oxygen", "jacuzzi"]}, "capabilities[1]"),
        ({**BED, "capabilities": "oxygen"}, "capabilities"),
        ({**BED, "pressure_care_stage": 5}, "pressure_care_stage"),
        ({**BED, "kind": "hotel"}, "kind"),
        ({**BED, "sex_rule": "mixed"}, "sex_rule"),
        ({**BED, "label": ""}, "label"),
        ({**BED, "label": "L" * 41}, "label"),
        ({**BED, "facility_id": 3}, "facility_id"),
        ({k: v for k, v in BED.items() if k != "kind"}, "kind"),
    ],
)
async def test_bad_beds_are_refused_naming_the_field(
    shared_client: Client, shared_db: Any, shared_ward: Ward, body: dict[str, Any], field: str
) -> None:
    before = await _snapshot(shared_db)
    response = await shared_client.post(
        f"/v1/facilities/{shared_ward.facility}/beds", json=body, headers=shared_ward.staff
    )
    problem = assert_problem(response, 422, "invalid-input")
    assert [e["field"] for e in problem["errors"]] == [field]
    assert await _snapshot(shared_db) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "$"),
        ({"kind": "home"}, "kind"),
        ({"nightly_price": -5}, "nightly_price"),
        ({"capabilities": ["teleport"]}, "capabilities[0]"),
        ({"active": "yes"}, "active"),
    ],
)
async def test_bad_bed_patches_change_nothing(
    shared_client: Client, shared_db: Any, shared_ward: Ward, body: dict[str, Any], field: str
) -> None:
    bed = await builders.bed(shared_db, shared_ward.facility)
    before = await _snapshot(shared_db)
    problem = assert_problem(
        await shared_client.patch(f"/v1/beds/{bed}", json=body, headers=shared_ward.staff),
        422,
        "invalid-input",
    )
    assert [e["field"] for e in problem["errors"]] == [field]
    assert await _snapshot(shared_db) == before


async def test_a_booked_bed_cannot_be_retired_until_its_bookings_are_past(
    client: Client, db: Any, ward: Ward
) -> None:
    bed = await builders.bed(db, ward.facility)
    today = builders.today()
    await builders.booking(db, bed, today - timedelta(10), today - timedelta(3))
    upcoming = await builders.booking(db, bed, today + timedelta(5), today + timedelta(8))
    before = await _snapshot(db)
    problem = assert_problem(
        await client.post(f"/v1/beds/{bed}/retire", headers=ward.staff), 409, "bed-still-booked"
    )
    assert problem["conflicting_booking"] == upcoming
    assert await _snapshot(db) == before

    await db.execute("UPDATE bookings SET status = 'cancelled' WHERE id = $1", upcoming)
    await db.execute("DELETE FROM bed_nights WHERE booking_id = $1", upcoming)
    retired = await client.post(f"/v1/beds/{bed}/retire", headers=ward.staff)
    assert retired.status_code == 200, retired.text

    before = await _snapshot(db)
    assert_problem(
        await client.patch(f"/v1/beds/{bed}", json={"nightly_price": 1}, headers=ward.staff),
        409,
        "bed-retired",
    )
    assert await _snapshot(db) == before


async def test_unknown_bed_and_facility_are_404(shared_client: Client, shared_ward: Ward) -> None:
    for response in (
        await shared_client.get("/v1/beds/987654", headers=shared_ward.admin),
        await shared_client.patch(
            "/v1/beds/987654", json={"active": True}, headers=shared_ward.admin
        ),
        await shared_client.post("/v1/beds/987654/retire", headers=shared_ward.admin),
        await shared_client.get("/v1/facilities/987654/beds", headers=shared_ward.admin),
        await shared_client.post("/v1/facilities/987654/beds", json=BED, headers=shared_ward.admin),
    ):
        assert_problem(response, 404, "not-found")


async def test_query_parameters_are_validated(shared_client: Client, shared_ward: Ward) -> None:
    url = f"/v1/facilities/{shared_ward.facility}/beds"
    for params, field in (
        ({"kind": "castle"}, "kind"),
        ({"capability": "sauna"}, "capability"),
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"active": "perhaps"}, "active"),
    ):
        problem = assert_problem(
            await shared_client.get(url, params=params, headers=shared_ward.staff),
            422,
            "invalid-input",
        )
        assert [e["field"] for e in problem["errors"]] == [field]
