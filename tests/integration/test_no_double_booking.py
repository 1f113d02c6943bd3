"""Invariants 1 and 7 at the database: overlapping claims on one bed never both commit, nor
overlapping live stays of one elder, whatever code writes them (here: no row lock, no check
in Python, only the ledgers)."""

import asyncio
from datetime import date, timedelta
from typing import Any

import asyncpg
import pytest

from respite.nights import ElderNightTaken, NightTaken, claim_elder_nights, claim_nights


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


async def _elder(conn: Any, bed: int) -> int:
    return int(
        await conn.fetchval(
            "INSERT INTO care_recipients (facility_id, name, sex, birth_date) "
            "SELECT facility_id, 'Wang', 'female', '1940-01-01' FROM beds WHERE id = $1 "
            "RETURNING id",
            bed,
        )
    )


async def _book(
    database_url: str,
    bed: int,
    start: int,
    nights: int,
    barrier: asyncio.Barrier,
    elder: int | None = None,
) -> int | None:
    """Book ``nights`` from ``night(start)`` for ``elder`` (a new one if None), claiming the
    elder's nights and then the bed's at the same moment as every other racer."""
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            facility = await conn.fetchval("SELECT facility_id FROM beds WHERE id = $1", bed)
            recipient = elder or await _elder(conn, bed)
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
            await claim_elder_nights(conn, recipient, check_in, check_out, booking_id=booking)
            await claim_nights(conn, bed, check_in, check_out, booking_id=booking)
            return int(booking)
    except (NightTaken, ElderNightTaken):
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


async def test_one_elder_in_two_beds_at_the_same_moment(database_url: str, db: Any) -> None:
    first_bed = await _bed(db)
    other_bed = await db.fetchval(
        "INSERT INTO beds (facility_id, kind, label, sex_rule, nightly_price) "
        "SELECT facility_id, 'respite', '1B', 'any', 20000 FROM beds WHERE id = $1 RETURNING id",
        first_bed,
    )
    elder = await _elder(db, first_bed)
    barrier = asyncio.Barrier(2)
    results = await asyncio.gather(
        _book(database_url, first_bed, 0, 5, barrier, elder),
        _book(database_url, other_bed, 3, 5, barrier, elder),
    )
    assert sum(r is not None for r in results) == 1
    winner = next(r for r in results if r is not None)
    rows = await db.fetch(
        "SELECT booking_id FROM recipient_nights WHERE care_recipient_id = $1", elder
    )
    assert [r["booking_id"] for r in rows] == [winner] * 5
    assert await db.fetchval("SELECT count(*) FROM bed_nights") == 5


async def test_many_stays_of_one_elder_racing_leave_no_night_twice(
    database_url: str, db: Any
) -> None:
    beds = [await _bed(db)]
    for label in range(7):
        beds.append(
            await db.fetchval(
                "INSERT INTO beds (facility_id, kind, label, sex_rule, nightly_price) SELECT "
                "facility_id, 'respite', $2, 'any', 20000 FROM beds WHERE id = $1 RETURNING id",
                beds[0],
                f"2{label}",
            )
        )
    elder = await _elder(db, beds[0])
    barrier = asyncio.Barrier(len(beds))
    results = await asyncio.gather(
        *(_book(database_url, bed, i, 3, barrier, elder) for i, bed in enumerate(beds))
    )
    won = [i for i, r in enumerate(results) if r is not None]
    nights = [i + k for i in won for k in range(3)]
    assert won and len(nights) == len(set(nights)), "the elder sleeps in two beds a night"
    ledger = await db.fetchval(
        "SELECT count(*) FROM recipient_nights WHERE care_recipient_id = $1", elder
    )
    assert ledger == len(nights)


async def test_a_second_live_night_of_an_elder_is_refused_whoever_writes_it(
    database_url: str, db: Any
) -> None:
    bed = await _bed(db)
    elder = await _elder(db, bed)
    booking = await _book(database_url, bed, 0, 2, asyncio.Barrier(1), elder)
    with pytest.raises(asyncpg.UniqueViolationError):
        await db.execute(
            "INSERT INTO recipient_nights (care_recipient_id, night, booking_id) "
            "VALUES ($1, $2, $3)",
            elder,
            night(1),
            booking,
        )


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
