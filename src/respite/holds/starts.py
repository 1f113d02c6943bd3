"""Every hold placed, in PostgreSQL: the start that ``ends.py``'s ends are counted against.

A hold's row is written in the transaction that places it, so only holds that were placed
for good have one. The operators' figures (``respite.figures``) count holds placed from these
rows, and of those how many were confirmed or released (``ended_holds``) or expired: reached
their maximum age unconfirmed and unreleased, after which their token confirms nothing. The
purge folds old rows into ``hold_tally`` (``respite.retention``).
"""

from __future__ import annotations

from datetime import datetime

from respite.db import Conn

__all__ = ["START_HOLD", "start_hold"]

# $1 hold id, $2 when its token stops confirming.
START_HOLD = "INSERT INTO hold_starts (hold_id, max_expires_at) VALUES ($1, $2)"


async def start_hold(conn: Conn, hold_id: str, max_expires_at: datetime) -> None:
    """Record, in the caller's transaction, that the hold is placed."""
    await conn.execute(START_HOLD, hold_id, max_expires_at)
