"""How holds end for good, in PostgreSQL: confirmed or released.

Redis forgets holds (they expire, it may restart), and an expired hold may still be confirmed
while its bed is free — so a release cannot be left to Redis alone: it is recorded here, and a
released hold's token confirms nothing even while the bed is free. Confirming and releasing
the same hold each write its row in their own transaction; the primary key makes them take
turns, and the second learns how the first ended it. A row matters until the hold's maximum
age, after which its token confirms nothing anyway.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, cast

from respite.db import Conn

__all__ = ["END_HOLD", "SELECT_HOLD_END", "Ended", "end_hold", "how_ended"]

Ended = Literal["confirmed", "released"]

# $1 hold id, $2 how it ends, $3 when its token stops confirming. Waits for a transaction
# ending the same hold right now; a row afterwards means it ended first.
END_HOLD = """
INSERT INTO ended_holds (hold_id, ended, max_expires_at) VALUES ($1, $2, $3)
ON CONFLICT (hold_id) DO NOTHING
"""

SELECT_HOLD_END = "SELECT ended FROM ended_holds WHERE hold_id = $1"


async def end_hold(
    conn: Conn, hold_id: str, ended: Ended, max_expires_at: datetime
) -> Ended | None:
    """Record, in the caller's transaction, that the hold ends as ``ended``; None if it did
    now, else how it had ended before."""
    status = await conn.execute(END_HOLD, hold_id, ended, max_expires_at)
    if status.endswith(" 1"):
        return None
    # A new statement, so it sees the row of the transaction the insert waited for.
    earlier = await conn.fetchval(SELECT_HOLD_END, hold_id)
    assert earlier is not None, "an insert was refused for a row that is not there"
    return cast(Ended, earlier)


async def how_ended(conn: Conn, hold_id: str) -> Ended | None:
    """How the hold ended for good, or None: still live, expired, or never there."""
    ended = await conn.fetchval(SELECT_HOLD_END, hold_id)
    return None if ended is None else cast(Ended, ended)
