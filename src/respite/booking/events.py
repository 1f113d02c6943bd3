"""What happens to stays, told to whoever listens: the seam between booking and its clients.

Booking and holds sit below referrals (and, later, the waiting list and notifications): they
never import them. Instead every ``StayListener`` in ``deps.listeners`` (wired in
``create_app``) is told, inside the same transaction, when a hold is asked for or placed and
when a booking is made or moves on. A listener may refuse by raising a ``RespiteError``; the
caller then rolls everything back.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal, Protocol

from msgspec import Struct

from respite.auth.model import Principal
from respite.booking.model import Booking
from respite.db import Conn

__all__ = ["BookingChange", "BookingEventType", "HeldStay", "StayListener"]

BookingEventType = Literal[
    "booking.confirmed",
    "booking.cancelled",
    "booking.checked_in",
    "booking.checked_out",
    "booking.no_show",
    "booking.changed",
]


class BookingChange(Struct, frozen=True, kw_only=True):
    """A booking was made (``booking.confirmed``), moved through its life cycle, or had its
    stay changed (``booking.changed``: its dates or its bed)."""

    booking: Booking
    event: BookingEventType
    principal: Principal
    referral_id: int | None = None
    """The referral a new booking is for (set only with ``booking.confirmed``)."""
    reason: str | None = None


class HeldStay(Struct, frozen=True, kw_only=True):
    """A hold just placed, as listeners need it."""

    hold_id: str
    bed_id: int
    bed_label: str
    facility_id: int
    care_recipient_id: int
    check_in: date
    check_out: date
    expires_at: datetime
    referral_id: int | None


class StayListener(Protocol):
    async def hold_requested(
        self, conn: Conn, principal: Principal, referral_id: int, care_recipient_id: int
    ) -> None:
        """Before a hold for ``referral_id`` is placed: raise to refuse it."""
        ...

    async def hold_placed(self, conn: Conn, principal: Principal, held: HeldStay) -> None: ...

    async def booking_changed(self, conn: Conn, change: BookingChange) -> None: ...
