"""A lock that another transaction keeps too long: confirming a hold, a walk-in and a step of a
booking's life cycle answer 503 ``busy`` with Retry-After (never 500, never a conflict), write
nothing, and pass once the lock is gone. The other transaction is real: a second connection
locks the row the use case needs, under a short lock_timeout in the app's settings."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest

from respite.app import create_app
from respite.clock import ManualClock
from respite.settings import Settings
from tests import builders
from tests.conftest import MakeToken, serve_in_loop

# What another transaction locks: the elder's row (every new booking of the elder takes it)
# or the bed's (retiring it takes it).
LOCKS = {
    "elder": "SELECT 1 FROM care_recipients WHERE id = $1 FOR UPDATE",
    "bed": "SELECT 1 FROM beds WHERE id = $1 FOR UPDATE",
}


@pytest.fixture
async def client(settings: Settings, clock: ManualClock) -> AsyncIterator[httpx.AsyncClient]:
    # lock_timeout follows statement_timeout below three seconds: both end a wait in 0.3 s.
    app = create_app(
        msgspec.structs.replace(settings, db_statement_timeout_ms=300),
        clock=clock,
        configure_logs=False,
    )
    async with serve_in_loop(app) as http:
        yield http


@asynccontextmanager
async def locked(database_url: str, query: str, row: int) -> AsyncIterator[None]:
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            assert await conn.fetchval(query, row) == 1
            yield
    finally:
        await conn.close()


def assert_busy(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    problem = response.json()
    assert (problem["type"], problem["title"]) == ("/problems/busy", "Busy: retry shortly")
    assert problem["retry_after"] == 1 and response.headers["retry-after"] == "1"


async def written(db: Any) -> tuple[int, int, int]:
    return (
        await db.fetchval("SELECT count(*) FROM bookings"),
        await db.fetchval("SELECT count(*) FROM bed_nights"),
        await db.fetchval("SELECT count(*) FROM audit_log WHERE entity = 'booking'"),
    )


@pytest.mark.parametrize("what", sorted(LOCKS))
async def test_a_confirm_that_cannot_get_its_lock_is_busy(
    client: httpx.AsyncClient, db: Any, database_url: str, make_token: MakeToken, what: str
) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    principal, headers = await make_token("family")
    elder = await builders.recipient(db, family_id=principal.id)
    check_in = builders.today() + timedelta(days=3)
    placed = await client.post(
        "/v1/holds",
        json={
            "care_recipient_id": elder,
            "bed_id": bed,
            "check_in": check_in.isoformat(),
            "check_out": (check_in + timedelta(days=2)).isoformat(),
        },
        headers=headers,
    )
    assert placed.status_code == 201, placed.text
    hold = placed.json()

    async def confirm() -> httpx.Response:
        return await client.post(
            f"/v1/holds/{hold['hold_id']}/confirm",
            json={"token": hold["token"]},
            headers={**headers, "Idempotency-Key": "confirm-1"},
        )

    before = await written(db)
    async with locked(database_url, LOCKS[what], elder if what == "elder" else bed):
        assert_busy(await confirm())
    assert await written(db) == before
    assert (await confirm()).status_code == 201


@pytest.mark.parametrize("what", sorted(LOCKS))
async def test_a_walk_in_that_cannot_get_its_lock_is_busy(
    client: httpx.AsyncClient, db: Any, database_url: str, make_token: MakeToken, what: str
) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    elder = await builders.recipient(db, facility_id=facility)
    _, staff = await make_token("staff", facility_id=facility)
    today = builders.today()
    body = {
        "care_recipient_id": elder,
        "bed_id": bed,
        "check_in": today.isoformat(),
        "check_out": (today + timedelta(days=2)).isoformat(),
    }
    url = f"/v1/facilities/{facility}/walk-ins"
    keyed = {**staff, "Idempotency-Key": "desk-1"}
    before = await written(db)
    async with locked(database_url, LOCKS[what], elder if what == "elder" else bed):
        assert_busy(await client.post(url, json=body, headers=keyed))
    assert await written(db) == before
    assert (await client.post(url, json=body, headers=keyed)).status_code == 201


async def test_a_step_whose_booking_is_locked_is_busy(
    client: httpx.AsyncClient, db: Any, database_url: str, make_token: MakeToken
) -> None:
    facility = await builders.facility(db)
    bed = await builders.bed(db, facility)
    _, staff = await make_token("staff", facility_id=facility)
    today = builders.today()
    booking = await builders.booking(db, bed, today, today + timedelta(days=2))
    lock = "SELECT 1 FROM bookings WHERE id = $1 FOR UPDATE"
    async with locked(database_url, lock, booking):
        assert_busy(await client.post(f"/v1/bookings/{booking}/check-in", headers=staff))
    assert await db.fetchval("SELECT status FROM bookings WHERE id = $1", booking) == "confirmed"
    checked_in = await client.post(f"/v1/bookings/{booking}/check-in", headers=staff)
    assert checked_in.status_code == 200, checked_in.text
