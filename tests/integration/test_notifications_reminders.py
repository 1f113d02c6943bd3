"""Reminders three days and one day before check-in, by the facility's local date, written by
the worker's scan: once each, never for a cancelled stay, never once their day has passed,
and never for a stay staff booked for themselves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from respite.clock import ManualClock
from respite.db import Pool, create_pool
from respite.notifications.worker import NotificationWorker
from respite.settings import Settings
from tests import builders

CHECK_IN = date(2027, 6, 10)


@pytest.fixture
async def pool(settings: Settings, database_url: str) -> AsyncIterator[Pool]:
    pool = await create_pool(settings, database_url)
    try:
        yield pool
    finally:
        await pool.close()


async def stay(
    db: Any, *, booker: str = "family", timezone: str = "Asia/Shanghai", status: str = "confirmed"
) -> tuple[int, int]:
    """A booking of a stay from CHECK_IN, made by a principal of ``booker``'s role."""
    facility = await builders.facility(db, timezone=timezone)
    bed = await builders.bed(db, facility)
    principal = await builders.principal(
        db, booker, facility_id=facility if booker == "staff" else None
    )
    elder = await builders.recipient(db, facility_id=facility)
    booking = await db.fetchval(
        "INSERT INTO bookings (bed_id, facility_id, care_recipient_id, check_in, check_out,"
        " status, nightly_price, total_price, booked_by) VALUES ($1, $2, $3, $4, $5, $6, 100,"
        " 300, $7) RETURNING id",
        bed,
        facility,
        elder,
        CHECK_IN,
        CHECK_IN + timedelta(days=3),
        status,
        principal,
    )
    return booking, principal


async def keys(db: Any, principal: int) -> list[str]:
    rows = await db.fetch(
        "SELECT dedupe_key FROM notifications WHERE principal_id = $1 ORDER BY id", principal
    )
    return [row["dedupe_key"] for row in rows]


def local(day: date, hour: int, timezone: str = "Asia/Shanghai") -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(timezone))


async def test_a_stay_is_reminded_three_days_and_one_day_before_once_each(
    db: Any, pool: Pool, settings: Settings, clock: ManualClock
) -> None:
    booking, family = await stay(db)
    cancelled, other = await stay(db, status="cancelled")
    by_staff, staff = await stay(db, booker="staff")
    worker = NotificationWorker(pool, settings, clock=clock)
    clock.set(local(CHECK_IN - timedelta(days=4), 23))
    assert await worker.remind() == 0
    clock.set(local(CHECK_IN - timedelta(days=3), 0))
    assert await worker.remind() == 1
    clock.set(local(CHECK_IN - timedelta(days=3), 20))
    assert await worker.remind() == 0  # once
    clock.set(local(CHECK_IN - timedelta(days=2), 9))
    assert await worker.remind() == 0
    clock.set(local(CHECK_IN - timedelta(days=1), 9))
    assert await worker.remind() == 1
    assert await worker.remind() == 0
    assert await keys(db, family) == [f"reminder:3:{booking}", f"reminder:1:{booking}"]
    assert await keys(db, other) == []
    assert await keys(db, staff) == []
    facts = await db.fetchval(
        "SELECT facts FROM notifications WHERE dedupe_key = $1", f"reminder:1:{booking}"
    )
    assert facts["days_before"] == 1 and facts["check_in"] == CHECK_IN.isoformat()
    assert by_staff and cancelled


async def test_a_reminder_whose_day_has_passed_is_never_sent_late(
    db: Any, pool: Pool, settings: Settings, clock: ManualClock
) -> None:
    booking, family = await stay(db)
    worker = NotificationWorker(pool, settings, clock=clock)
    # Every process was down on the third day before: only the one-day reminder comes.
    clock.set(local(CHECK_IN - timedelta(days=2), 8))
    assert await worker.remind() == 0
    clock.set(local(CHECK_IN - timedelta(days=1), 8))
    assert await worker.remind() == 1
    assert await keys(db, family) == [f"reminder:1:{booking}"]


async def test_the_facility_date_decides_not_the_utc_date(
    db: Any, pool: Pool, settings: Settings, clock: ManualClock
) -> None:
    booking, family = await stay(db, timezone="Pacific/Auckland")
    worker = NotificationWorker(pool, settings, clock=clock)
    # 06:00 in Auckland, three days before: still the day before that in UTC.
    morning = local(CHECK_IN - timedelta(days=3), 6, "Pacific/Auckland")
    assert morning.astimezone(ZoneInfo("UTC")).date() == CHECK_IN - timedelta(days=4)
    clock.set(morning)
    assert await worker.remind() == 1
    assert await keys(db, family) == [f"reminder:3:{booking}"]
