"""Invariant 1 at the database: overlapping claims on one bed never both commit."""

import asyncio
from datetime import date, timedelta
from typing import Any

import asyncpg
import pytest

from respite.nights import NightTaken, claim_nights


def night(offset: int) -> date:
    """A night ``offset`` days into March 2030, where these claims lie."""
    return date(2030, 3, 1) + timedelta(offset)


async def _bed(db: Any) -> int:
    facility = await db.fetchval(
        "INSERT INTO facilities (name, lat, lon) VALUES ('F', 31.2, 121.4) RETURNING id"
    )
    return int(
        await db.fetchval(
            "INSERT INTO beds (facility_id, kind, label, sex_rule, nightly_price) "
            "VALUES ($1, 'respite', '1A', 'any', 20000) RETURNING id",
            facility,
        )
    )


async def _book(
    database_url: str, bed: int, start: int, nights: int, barrier: asyncio.Barrier
) -> int | None:
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            facility = await conn.fetchval("SELECT facility_id FROM beds WHERE id = $1", bed)
            recipient = await conn.fetchval(
                "INSERT INTO care_recipients (facility_id, name, sex, birth_date) "
                "VALUES ($1, 'Wang', 'female', '1940-01-01') RETURNING id",
                facility,
            )
            booker = await conn.fetchval(
                "INSERT INTO principals (role, name) VALUES ('admin', 'a') RETURNING id"
            )
            check_in, check_out = night(start), night(start + nights)
            booking = await conn.fetchval(
                "INSERT INTO bookings (bed_id, facility_id, care_recipient_id, check_in, check_out,"
                " nightly_price, total_price, booked_by) VALUES ($1, $2, $3, $4, $5, 1, 1, $6)"
                " RETURNING id",
                bed,
                facility,
                recipient,
                check_in,
                check_out,
                booker,
            )
            await barrier.wait()  # every transaction claims at the same moment
            await claim_nights(conn, bed, check_in, check_out, booking_id=booking)
            return int(booking)
    except NightTaken:
        return None
    finally:
        await conn.close()


async def test_two_overlapping_bookings_at_the_same_moment(database_url: str, db: Any) -> None:
    bed = await _bed(db)
    barrier = asyncio.Barrier(2)
    results = await asyncio.gather(
        _book(database_url, bed, 0, 5, barrier), _book(database_url, bed, 3, 5, barrier)
    )
    assert sum(r is not None for r in results) == 1
    winner = next(r for r in results if r is not None)
    rows = await db.fetch("SELECT night, booking_id FROM bed_nights WHERE bed_id = $1", bed)
    assert {r["booking_id"] for r in rows} == {winner}
    assert len(rows) == 5


async def test_many_racers_leave_only_non_overlapping_claims(database_url: str, db: Any) -> None:
    bed = await _bed(db)
    stays = [(start, 3) for start in range(0, 20)]  # every stay overlaps its neighbours
    barrier = asyncio.Barrier(len(stays))
    results = await asyncio.gather(*(_book(database_url, bed, s, n, barrier) for s, n in stays))
    won = [stays[i] for i, r in enumerate(results) if r is not None]
    nights = [s + k for s, n in won for k in range(n)]
    assert len(nights) == len(set(nights)), "two bookings share a night"
    assert won, "at least one booking must win"
    count = await db.fetchval("SELECT count(*) FROM bed_nights WHERE bed_id = $1", bed)
    assert count == len(nights)


async def test_a_block_and_a_booking_cannot_share_a_night(db: Any) -> None:
    bed = await _bed(db)
    facility = await db.fetchval("SELECT facility_id FROM beds WHERE id = $1", bed)
    block = await db.fetchval(
        "INSERT INTO blocks (bed_id, facility_id, check_in, check_out, reason)"
        " VALUES ($1, $2, $3, $4, 'maintenance') RETURNING id",
        bed,
        facility,
        night(0),
        night(2),
    )
    await claim_nights(db, bed, night(0), night(2), block_id=block)
    with pytest.raises(asyncpg.UniqueViolationError):
        await db.execute(
            "INSERT INTO bed_nights (bed_id, night, block_id) VALUES ($1, $2, $3)",
            bed,
            night(0),
            block,
        )
