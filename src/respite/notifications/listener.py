"""How notifications hear of bookings: a ``booking.events.StayListener``.

``create_app`` puts a ``NotificationListener`` in ``deps.listeners``, beside the referrals'
one. When a booking is made (``booking.confirmed``) or cancelled, the booking's owner — the
account that booked it, if a family or a hospital — is notified, inside the booking's own
transaction: a booking rolled back tells no one. Staff and admins who book at the desk are
not told of their own work. Holds concern no one but the holder, who is looking at them.
"""

from __future__ import annotations

from typing import Final

from respite.auth.model import Principal
from respite.booking.events import BookingChange, HeldStay
from respite.booking.model import Booking
from respite.clock import Clock
from respite.db import Conn
from respite.notifications import queries as q
from respite.notifications.model import BookingCancelled, BookingConfirmed
from respite.notifications.outbox import notify

__all__ = ["NotificationListener"]

_TOLD: Final = frozenset({"family", "hospital"})


class NotificationListener:
    """Tells a booking's owner it is booked or cancelled; dated by ``clock``, the app's."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    async def hold_requested(
        self, conn: Conn, principal: Principal, referral_id: int, care_recipient_id: int
    ) -> None:
        """Never refuses a hold."""

    async def hold_placed(self, conn: Conn, principal: Principal, held: HeldStay) -> None:
        """A hold is no news to its holder."""

    async def booking_changed(self, conn: Conn, change: BookingChange) -> None:
        booking = change.booking
        if change.event not in ("booking.confirmed", "booking.cancelled"):
            return
        owner = booking.booked_by
        role = change.principal.role if change.principal.id == owner else None
        if role is None:
            role = await conn.fetchval(q.SELECT_OWNER_ROLE, owner)
        if role not in _TOLD:
            return
        now = self.clock.now()
        if change.event == "booking.confirmed":
            await notify(
                conn,
                principal_id=owner,
                kind="booking.confirmed",
                facts=_confirmed(booking),
                key=f"booking:{booking.id}:confirmed",
                now=now,
            )
        else:
            await notify(
                conn,
                principal_id=owner,
                kind="booking.cancelled",
                facts=_cancelled(booking),
                key=f"booking:{booking.id}:cancelled",
                now=now,
            )


def _confirmed(booking: Booking) -> BookingConfirmed:
    return BookingConfirmed(
        booking_id=booking.id,
        facility_name=booking.facility.name,
        facility_address=booking.facility.address,
        facility_phone=booking.facility.phone,
        bed_label=booking.bed_label,
        check_in=booking.check_in,
        check_out=booking.check_out,
    )


def _cancelled(booking: Booking) -> BookingCancelled:
    return BookingCancelled(
        booking_id=booking.id,
        facility_name=booking.facility.name,
        facility_phone=booking.facility.phone,
        bed_label=booking.bed_label,
        check_in=booking.check_in,
        check_out=booking.check_out,
    )
