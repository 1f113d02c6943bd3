"""Reminders of a stay: three days and one day before check-in, by the facility's date.

The worker scans now and then (``notify_reminder_seconds``). A confirmed booking of a family
or a hospital whose check-in is three (or one) days after its facility's today is reminded,
once: the key ``reminder:<days>:<booking>`` makes a second scan, or a second process, write
nothing. Only the day itself counts: a booking made two days before its check-in gets the
one-day reminder, never a late three-day one, and a scan that missed a day (every process
down) does not send it afterwards. A cancelled booking is no longer confirmed, so it is never
reminded.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final, Literal

from respite.db import Pool
from respite.notifications import queries as q
from respite.notifications.model import BookingReminder
from respite.notifications.outbox import notify

__all__ = ["REMINDER_DAYS", "remind_due"]

REMINDER_DAYS: Final[tuple[Literal[1, 3], ...]] = (3, 1)
# Every timezone's date is within a day of UTC's.
_ANY_ZONE: Final = timedelta(days=1)
# Bounds one scan: a backlog beyond it waits for the next.
_MAX_ROUNDS: Final = 50


async def remind_due(pool: Pool, now: datetime, batch: int) -> int:
    """Write every reminder due at ``now``, ``batch`` bookings a transaction; how many."""
    written = 0
    utc_today = now.date()
    for days in REMINDER_DAYS:
        low = utc_today - _ANY_ZONE + timedelta(days=days)
        high = utc_today + _ANY_ZONE + timedelta(days=days)
        for _ in range(_MAX_ROUNDS):
            async with pool.acquire() as conn, conn.transaction():
                rows = await conn.fetch(q.DUE_REMINDERS, days, low, high, now, batch)
                for row in rows:
                    facts = BookingReminder(
                        booking_id=row["id"],
                        days_before=days,
                        facility_name=row["facility_name"],
                        facility_address=row["address"],
                        facility_phone=row["phone"],
                        bed_label=row["label"],
                        check_in=row["check_in"],
                        check_out=row["check_out"],
                    )
                    await notify(
                        conn,
                        principal_id=row["booked_by"],
                        kind="booking.reminder",
                        facts=facts,
                        key=f"reminder:{days}:{row['id']}",
                        now=now,
                    )
            written += len(rows)
            if len(rows) < batch:
                break
    return written
