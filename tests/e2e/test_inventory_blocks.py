"""Blocks through the HTTP API: take a bed out of service, shorten, lengthen and lift it; a block
that would overlap a booking or another block is refused naming it; bad input changes nothing."""

import asyncio
from datetime import date, timedelta
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from respite.nights import NightTaken, claim_nights
from tests import builders
from tests.conftest import MakeToken
from tests.e2e.test_problems import assert_problem

Client = AsyncTestClient[Litestar]
D0 = date(2031, 9, 1)


def d(offset: int) -> str:
    return (D0 + timedelta(offset)).isoformat()


class Ward(msgspec.Struct):
    facility: int
    bed: int
    staff: dict[str, str]
    admin: dict[str, str]


class Refusals(msgspec.Struct):
    """A ward, a block on a bed of its own, and a retired bed: what refused requests name."""

    ward: Ward
    block: int
    retired: int


async def _ward(db: Any, make_token: MakeToken) -> Ward:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility, label="2F-07")
    _, staff = await make_token("staff", facility_id=facility)
    _, admin = await make_token("admin")
    return Ward(facility, bed, staff, admin)


@pytest.fixture
async def ward(db: Any, make_token: MakeToken) -> Ward:
    return await _ward(db, make_token)


@pytest.fixture(scope="module")
async def shared_refusals(shared_db: Any, shared_make_token: MakeToken) -> Refusals:
    """For the tests that are only refused: they share one database (see conftest)."""
    ward = await _ward(shared_db, shared_make_token)
    blocked = await builders.bed(shared_db, ward.facility, label="2F-08")
    block = await builders.block(shared_db, blocked, D0, D0 + timedelta(3))
    retired = await builders.bed(shared_db, ward.facility, label="2F-09")
    await shared_db.execute(
        "UPDATE beds SET active = false, retired_at = now() WHERE id = $1", retired
    )
    return Refusals(ward, block, retired)


async def _snapshot(db: Any) -> list[Any]:
    blocks = [dict(r) for r in await db.fetch("SELECT * FROM blocks ORDER BY id")]
    nights = [tuple(r) for r in await db.fetch("SELECT * FROM bed_nights ORDER BY bed_id, night")]
    return [blocks, nights, await db.fetchval("SELECT count(*) FROM audit_log")]


async def _nights(db: Any, block: int) -> list[str]:
    rows = await db.fetch("SELECT night FROM bed_nights WHERE block_id = $1 ORDER BY night", block)
    return [r["night"].isoformat() for r in rows]


@pytest.mark.parametrize("who", ["staff", "admin"])
async def test_block_shorten_lengthen_list_and_lift(
    client: Client, db: Any, ward: Ward, who: str
) -> None:
    headers = ward.staff if who == "staff" else ward.admin
    body = {"check_in": d(0), "check_out": d(4), "reason": "maintenance", "note": "new mattress"}
    created = await client.post(f"/v1/beds/{ward.bed}/blocks", json=body, headers=headers)
    assert created.status_code == 201, created.text
    block = created.json()
    assert {k: block[k] for k in body} == body
    assert (block["bed_id"], block["facility_id"], block["lifted_at"]) == (
        ward.bed,
        ward.facility,
        None,
    )
    assert await _nights(db, block["id"]) == [d(0), d(1), d(2), d(3)]

    shorter = await client.patch(
        f"/v1/blocks/{block['id']}", json={"check_out": d(2)}, headers=headers
    )
    assert shorter.status_code == 200, shorter.text
    assert await _nights(db, block["id"]) == [d(0), d(1)]
    longer = await client.patch(
        f"/v1/blocks/{block['id']}",
        json={"check_in": d(-1), "reason": "other", "note": "flooded"},
        headers=headers,
    )
    assert longer.json()["check_in"] == d(-1) and longer.json()["reason"] == "other"
    assert await _nights(db, block["id"]) == [d(-1), d(0), d(1)]

    url = f"/v1/facilities/{ward.facility}/blocks"
    listed = await client.get(url, headers=headers)
    assert [b["id"] for b in listed.json()["items"]] == [block["id"]]
    assert (await client.get(url, params={"start": d(2)}, headers=headers)).json()["items"] == []
    assert (await client.get(url, params={"end": d(-1)}, headers=headers)).json()["items"] == []
    assert (
        len((await client.get(url, params={"bed_id": ward.bed}, headers=headers)).json()["items"])
        == 1
    )

    lifted = await client.delete(f"/v1/blocks/{block['id']}", headers=headers)
    assert lifted.status_code == 204, lifted.text
    assert await _nights(db, block["id"]) == []
    assert (await client.get(url, headers=headers)).json()["items"] == []
    kept = (await client.get(url, params={"include_lifted": True}, headers=headers)).json()
    assert kept["items"][0]["lifted_at"] is not None
    assert (await client.delete(f"/v1/blocks/{block['id']}", headers=headers)).status_code == 204
    refused = await client.patch(
        f"/v1/blocks/{block['id']}", json={"check_out": d(5)}, headers=headers
    )
    assert_problem(refused, 409, "block-lifted")
    actions = await db.fetch("SELECT action FROM audit_log WHERE entity = 'block' ORDER BY id")
    assert [a["action"] for a in actions] == ["create", "update", "update", "lift"]


async def test_a_block_over_a_booking_is_409_naming_the_booking(
    client: Client, db: Any, ward: Ward
) -> None:
    booking = await builders.booking(db, ward.bed, D0 + timedelta(3), D0 + timedelta(6))
    before = await _snapshot(db)
    body = {"check_in": d(0), "check_out": d(5), "reason": "cleaning"}
    response = await client.post(f"/v1/beds/{ward.bed}/blocks", json=body, headers=ward.staff)
    problem = assert_problem(response, 409, "night-booked")
    assert problem["conflicting_booking"] == booking and problem["night"] == d(3)
    assert str(booking) in problem["detail"]
    assert await _snapshot(db) == before

    body = {"check_in": d(0), "check_out": d(3), "reason": "cleaning"}
    adjacent = await client.post(f"/v1/beds/{ward.bed}/blocks", json=body, headers=ward.staff)
    assert adjacent.status_code == 201, "a block may end the night a booking starts"


async def test_overlapping_blocks_are_refused_naming_the_block(
    client: Client, db: Any, ward: Ward
) -> None:
    url = f"/v1/beds/{ward.bed}/blocks"
    first = await client.post(
        url, json={"check_in": d(0), "check_out": d(3), "reason": "cleaning"}, headers=ward.staff
    )
    second = await client.post(
        url, json={"check_in": d(5), "check_out": d(7), "reason": "cleaning"}, headers=ward.staff
    )
    before = await _snapshot(db)
    overlap = await client.post(
        url, json={"check_in": d(2), "check_out": d(4), "reason": "isolation"}, headers=ward.staff
    )
    assert (
        assert_problem(overlap, 409, "night-already-blocked")["conflicting_block"]
        == first.json()["id"]
    )
    grown = await client.patch(
        f"/v1/blocks/{second.json()['id']}", json={"check_in": d(1)}, headers=ward.staff
    )
    problem = assert_problem(grown, 409, "night-already-blocked")
    assert (problem["conflicting_block"], problem["night"]) == (first.json()["id"], d(1))
    assert await _snapshot(db) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"check_in": d(3), "check_out": d(3), "reason": "cleaning"}, "check_out"),
        ({"check_in": d(3), "check_out": d(1), "reason": "cleaning"}, "check_out"),
        ({"check_in": d(0), "check_out": d(367), "reason": "cleaning"}, "check_out"),
        ({"check_in": d(0), "check_out": d(1), "reason": "other"}, "note"),
        ({"check_in": d(0), "check_out": d(1), "reason": "holiday"}, "reason"),
        ({"check_in": "2031-09-31", "check_out": d(1), "reason": "cleaning"}, "check_in"),
        ({"check_in": 20310901, "check_out": d(1), "reason": "cleaning"}, "check_in"),
        ({"check_in": d(0), "check_out": d(1), "reason": "cleaning", "bed_id": 1}, "bed_id"),
        ({"check_in": d(0), "check_out": d(1), "reason": "cleaning", "note": "a\x00b"}, "note"),
        ({"check_in": d(0), "reason": "cleaning"}, "check_out"),
    ],
)
async def test_bad_blocks_are_refused_naming_the_field(
    shared_client: Client,
    shared_db: Any,
    shared_refusals: Refusals,
    body: dict[str, Any],
    field: str,
) -> None:
    ward = shared_refusals.ward
    before = await _snapshot(shared_db)
    response = await shared_client.post(
        f"/v1/beds/{ward.bed}/blocks", json=body, headers=ward.staff
    )
    problem = assert_problem(response, 422, "invalid-input")
    assert [e["field"] for e in problem["errors"]] == [field]
    assert await _snapshot(shared_db) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "$"),
        ({"check_out": d(0)}, "check_out"),
        ({"check_in": d(9)}, "check_out"),
        ({"reason": "other"}, "note"),
        ({"check_out": None}, "check_out"),
    ],
)
async def test_bad_block_changes_are_refused_and_change_nothing(
    shared_client: Client,
    shared_db: Any,
    shared_refusals: Refusals,
    body: dict[str, Any],
    field: str,
) -> None:
    before = await _snapshot(shared_db)
    response = await shared_client.patch(
        f"/v1/blocks/{shared_refusals.block}", json=body, headers=shared_refusals.ward.staff
    )
    problem = assert_problem(response, 422, "invalid-input")
    assert [e["field"] for e in problem["errors"]] == [field]
    assert await _snapshot(shared_db) == before


async def test_unknown_ids_and_a_retired_bed(
    shared_client: Client, shared_db: Any, shared_refusals: Refusals
) -> None:
    ward = shared_refusals.ward
    body = {"check_in": d(0), "check_out": d(1), "reason": "cleaning"}
    before = await _snapshot(shared_db)
    for response in (
        await shared_client.post("/v1/beds/987654/blocks", json=body, headers=ward.admin),
        await shared_client.patch("/v1/blocks/987654", json={"note": "x"}, headers=ward.admin),
        await shared_client.delete("/v1/blocks/987654", headers=ward.admin),
        await shared_client.get("/v1/facilities/987654/blocks", headers=ward.admin),
    ):
        assert_problem(response, 404, "not-found")
    retired = await shared_client.post(
        f"/v1/beds/{shared_refusals.retired}/blocks", json=body, headers=ward.staff
    )
    assert_problem(retired, 409, "bed-retired")
    assert await _snapshot(shared_db) == before


async def _book_raw(database_url: str, bed: int, barrier: asyncio.Barrier) -> int | None:
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            facility = await conn.fetchval("SELECT facility_id FROM beds WHERE id = $1", bed)
            recipient = await builders.recipient(conn, facility_id=facility, level=None)
            booker = await builders.principal(conn, "admin")
            booking = await conn.fetchval(
                "INSERT INTO bookings (bed_id, facility_id, care_recipient_id, check_in, check_out,"
                " nightly_price, total_price, booked_by) VALUES ($1, $2, $3, $4, $5, 1, 1, $6)"
                " RETURNING id",
                bed,
                facility,
                recipient,
                D0,
                D0 + timedelta(2),
                booker,
            )
            await barrier.wait()
            await claim_nights(conn, bed, D0, D0 + timedelta(2), booking_id=booking)
            return int(booking)
    except NightTaken:
        return None
    finally:
        await conn.close()


async def test_a_block_request_racing_a_booking_never_both_succeed(
    client: Client, db: Any, ward: Ward, database_url: str
) -> None:
    barrier = asyncio.Barrier(2)

    async def block() -> Any:
        await barrier.wait()
        body = {"check_in": d(1), "check_out": d(3), "reason": "cleaning"}
        return await client.post(f"/v1/beds/{ward.bed}/blocks", json=body, headers=ward.staff)

    booking, response = await asyncio.gather(_book_raw(database_url, ward.bed, barrier), block())
    assert (booking is None) == (response.status_code == 201), response.text
    if booking is not None:
        assert assert_problem(response, 409, "night-booked")["conflicting_booking"] == booking
    night = await db.fetchrow(
        "SELECT booking_id, block_id FROM bed_nights WHERE bed_id = $1 AND night = $2",
        ward.bed,
        D0 + timedelta(1),
    )
    assert (night["booking_id"] is None) != (night["block_id"] is None)
