"""The outbox: a referral's change and its event are committed together or not at all, and
bookings that belong to no referral write none. Booking tells referrals through its
listeners, inside its own transaction; the booking's changes are made through the API, on
the suite's clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from respite.auth.model import Principal
from respite.booking.events import BookingChange
from respite.booking.model import Booking
from respite.clock import ManualClock
from respite.db import Pool, create_pool
from respite.inventory.profile import FacilityContact
from respite.referral.listener import ReferralListener
from respite.referral.outbox import Step, change_referral, lock_referral
from respite.settings import Settings
from tests import builders
from tests.conftest import MakeToken
from tests.e2e.test_problems import assert_problem


@pytest.fixture
async def pool(settings: Settings, database_url: str) -> AsyncIterator[Pool]:
    pool = await create_pool(settings, database_url)
    try:
        yield pool
    finally:
        await pool.close()


async def booked_referral(db: Any, make_token: MakeToken, *, endpoints: int = 1) -> dict[str, Any]:
    today = builders.today()
    hospital = await builders.hospital(db)
    hospital_principal = await builders.principal(db, "hospital", hospital_id=hospital)
    facility = await builders.facility(db)
    _, staff = await make_token("staff", facility_id=facility)
    bed = await builders.bed(db, facility)
    recipient = await builders.recipient(db, hospital_id=hospital)
    booking = await builders.booking(
        db, bed, today, today + timedelta(days=3), recipient_id=recipient
    )
    await db.execute("UPDATE bookings SET hospital_id = $1 WHERE id = $2", hospital, booking)
    referral = await db.fetchval(
        "INSERT INTO referrals (hospital_id, care_recipient_id, kind, discharge_date, nights,"
        " contact_name, created_by, status, booking_id, facility_id)"
        " VALUES ($1, $2, 'respite', $3, 3, 'Zhou', $4, 'booked', $5, $6) RETURNING id",
        hospital,
        recipient,
        today,
        hospital_principal,
        booking,
        facility,
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
        "staff": staff,
        "hospital": Principal(
            id=hospital_principal, role="hospital", name="HIS", hospital_id=hospital
        ),
    }


async def test_a_booking_change_and_its_event_are_one_transaction(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken, clock: ManualClock
) -> None:
    scene = await booked_referral(db, make_token, endpoints=2)
    checked_in = await client.post(
        f"/v1/bookings/{scene['booking']}/check-in", headers=scene["staff"]
    )
    assert checked_in.status_code == 200, checked_in.text
    booking_tx = await db.fetchval(
        "SELECT xmin::text FROM bookings WHERE id = $1", scene["booking"]
    )
    event = await db.fetchrow("SELECT id, type, created_at, xmin::text AS tx FROM webhook_events")
    assert (event["type"], event["tx"]) == ("booking.checked_in", booking_tx)
    assert event["created_at"] == clock.now()  # dated by the app's clock
    referral = await db.fetchrow(
        "SELECT status, xmin::text AS tx FROM referrals WHERE id = $1", scene["referral"]
    )
    assert (referral["status"], referral["tx"]) == ("admitted", booking_tx)
    deliveries = await db.fetch("SELECT endpoint_id, xmin::text AS tx FROM webhook_deliveries")
    assert len(deliveries) == 2 and {d["tx"] for d in deliveries} == {booking_tx}


async def test_a_change_rolled_back_leaves_neither_status_nor_event(
    db: Any, pool: Pool, make_token: MakeToken, clock: ManualClock
) -> None:
    scene = await booked_referral(db, make_token)

    async def change_then_fail() -> None:
        async with pool.acquire() as conn, conn.transaction():
            referral = await lock_referral(conn, scene["hospital"], scene["referral"])
            step = Step(trigger="booking_cancelled", event="booking.cancelled")
            await change_referral(conn, scene["hospital"], referral, step, clock.now())
            raise RuntimeError("the booking's own write failed after the event was written")

    with pytest.raises(RuntimeError):
        await change_then_fail()
    assert await db.fetchval("SELECT count(*) FROM webhook_events") == 0
    assert await db.fetchval("SELECT count(*) FROM webhook_deliveries") == 0
    assert await db.fetchval("SELECT status FROM referrals") == "booked"


async def test_an_illegal_step_of_the_referral_rolls_the_booking_change_back(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    scene = await booked_referral(db, make_token)
    await db.execute("UPDATE referrals SET status = 'completed' WHERE id = $1", scene["referral"])
    refused = await client.post(f"/v1/bookings/{scene['booking']}/check-in", headers=scene["staff"])
    problem = assert_problem(refused, 409, "referral-step-not-allowed")
    assert problem["referral_id"] == scene["referral"]
    assert (problem["current_status"], problem["step"]) == ("completed", "check_in")
    assert problem["allowed_steps"] == []
    assert await db.fetchval("SELECT status FROM bookings") == "confirmed"
    assert await db.fetchval("SELECT count(*) FROM webhook_events") == 0


async def test_bookings_of_no_referral_write_no_event(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    today = builders.today()
    facility = await builders.facility(db)
    _, staff = await make_token("staff", facility_id=facility)
    bed = await builders.bed(db, facility)
    booking = await builders.booking(db, bed, today, today + timedelta(days=2))
    for step in ("check-in", "check-out"):
        answer = await client.post(f"/v1/bookings/{booking}/{step}", headers=staff)
        assert answer.status_code == 200, answer.text
    assert await db.fetchval("SELECT status FROM bookings") == "checked_out"
    assert await db.fetchval("SELECT count(*) FROM webhook_events") == 0


async def test_an_event_with_no_endpoint_yet_is_kept_for_reading(
    client: httpx.AsyncClient, db: Any, make_token: MakeToken
) -> None:
    scene = await booked_referral(db, make_token, endpoints=0)
    answer = await client.post(f"/v1/bookings/{scene['booking']}/no-show", headers=scene["staff"])
    assert answer.status_code == 200, answer.text
    event = await db.fetchrow("SELECT type, body FROM webhook_events")
    assert event["type"] == "booking.no_show" and '"reason":"no_show"' in event["body"]
    assert await db.fetchval("SELECT count(*) FROM webhook_deliveries") == 0
    referral = await db.fetchrow("SELECT status, booking_id FROM referrals")
    assert (referral["status"], referral["booking_id"]) == ("cancelled", scene["booking"])


async def _booking(db: Any, booking_id: int) -> Booking:
    row = await db.fetchrow(
        "SELECT b.id, b.bed_id, bd.label, b.facility_id, f.name, b.care_recipient_id,"
        " b.check_in, b.check_out, b.hospital_id, b.booked_by, b.created_at"
        " FROM bookings b JOIN beds bd ON bd.id = b.bed_id"
        " JOIN facilities f ON f.id = b.facility_id WHERE b.id = $1",
        booking_id,
    )
    return Booking(
        id=row["id"],
        bed_id=row["bed_id"],
        bed_label=row["label"],
        facility_id=row["facility_id"],
        facility=FacilityContact(id=row["facility_id"], name=row["name"], address="", phone=""),
        care_recipient_id=row["care_recipient_id"],
        check_in=row["check_in"],
        check_out=row["check_out"],
        nights=(row["check_out"] - row["check_in"]).days,
        status="cancelled",
        nightly_price=20000,
        total_price=20000 * (row["check_out"] - row["check_in"]).days,
        currency="CNY",
        policy_code=None,
        policy_version=None,
        override_reason=None,
        overrides=(),
        hold_id=None,
        hospital_id=row["hospital_id"],
        booked_by=row["booked_by"],
        created_at=row["created_at"],
        updated_at=row["created_at"],
        checked_in_at=None,
        checked_out_at=None,
        cancelled_at=row["created_at"],
        cancel_reason="went home",
    )


async def test_the_listener_reopens_a_referral_whose_booking_is_cancelled(
    db: Any, pool: Pool, make_token: MakeToken, clock: ManualClock
) -> None:
    """What booking tells ``deps.listeners`` in its transaction: the referral is open again,
    placed nowhere, and its event is dated by the listener's clock."""
    scene = await booked_referral(db, make_token)
    listener = ReferralListener(clock)
    change = BookingChange(
        booking=await _booking(db, scene["booking"]),
        event="booking.cancelled",
        principal=scene["hospital"],
        reason="went home",
    )
    async with pool.acquire() as conn, conn.transaction():
        await listener.booking_changed(conn, change)
    referral = await db.fetchrow("SELECT status, booking_id, facility_id FROM referrals")
    assert tuple(referral) == ("open", None, None)
    event = await db.fetchrow("SELECT type, created_at, body FROM webhook_events")
    assert (event["type"], event["created_at"]) == ("booking.cancelled", clock.now())
    assert '"reason":"went home"' in event["body"]
