"""How referrals hear of holds and bookings: a ``booking.events.StayListener``.

Booking and holds never import referrals; ``create_app`` puts a ``ReferralListener`` in
``deps.listeners``, and booking tells it, inside its own transaction, of every hold asked for
or placed and every booking made or moved on. What the listener writes (the referral's new
status, its audit entry, its event) commits or rolls back with the booking's change.
"""

from __future__ import annotations

from respite.auth.model import Principal
from respite.booking.events import BookingChange, HeldStay
from respite.clock import Clock
from respite.db import Conn
from respite.referral.outbox import check_hold_request, record_booking_change, record_hold

__all__ = ["ReferralListener"]


class ReferralListener:
    """Moves each hospital's referral along with the holds and bookings made for it; its
    events are dated by ``clock``, the app's one clock."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    async def hold_requested(
        self, conn: Conn, principal: Principal, referral_id: int, care_recipient_id: int
    ) -> None:
        """Refuses a hold for another hospital's referral (404), one no longer waiting for a
        bed (409), or one for another care recipient (422); else locks the referral."""
        await check_hold_request(conn, principal, referral_id, care_recipient_id)

    async def hold_placed(self, conn: Conn, principal: Principal, held: HeldStay) -> None:
        await record_hold(conn, principal, held, self.clock.now())

    async def booking_changed(self, conn: Conn, change: BookingChange) -> None:
        await record_booking_change(conn, change, self.clock.now())
