"""The outbox: a referral's change and its event are committed together or not at all, and
bookings that belong to no referral write none."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from respite.auth.model import Principal
from respite.booking import service as booking_service
from respite.db import Pool, create_pool
from respite.errors import ConflictError
from respite.referral.outbox import change_referral, lock_referral
from respite.settings import Settings
from tests import builders

TODAY = builders.today()


@pytest.fixture
async def pool(settings: Settings, database_url: str) -> AsyncIterator[Pool]:
    pool = await create_pool(settings, database_url)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture(autouse=True)
def today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(booking_service, "today_at", lambda _tz: TODAY)


async def booked_referral(db: Any, *, endpoints: int = 1) -> dict[str, Any]:
    hospital = await builders.hospital(db)
    hospital_principal = await builders.principal(db, "hospital", hospital_id=hospital)
    facility = await builders.facility(db)
    staff = await builders.principal(db, "staff", facility_id=facility)
    bed = await builders.bed(db, facility)
    recipient = await builders.recipient(db, hospital_id=hospital)
    booking = await builders.booking(
        db, bed, TODAY, TODAY + timedelta(days=3), recipient_id=recipient
    )
    await db.execute("UPDATE bookings SET hospital_id = $1 WHERE id = $2", hospital, booking)
    referral = await db.fetchval(
        "INSERT INTO referrals (hospital_id, care_recipient_id, kind, discharge_date, nights,"
        " contact_name, created_by, status, booking_id)"
        " VALUES ($1, $2, 'respite', $3, 3, 'Zhou', $4, 'booked', $5) RETURNING id",
        hospital,
        recipient,
        TODAY,
        hospital_principal,
        booking,
    )
    for n in range(endpoints):
        await db.execute(
            "INSERT INTO webhook_endpoints (hospital_id, url, secret, created_by)"
            " VALUES ($1, $2, 'whsec_AAAA', $3)",
            hospital,
            f"https://93.184.215.14/{n}",
            hospital_principal,
        )
    return {
        "referral": referral,
        "booking": booking,
        "facility": facility,
        "staff": Principal(id=staff, role="staff", name="staff", facility_id=facility),
        "hospital": Principal(
            id=hospital_principal, role="hospital", name="HIS", hospital_id=hospital
        ),
    }


async def test_a_booking_change_and_its_event_are_one_transaction(db: Any, pool: Pool) -> None:
    scene = await booked_referral(db, endpoints=2)
    await booking_service.check_in(pool, scene["staff"], scene["booking"])
    booking_tx = await db.fetchval(
        "SELECT xmin::text FROM bookings WHERE id = $1", scene["booking"]
    )
    event = await db.fetchrow("SELECT id, type, xmin::text AS tx FROM webhook_events")
    assert (event["type"], event["tx"]) == ("booking.checked_in", booking_tx)
    referral = await db.fetchrow(
        "SELECT status, xmin::text AS tx FROM referrals WHERE id = $1", scene["referral"]
    )
    assert (referral["status"], referral["tx"]) == ("admitted", booking_tx)
    deliveries = await db.fetch("SELECT endpoint_id, xmin::text AS tx FROM webhook_deliveries")
    assert len(deliveries) == 2 and {d["tx"] for d in deliveries} == {booking_tx}


async def test_a_change_rolled_back_leaves_neither_status_nor_event(db: Any, pool: Pool) -> None:
    scene = await booked_referral(db)

    async def change_then_fail() -> None:
        async with pool.acquire() as conn, conn.transaction():
            referral = await lock_referral(conn, scene["hospital"], scene["referral"])
            await change_referral(
                conn, scene["hospital"], referral, ("booking_cancelled", "booking.cancelled")
            )
            raise RuntimeError("the booking's own write failed after the event was written")

    with pytest.raises(RuntimeError):
        await change_then_fail()
    assert await db.fetchval("SELECT count(*) FROM webhook_events") == 0
    assert await db.fetchval("SELECT count(*) FROM webhook_deliveries") == 0
    assert await db.fetchval("SELECT status FROM referrals") == "booked"


async def test_an_illegal_step_of_the_referral_rolls_the_booking_change_back(
    db: Any, pool: Pool
) -> None:
    scene = await booked_referral(db)
    await db.execute("UPDATE referrals SET status = 'completed' WHERE id = $1", scene["referral"])
    with pytest.raises(ConflictError, match="completed"):
        await booking_service.check_in(pool, scene["staff"], scene["booking"])
    assert await db.fetchval("SELECT status FROM bookings") == "confirmed"
    assert await db.fetchval("SELECT count(*) FROM webhook_events") == 0


async def test_bookings_of_no_referral_write_no_event(db: Any, pool: Pool) -> None:
    facility = await builders.facility(db)
    staff = await builders.principal(db, "staff", facility_id=facility)
    bed = await builders.bed(db, facility)
    booking = await builders.booking(db, bed, TODAY, TODAY + timedelta(days=2))
    principal = Principal(id=staff, role="staff", name="s", facility_id=facility)
    await booking_service.check_in(pool, principal, booking)
    await booking_service.check_out(pool, principal, booking)
    assert await db.fetchval("SELECT status FROM bookings") == "checked_out"
    assert await db.fetchval("SELECT count(*) FROM webhook_events") == 0


async def test_an_event_with_no_endpoint_yet_is_kept_for_reading(db: Any, pool: Pool) -> None:
    scene = await booked_referral(db, endpoints=0)
    await booking_service.mark_no_show(pool, scene["staff"], scene["booking"])
    event = await db.fetchrow("SELECT type, body FROM webhook_events")
    assert event["type"] == "booking.no_show" and '"reason":"no_show"' in event["body"]
    assert await db.fetchval("SELECT count(*) FROM webhook_deliveries") == 0
    referral = await db.fetchrow("SELECT status, booking_id FROM referrals")
    assert (referral["status"], referral["booking_id"]) == ("cancelled", scene["booking"])
