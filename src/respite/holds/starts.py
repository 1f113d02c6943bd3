"""Every hold placed, in PostgreSQL: the start that ``ends.py``'s ends are counted against.

A hold's row is written in the transaction that places it, so only holds that were placed
for good have one. The operators' figures (``respite.figures``) count holds placed from these
rows, and of those how many were confirmed or released (``ended_holds``) or expired: reached
their maximum age unconfirmed and unreleased, after which their token confirms nothing. The
purge folds old rows into ``hold_tally`` (``respite.retention``).

A row also keeps the hold's bed and nights and when it lapses unless extended (``lapse_at``),
so that the waiting list's sweep (``respite.waitlist.sweep``) sees a hold that ends without
being confirmed or released, and offers its nights to whoever waits for them.
"""

from __future__ import annotations

from datetime import date, datetime

from respite.db import Conn

__all__ = ["START_HOLD", "start_hold"]

# $1 hold id, $2 when its token stops confirming, $3 when it lapses unless extended, $4 bed,
# $5 and $6 its nights.
START_HOLD = """
INSERT INTO hold_starts (hold_id, max_expires_at, lapse_at, bed_id, check_in, check_out)
VALUES ($1, $2, $3, $4, $5, $6)
"""


async def start_hold(
    conn: Conn,
    hold_id: str,
    *,
    max_expires_at: datetime,
    expires_at: datetime,
    bed_id: int,
    check_in: date,
    check_out: date,
) -> None:
    """Record, in the caller's transaction, that the hold is placed."""
    await conn.execute(START_HOLD, hold_id, max_expires_at, expires_at, bed_id, check_in, check_out)
