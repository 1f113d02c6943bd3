"""The occupancy board through the HTTP API: the grid, live holds from Redis, initials only,
per-night totals, and the window's limits."""

from datetime import date, timedelta
from typing import Any

import msgspec
import pytest
import redis.asyncio as redis
from litestar import Litestar
from litestar.testing import AsyncTestClient

from respite.clock import ManualClock
from tests import builders
from tests.conftest import MakeToken
from tests.e2e.test_problems import assert_problem

Client = AsyncTestClient[Litestar]
D0 = date(2031, 11, 1)


def d(offset: int) -> str:
    return (D0 + timedelta(offset)).isoformat()


class Ward(msgspec.Struct):
    facility: int
    beds: list[int]
    staff: dict[str, str]
    admin: dict[str, str]


async def _ward(db: Any, make_token: MakeToken) -> Ward:
    facility = await builders.facility(db)
    beds = [
        await builders.bed(db, facility, label="1-A"),
        await builders.bed(db, facility, label="1-B"),
        await builders.bed(db, facility, label="H-1", kind="home"),
    ]
    _, staff = await make_token("staff", facility_id=facility)
    _, admin = await make_token("admin")
    return Ward(facility, beds, staff, admin)


@pytest.fixture
async def ward(db: Any, make_token: MakeToken) -> Ward:
    return await _ward(db, make_token)


@pytest.fixture(scope="module")
async def shared_ward(shared_db: Any, shared_make_token: MakeToken) -> Ward:
    """For the tests that only read or are refused: they share one database (see conftest)."""
    return await _ward(shared_db, shared_make_token)


@pytest.mark.parametrize("who", ["staff", "admin"])
async def test_the_board_shows_bookings_blocks_and_holds(
    client: Client, db: Any, ward: Ward, redis_url: str, clock: ManualClock, who: str
) -> None:
    headers = ward.staff if who == "staff" else ward.admin
    a, b, home = ward.beds
    booking = await builders.booking(db, a, D0, D0 + timedelta(2))
    follow_on = await builders.booking(db, a, D0 + timedelta(2), D0 + timedelta(3))
    block = await builders.block(db, b, D0 + timedelta(1), D0 + timedelta(2), reason="isolation")
    hold = {
        "bed_id": home,
        "check_in": d(1),
        "check_out": d(3),
        "expires_at": clock.now().timestamp() + 300,
        "principal_id": 1,
    }
    client_ = redis.Redis.from_url(redis_url)
    try:
        await client_.hset(f"{{f:{ward.facility}}}:holds", "hold-1", msgspec.json.encode(hold))
    finally:
        await client_.aclose()

    response = await client.get(
        f"/v1/facilities/{ward.facility}/board",
        params={"start": d(0), "end": d(4)},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    board = response.json()
    assert (board["start"], board["end"], board["holds_unknown"]) == (d(0), d(4), False)
    states = {bed["label"]: [c["state"] for c in bed["cells"]] for bed in board["beds"]}
    assert states == {
        "1-A": ["booked", "booked", "booked", "free"],
        "1-B": ["free", "blocked", "free", "free"],
        "H-1": ["free", "held", "held", "free"],
    }
    first = board["beds"][0]["cells"][0]
    assert first == {
        "state": "booked",
        "booking_id": booking,
        "status": "confirmed",
        "initials": "王*",
    }
    assert board["beds"][0]["cells"][2]["booking_id"] == follow_on
    assert board["beds"][1]["cells"][1] == {
        "state": "blocked",
        "block_id": block,
        "reason": "isolation",
    }
    assert board["beds"][2]["cells"][1]["hold_id"] == "hold-1"
    assert "王秀英" not in response.text
    assert board["totals"][1] == {
        "night": d(1),
        "free": 0,
        "held": 1,
        "booked": 1,
        "blocked": 1,
        "occupancy_rate": 0.5,
    }

    homes = await client.get(
        f"/v1/facilities/{ward.facility}/board",
        params={"start": d(0), "end": d(4), "kind": "home"},
        headers=headers,
    )
    assert [bed["label"] for bed in homes.json()["beds"]] == ["H-1"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": d(0), "end": d(0)}, "end"),
        ({"start": d(5), "end": d(0)}, "end"),
        ({"start": d(0), "end": d(93)}, "end"),
        ({"start": "2031-11-31", "end": d(1)}, "start"),
        ({"start": d(0), "end": d(1), "kind": "castle"}, "kind"),
    ],
)
async def test_bad_windows_are_refused_naming_the_parameter(
    shared_client: Client, shared_ward: Ward, params: dict[str, str], field: str
) -> None:
    response = await shared_client.get(
        f"/v1/facilities/{shared_ward.facility}/board", params=params, headers=shared_ward.staff
    )
    problem = assert_problem(response, 422, "invalid-input")
    assert [e["field"] for e in problem["errors"]] == [field]


@pytest.mark.parametrize(
    ("params", "missing"), [({"start": d(0)}, "end"), ({"end": d(1)}, "start")]
)
async def test_a_missing_window_bound_is_refused_naming_it(
    shared_client: Client, shared_ward: Ward, params: dict[str, str], missing: str
) -> None:
    response = await shared_client.get(
        f"/v1/facilities/{shared_ward.facility}/board", params=params, headers=shared_ward.staff
    )
    problem = assert_problem(response, 422, "invalid-input")
    assert problem["errors"] == [{"field": missing, "message": "is required"}]


async def test_the_longest_window_is_92_nights(shared_client: Client, shared_ward: Ward) -> None:
    response = await shared_client.get(
        f"/v1/facilities/{shared_ward.facility}/board",
        params={"start": d(0), "end": d(92)},
        headers=shared_ward.staff,
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["totals"]) == 92
    assert {len(bed["cells"]) for bed in response.json()["beds"]} == {92}


async def test_unknown_facility_is_404(shared_client: Client, shared_ward: Ward) -> None:
    response = await shared_client.get(
        "/v1/facilities/987654/board",
        params={"start": d(0), "end": d(1)},
        headers=shared_ward.admin,
    )
    assert_problem(response, 404, "not-found")
