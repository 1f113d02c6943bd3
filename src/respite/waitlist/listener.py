"""How the waiting list hears of bookings: a ``booking.events.StayListener``.

A booking that covers a live entry's need — the same elder, a bed of the entry's kind at one
of its facilities, within its window, at least its fewest nights — ends that entry
(``booked``), whichever way it was booked (an accepted offer, a hold confirmed, a walk-in).
An offer still open for such an entry is withdrawn, and its nights go to the next in line.
Freed nights are not heard here: ``respite.nights`` queues them in the freeing transaction.
"""

from __future__ import annotations

from respite.auth.model import Principal
from respite.booking.events import BookingChange, HeldStay
from respite.clock import Clock
from respite.db import Conn
from respite.holds.store import HoldStore
from respite.waitlist import queries as q
from respite.waitlist.offers import end_offer, release_offer_hold

__all__ = ["WaitlistListener"]

# The open offer of an entry, unless another transaction is ending it right now (then that
# one decides it; waiting here could deadlock with it, since it locks the offer first).
LOCK_OPEN_OFFER_NOWAIT = q.LOCK_OPEN_OFFER_OF_ENTRY.rstrip() + " SKIP LOCKED"


class WaitlistListener:
    def __init__(self, clock: Clock, holds: HoldStore) -> None:
        self.clock = clock
        self.holds = holds

    async def hold_requested(
        self, conn: Conn, principal: Principal, referral_id: int, care_recipient_id: int
    ) -> None:
        return None

    async def hold_placed(self, conn: Conn, principal: Principal, held: HeldStay) -> None:
        return None

    async def booking_changed(self, conn: Conn, change: BookingChange) -> None:
        if change.event != "booking.confirmed":
            return
        booking = change.booking
        kind = await conn.fetchval("SELECT kind FROM beds WHERE id = $1", booking.bed_id)
        covered = await conn.fetch(
            q.SELECT_COVERED_ENTRIES,
            booking.care_recipient_id,
            kind,
            booking.facility_id,
            booking.check_in,
            booking.check_out,
        )
        now = self.clock.now()
        for entry in covered:
            offer = await conn.fetchrow(LOCK_OPEN_OFFER_NOWAIT, entry["id"])
            if offer is not None and offer["hold_id"] == booking.hold_id:
                continue  # the offer being accepted: accepting ends it and its entry
            if offer is not None:
                await end_offer(conn, offer, "withdrawn", now, change.principal)
                # Now, not after the commit this listener cannot see: if the booking rolls
                # back, the offer stands and the sweep holds its bed again.
                await release_offer_hold(self.holds, offer)
            await conn.execute(q.END_ENTRY, entry["id"], "booked", now, booking.id)
