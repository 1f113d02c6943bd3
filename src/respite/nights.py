"""The per-night ledger that enforces invariant 1: no two claims on one bed share a night.

Bookings and blocks both claim their nights here; the primary key ``(bed_id, night)`` refuses a
second claim whoever makes it. Nights are inserted in ascending order, so two transactions
racing for overlapping stays on one bed wait on each other in the same order and never deadlock
(DESIGN.md §6). Callers run these inside their own transaction.
"""

from __future__ import annotations

from datetime import date

import msgspec

from respite.db import Conn

__all__ = ["Claim", "NightTaken", "claim_nights", "first_claim", "free_nights"]


class Claim(msgspec.Struct, frozen=True):
    """Who holds a night: exactly one of booking_id or block_id."""

    night: date
    booking_id: int | None
    block_id: int | None


class NightTaken(Exception):
    def __init__(self, claim: Claim) -> None:
        super().__init__(f"night {claim.night} is already claimed")
        self.claim = claim


CLAIM_NIGHTS = """
INSERT INTO bed_nights (bed_id, night, booking_id, block_id)
SELECT $1, night::date, $4, $5
FROM generate_series($2::date, $3::date - 1, interval '1 day') AS night
ORDER BY night
ON CONFLICT (bed_id, night) DO NOTHING
"""

SELECT_FIRST_CLAIM = """
SELECT night, booking_id, block_id
FROM bed_nights
WHERE bed_id = $1 AND night >= $2 AND night < $3
  AND NOT (booking_id IS NOT DISTINCT FROM $4 AND block_id IS NOT DISTINCT FROM $5)
ORDER BY night
LIMIT 1
"""

FREE_NIGHTS = """
DELETE FROM bed_nights
WHERE bed_id = $1 AND night >= $2 AND night < $3
  AND (booking_id = $4 OR block_id = $5)
"""


async def claim_nights(
    conn: Conn,
    bed_id: int,
    check_in: date,
    check_out: date,
    *,
    booking_id: int | None = None,
    block_id: int | None = None,
) -> None:
    """Claim every night of ``[check_in, check_out)`` or raise NightTaken naming a holder.

    On NightTaken the caller must roll back: the nights that were free are claimed by now.
    """
    status = await conn.execute(CLAIM_NIGHTS, bed_id, check_in, check_out, booking_id, block_id)
    inserted = int(status.rsplit(" ", 1)[1])
    if inserted != (check_out - check_in).days:
        claim = await first_claim(
            conn, bed_id, check_in, check_out, booking_id=booking_id, block_id=block_id
        )
        assert claim is not None, "a night was refused but no claim holds it"
        raise NightTaken(claim)


async def first_claim(
    conn: Conn,
    bed_id: int,
    check_in: date,
    check_out: date,
    *,
    booking_id: int | None = None,
    block_id: int | None = None,
) -> Claim | None:
    """The earliest claim in the stay other than the given booking's or block's own."""
    row = await conn.fetchrow(SELECT_FIRST_CLAIM, bed_id, check_in, check_out, booking_id, block_id)
    return None if row is None else Claim(row["night"], row["booking_id"], row["block_id"])


async def free_nights(
    conn: Conn,
    bed_id: int,
    check_in: date,
    check_out: date,
    *,
    booking_id: int | None = None,
    block_id: int | None = None,
) -> int:
    status = await conn.execute(FREE_NIGHTS, bed_id, check_in, check_out, booking_id, block_id)
    return int(status.rsplit(" ", 1)[1])
