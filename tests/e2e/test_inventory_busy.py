"""A lock that another transaction holds too long: blocking a bed while it is being retired, and
retiring a bed while a booking of it is being written, answer 503 ``busy`` with Retry-After
(never 500) and change nothing."""

from __future__ import annotations

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
