"""The per-night ledgers: invariant 1, no two claims on one bed share a night, and invariant 7,
one elder sleeps in one bed a night.

Bookings and blocks claim their bed's nights in ``bed_nights``; the primary key
``(bed_id, night)`` refuses a second claim whoever makes it. A live booking (confirmed or
checked in) also claims its elder's nights in ``recipient_nights``, whose key
``(care_recipient_id, night)`` refuses a second live stay of the elder the same way. Nights are
inserted in ascending order, the elder's before the bed's, so two transactions racing for
overlapping stays wait on each other in the same order and never deadlock (DESIGN.md §6).
Callers run these inside their own transaction.

Every freeing of a bed's nights also writes, in the same transaction, a job for the waiting
list's offer worker (``waitlist_jobs``, the outbox of freed nights) and a ``NOTIFY`` that wakes
it at commit: so no freed night is missed by the waiting list, none is offered before the
change that freed it commits, and a rolled-back change offers nothing. Nights a hold kept
without claiming them (a hold released or lapsed, an offer that ends) are recorded the same
way through ``record_freed``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

import msgspec

from respite.db import Conn

__all__ = [
    "WAITLIST_CHANNEL",
    "Claim",
    "ElderNightTaken",
    "FreedCause",
    "NightTaken",
    "claim_elder_nights",
    "claim_nights",
    "first_claim",
    "first_elder_claim",
    "free_elder_nights",
    "free_nights",
    "record_beds_open",
    "record_freed",
]

FreedCause = Literal[
    "cancelled",
    "checked_out_early",
    "no_show",
    "block_lifted",
    "block_shortened",
    "hold_released",
    "hold_lapsed",
    "bed_added",
    "bed_returned",
    "offer_declined",
    "offer_lapsed",
    "offer_withdrawn",
    "offer_lost",
    "stay_shortened",
    "stay_moved",
]
"""Why nights became free: what the offer worker records with what it makes of them."""

WAITLIST_CHANNEL = "respite_waitlist"
"""The channel the offer workers LISTEN on; a NOTIFY on it is delivered at commit."""

INSERT_FREED = """
WITH job AS (
    INSERT INTO waitlist_jobs (kind, cause, bed_id, from_night, until_night)
    VALUES ('freed', $4, $1, $2, $3)
    RETURNING id
)
SELECT pg_notify('respite_waitlist', id::text) FROM job
"""


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
    cause: FreedCause,
    booking_id: int | None = None,
    block_id: int | None = None,
) -> int:
    """Free the booking's or block's claims in ``[check_in, check_out)``, and tell the waiting
    list (``record_freed``) when any were freed; how many were."""
    status = await conn.execute(FREE_NIGHTS, bed_id, check_in, check_out, booking_id, block_id)
    freed = int(status.rsplit(" ", 1)[1])
    if freed:
        await record_freed(conn, bed_id, check_in, check_out, cause)
    return freed


# A bed that opens (added, or back in service): its next BED_OPEN_NIGHTS nights from the
# facility's today at $2, for the waiting list.
BED_OPEN_NIGHTS = 180
INSERT_BED_OPEN = """
WITH job AS (
    INSERT INTO waitlist_jobs (kind, cause, bed_id, from_night, until_night)
    SELECT 'freed', $3, b.id, (($2::timestamptz) AT TIME ZONE f.timezone)::date,
           (($2::timestamptz) AT TIME ZONE f.timezone)::date + $4::int
    FROM beds b JOIN facilities f ON f.id = b.facility_id
    WHERE b.id = ANY($1::bigint[])
    RETURNING id
)
SELECT pg_notify('respite_waitlist', id::text) FROM job
"""


async def record_beds_open(
    conn: Conn, bed_ids: list[int], now: datetime, cause: FreedCause
) -> None:
    """Queue, in the caller's transaction, the coming nights of beds that just opened (added,
    or returned to service) for the waiting list."""
    if bed_ids:
        await conn.execute(INSERT_BED_OPEN, bed_ids, now, cause, BED_OPEN_NIGHTS)


async def record_freed(
    conn: Conn, bed_id: int, from_night: date, until_night: date, cause: FreedCause
) -> None:
    """Queue, in the caller's transaction, the bed's nights ``[from_night, until_night)`` for
    the waiting list's offer worker, and wake the workers when it commits."""
    await conn.execute(INSERT_FREED, bed_id, from_night, until_night, cause)


# The elder's ledger ---------------------------------------------------------------------------


class ElderNightTaken(Exception):
    """Another live booking of the elder claims ``night``: that booking's stay."""

    def __init__(self, night: date, check_in: date, check_out: date) -> None:
        super().__init__(f"the elder already stays somewhere on the night of {night}")
        self.night = night
        self.check_in = check_in
        self.check_out = check_out


CLAIM_ELDER_NIGHTS = """
INSERT INTO recipient_nights (care_recipient_id, night, booking_id)
SELECT $1, night::date, $4
FROM generate_series($2::date, $3::date - 1, interval '1 day') AS night
ORDER BY night
ON CONFLICT (care_recipient_id, night) DO NOTHING
"""

# The stay of the first other booking that claims one of the elder's nights in [$2, $3).
SELECT_FIRST_ELDER_CLAIM = """
SELECT n.night, b.check_in, b.check_out
FROM recipient_nights n
JOIN bookings b ON b.id = n.booking_id
WHERE n.care_recipient_id = $1 AND n.night >= $2 AND n.night < $3 AND n.booking_id <> $4
ORDER BY n.night
LIMIT 1
"""

FREE_ELDER_NIGHTS = """
DELETE FROM recipient_nights
WHERE care_recipient_id = $1 AND night >= $2 AND night < $3 AND booking_id = $4
"""


async def claim_elder_nights(
    conn: Conn, care_recipient_id: int, check_in: date, check_out: date, *, booking_id: int
) -> None:
    """Claim the elder's nights ``[check_in, check_out)`` for a live booking, or raise
    ElderNightTaken naming the other stay; on it the caller must roll back."""
    status = await conn.execute(
        CLAIM_ELDER_NIGHTS, care_recipient_id, check_in, check_out, booking_id
    )
    if int(status.rsplit(" ", 1)[1]) != (check_out - check_in).days:
        row = await conn.fetchrow(
            SELECT_FIRST_ELDER_CLAIM, care_recipient_id, check_in, check_out, booking_id
        )
        assert row is not None, "an elder's night was refused but no booking holds it"
        raise ElderNightTaken(row["night"], row["check_in"], row["check_out"])


async def first_elder_claim(
    conn: Conn,
    care_recipient_id: int,
    check_in: date,
    check_out: date,
    *,
    excluding_booking: int = 0,
) -> tuple[date, date] | None:
    """The stay (check-in, check-out) of the elder's first live booking (but
    ``excluding_booking``) that claims one of the nights ``[check_in, check_out)``, or None:
    what ``claim_elder_nights`` would refuse, asked before booking."""
    row = await conn.fetchrow(
        SELECT_FIRST_ELDER_CLAIM, care_recipient_id, check_in, check_out, excluding_booking
    )
    return None if row is None else (row["check_in"], row["check_out"])


async def free_elder_nights(
    conn: Conn, care_recipient_id: int, check_in: date, check_out: date, *, booking_id: int
) -> int:
    """Free the booking's claims on its elder's nights in ``[check_in, check_out)``."""
    status = await conn.execute(
        FREE_ELDER_NIGHTS, care_recipient_id, check_in, check_out, booking_id
    )
    return int(status.rsplit(" ", 1)[1])
