"""Referrals nobody booked by their discharge date expire, each with its ``referral.expired``
event. "By their discharge date" is by the referral's own today (``outbox.referral_today``):
its facility's local date once a bed is held for it, the default timezone's before.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Final

from respite.clock import local_today
from respite.db import Pool
from respite.referral import queries as q
from respite.referral.outbox import Step, change_referral, locked, referral_today

__all__ = ["EXPIRE_BATCH", "expire_due"]

EXPIRE_BATCH: Final = 100
# No place on Earth has a later date than UTC+14 (POSIX names count the offset the other way).
_LATEST_ZONE: Final = "Etc/GMT-14"
_EXPIRED = Step(
    trigger="expire", event="referral.expired", reason="no booking by the discharge date"
)


async def expire_due(pool: Pool, now: datetime) -> int:
    """Expire every referral still open or held after its discharge date; how many."""
    latest = local_today(_LATEST_ZONE, now)
    after, expired = (date.min, 0), 0
    while True:
        rows = await pool.fetch(q.SELECT_EXPIRY_CANDIDATES, latest, *after, EXPIRE_BATCH)
        due = [r["id"] for r in rows if r["discharge_date"] < referral_today(r["timezone"], now)]
        if due:
            expired += await _expire(pool, due, now)
        if len(rows) < EXPIRE_BATCH:
            return expired
        after = (rows[-1]["discharge_date"], rows[-1]["id"])


async def _expire(pool: Pool, referral_ids: list[int], now: datetime) -> int:
    count = 0
    async with pool.acquire() as conn, conn.transaction():
        for row in await conn.fetch(q.LOCK_EXPIRING, referral_ids):
            # Held somewhere else meanwhile, whose date is not past discharge yet: not due.
            if row["discharge_date"] < referral_today(row["timezone"], now):
                await change_referral(conn, None, locked(row), _EXPIRED, now)
                count += 1
    return count
