"""A lock that another transaction holds too long: blocking a bed while it is being retired, and
retiring a bed while a booking of it is being written, answer 503 ``busy`` with Retry-After
(never 500) and change nothing. And the race those locks settle: confirms of a bed racing its
retirement never leave a live booking on a retired bed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest

from respite.clock import ManualClock, local_today
from respite.settings import Settings
from tests import builders
from tests.conftest import MakeToken
from tests.e2e.test_problems import assert_problem

# The pool's lock_timeout follows the statement timeout: a wait gives up after 0.3 s.
LOCK_WAIT_MS = 300


@pytest.fixture
def settings(database_url: str, redis_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        log_format="text",
        db_pool_min=1,
        db_pool_max=5,
        db_statement_timeout_ms=LOCK_WAIT_MS,
        secret_key="test-secret",
    )


class Ward(msgspec.Struct):
    facility: int
    bed: int
    staff: dict[str, str]


@pytest.fixture
async def ward(db: Any, make_token: MakeToken) -> Ward:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    _, staff = await make_token("staff", facility_id=facility)
    return Ward(facility, bed, staff)


@pytest.fixture
async def other(database_url: str) -> AsyncIterator[asyncpg.Connection[Any]]:
    """Another session, as another request's transaction would be."""
    conn = await asyncpg.connect(database_url)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
def today(clock: ManualClock) -> date:
    return local_today("Asia/Shanghai", clock.now())


async def _state(db: Any, bed: int) -> list[Any]:
    return [
        dict(await db.fetchrow("SELECT active, retired_at FROM beds WHERE id = $1", bed)),
        await db.fetchval("SELECT count(*) FROM blocks WHERE bed_id = $1", bed),
        await db.fetchval("SELECT count(*) FROM bed_nights WHERE bed_id = $1", bed),
        await db.fetchval("SELECT count(*) FROM audit_log"),
    ]


def assert_busy(response: httpx.Response) -> None:
    problem = assert_problem(response, 503, "busy")
    assert response.headers["retry-after"] == str(problem["retry_after"])


async def test_blocking_a_bed_that_is_being_retired_is_busy_and_changes_nothing(
    client: httpx.AsyncClient,
    db: Any,
    ward: Ward,
    other: asyncpg.Connection[Any],
    today: date,
) -> None:
    before = await _state(db, ward.bed)
    body = {
        "check_in": (today + timedelta(days=3)).isoformat(),
        "check_out": (today + timedelta(days=5)).isoformat(),
        "reason": "maintenance",
    }
    retiring = other.transaction()
    await retiring.start()
    try:
        # What retiring takes first: the bed's row, for update.
        await other.execute("SELECT id FROM beds WHERE id = $1 FOR UPDATE", ward.bed)
        response = await client.post(f"/v1/beds/{ward.bed}/blocks", json=body, headers=ward.staff)
        assert_busy(response)
    finally:
        await retiring.rollback()
    assert await _state(db, ward.bed) == before
    again = await client.post(f"/v1/beds/{ward.bed}/blocks", json=body, headers=ward.staff)
    assert again.status_code == 201, "once the lock is gone the same request passes"


async def test_retiring_a_bed_while_a_booking_of_it_is_written_is_busy_and_changes_nothing(
    client: httpx.AsyncClient,
    db: Any,
    ward: Ward,
    other: asyncpg.Connection[Any],
    today: date,
) -> None:
    before = await _state(db, ward.bed)
    booking = other.transaction()
    await booking.start()
    try:
        # A booking in flight: its nights reference the bed (a key-share lock on its row).
        await builders.booking(other, ward.bed, today + timedelta(days=3), today + timedelta(5))
        response = await client.post(f"/v1/beds/{ward.bed}/retire", headers=ward.staff)
        assert_busy(response)
    finally:
        await booking.rollback()
    assert await _state(db, ward.bed) == before
    retired = await client.post(f"/v1/beds/{ward.bed}/retire", headers=ward.staff)
    assert retired.status_code == 200, "once the booking is gone the bed retires"


async def test_confirms_racing_the_retirement_of_their_bed_never_land_on_a_retired_bed(
    client: httpx.AsyncClient, db: Any, ward: Ward, make_token: MakeToken, today: date
) -> None:
    """Many confirms of holds on one bed and its retirement, all at once over the real app:
    either the bed is retired and no live booking is on it, or the retirement was refused
    (``bed-still-booked``, or ``busy`` when it waited too long) and the bookings stand."""

    async def retire(bed: int, delay: float) -> httpx.Response:
        await asyncio.sleep(delay)
        return await client.post(f"/v1/beds/{bed}/retire", headers=ward.staff)

    # The retirement starts with the confirms, then a little later each round: before any
    # confirm reaches the bed, among them, and after the first ones committed.
    for delay in (0.0, 0.003, 0.006, 0.012, 0.025):
        bed = await builders.bed(db, ward.facility)
        confirms = []
        for i in range(8):
            family, headers = await make_token("family")
            elder = await builders.recipient(db, family_id=family.id)
            stay = {
                "care_recipient_id": elder,
                "bed_id": bed,
                "check_in": (today + timedelta(days=3 + 2 * i)).isoformat(),
                "check_out": (today + timedelta(days=5 + 2 * i)).isoformat(),
            }
            placed = await client.post("/v1/holds", json=stay, headers=headers)
            assert placed.status_code == 201, placed.text
            hold = placed.json()
            confirms.append(
                client.post(
                    f"/v1/holds/{hold['hold_id']}/confirm",
                    json={"token": hold["token"]},
                    headers={**headers, "Idempotency-Key": f"c{i}"},
                )
            )
        retiring, *confirmed = await asyncio.gather(retire(bed, delay), *confirms)
        retired = await db.fetchval("SELECT retired_at FROM beds WHERE id = $1", bed)
        live = await db.fetchval(
            "SELECT count(*) FROM bookings WHERE bed_id = $1"
            " AND status IN ('confirmed', 'checked_in')",
            bed,
        )
        statuses = [a.status_code for a in confirmed]
        assert set(statuses) <= {201, 404, 503}, [a.text for a in confirmed]
        assert live == statuses.count(201)
        if retired is not None:
            assert retiring.status_code == 200, retiring.text
            assert live == 0, "a booking landed on a retired bed"
        else:
            assert 404 not in statuses, "a confirm was told the bed is gone, but it stands"
            if retiring.status_code == 409:
                problem = assert_problem(retiring, 409, "bed-still-booked")
                on_bed = await db.fetchval(
                    "SELECT bed_id FROM bookings WHERE id = $1", problem["conflicting_booking"]
                )
                assert on_bed == bed and live > 0
            else:
                assert_busy(retiring)
